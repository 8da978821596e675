/* app_http.c: HTTP/1.x request heads for the sensor (bodies skipped, CONNECT followed by detection again). */
#include "app.h"
#include <string.h>

static int http_detect(const uint8_t *q, size_t m) { return cp_http_looks_like_request(q, m); }

/* Parse one HTTP request head straight into a record slot (TCP streams and UDP datagrams). Returns the
 * parser's status; *used and *body are set on CP_OK. A slot is only committed for a complete request. */
cp_status cp_emit_http(cp_engine *e, cp_flow *f, int dir, const uint8_t *q, size_t m, size_t *used, uint64_t *body) {
    cp_out o;
    cp_record *r = cp_rec_begin(e, f, CP_REC_HTTP_REQUEST, dir, &o, sizeof(cp_http_rec));
    if (!r) return CP_INVALID;
    cp_http_rec h;
    memset(&h, 0, sizeof h);
    uint64_t an = 0;
    int chunked = 0;
    cp_status st = cp_http_request(q, m, &h, &o, used, body, &chunked, &an);
    if (st == CP_NEED_MORE) return st;
    f->anomalies |= an;
    cp_count_anoms(e, an);
    if (st != CP_OK) { e->st.parse_errors++; return st; }
    memcpy(o.buf, &h, sizeof h);
    cp_rec_commit(e, r, &o, an, 0);
    f->sum.app |= CP_APP_HTTP;
    return CP_OK;
}

static size_t http_step(cp_engine *e, cp_flow *f, int dir, const uint8_t *q, size_t m) {
    cp_dir *s = &f->d[dir];
    size_t used = 0;
    uint64_t body = 0;
    cp_status st = cp_emit_http(e, f, dir, q, m, &used, &body);
    if (st == CP_NEED_MORE) return 0;
    if (st != CP_OK) { s->done = 1; return m; }
    s->skip = body;
    s->app = APP_DETECT;          /* next: another request, or TLS after CONNECT */
    return used;
}

const cp_tcp_app cp_app_http = { "http", http_detect, http_step, NULL };
