/* app_ssh.c: SSH over TCP for the sensor: the identification line, then the first KEXINIT. */
#include "app.h"
#include <string.h>

static int ssh_detect(const uint8_t *q, size_t m) {
    if (q[0] != 'S') return 0;
    size_t k = m < 4 ? m : 4;
    if (memcmp(q, "SSH-", k) != 0) return 0;
    return m < 4 ? -1 : 1;
}

/* SSH flows keep a per-packet trace (JA4SSH). */
static void ssh_recognised(cp_engine *e, cp_flow *f) {
    f->sum.app |= CP_APP_SSH;
    cp_trace_enable(e, f);
}

static size_t ssh_step(cp_engine *e, cp_flow *f, int dir, const uint8_t *q, size_t m) {
    cp_dir *s = &f->d[dir];
    uint64_t an = 0;
    if (s->stage == 0) {
        size_t lo = 0, ll = 0, used = 0;
        cp_status st = cp_ssh_banner(q, m, &lo, &ll, &used, &an);
        f->anomalies |= an;
        if (st == CP_NEED_MORE) return 0;
        cp_count_anoms(e, an);
        if (st != CP_OK) { e->st.parse_errors++; s->done = 1; return m; }
        cp_out o;
        cp_record *r = cp_rec_begin(e, f, CP_REC_SSH_BANNER, dir, &o, sizeof(cp_text_rec));
        if (r) {
            cp_text_rec t;
            t.text.off = cp_out_put(&o, q + lo, ll, 1);
            t.text.len = o.full ? 0 : (uint16_t)ll;
            memcpy(o.buf, &t, sizeof t);
            cp_rec_commit(e, r, &o, an, 0);
        }
        s->stage = 1;
        if (an & CP_AN(CP_AN_SSH_VERSION1)) s->done = 1;   /* SSH-1.x has no KEXINIT */
        return used;
    }
    size_t used = 0;
    cp_out o;
    cp_record *r = cp_rec_begin(e, f, CP_REC_SSH_KEXINIT, dir, &o, sizeof(cp_kexinit_rec));
    if (!r) { s->done = 1; return m; }
    cp_kexinit_rec k;
    memset(&k, 0, sizeof k);
    cp_status st = cp_ssh_kexinit(q, m, &k, &o, &used, &an);
    f->anomalies |= an;
    if (st == CP_NEED_MORE) return 0;
    cp_count_anoms(e, an);
    s->done = 1;
    if (st != CP_OK) { e->st.parse_errors++; return m; }
    memcpy(o.buf, &k, sizeof k);
    cp_rec_commit(e, r, &o, an, 0);
    return used;
}

const cp_tcp_app cp_app_ssh = { "ssh", ssh_detect, ssh_step, ssh_recognised };
