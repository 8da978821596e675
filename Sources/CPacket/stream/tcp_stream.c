/* tcp_stream.c: per-direction TCP byte collection. Delivers bytes in sequence order to the L7
 * dispatcher, holding up to CP_OOO_MAX out-of-order segments (CP_OOO_BYTES in all). When that
 * buffer overflows, the gap is declared lost (anomaly tcp_gap) and the parser restarts at the
 * next held segment. Retransmitted and overlapping bytes are trimmed (first copy wins). */
#include "../engine/engine_int.h"
#include <stdlib.h>
#include <string.h>

void cp_tcp_deliver(cp_engine *e, cp_flow *f, int dir, const uint8_t *d, uint32_t n);
void cp_tcp_gap(cp_engine *e, cp_flow *f, int dir);

static void ooo_drop(cp_dir *s, int i) {
    s->ooo_bytes -= s->ooo[i].len;
    free(s->ooo[i].data);
    s->ooo[i] = s->ooo[--s->n_ooo];
}

static void drain(cp_engine *e, cp_flow *f, int dir) {
    cp_dir *s = &f->d[dir];
    for (int progress = 1; progress && s->n_ooo && !s->done;) {
        progress = 0;
        for (int i = 0; i < s->n_ooo; i++) {
            cp_seg *g = &s->ooo[i];
            int32_t diff = (int32_t)(g->seq - s->next_seq);
            if (diff > 0) continue;
            uint32_t skip = (uint32_t)(-diff);
            if (skip < g->len) {
                uint32_t n = g->len - skip;
                s->next_seq += n;
                cp_tcp_deliver(e, f, dir, g->data + skip, n);
            }
            ooo_drop(s, i);
            progress = 1;
            break;
        }
    }
}

void cp_tcp_stream_add(cp_engine *e, cp_flow *f, int dir, uint32_t seq, const uint8_t *d, uint32_t n) {
    cp_dir *s = &f->d[dir];
    if (s->done || n == 0) return;
    if (!s->seq_init) { s->next_seq = seq; s->seq_init = 1; }
    int32_t diff = (int32_t)(seq - s->next_seq);
    if (diff < 0) {
        uint32_t old = (uint32_t)(-diff);
        if (old >= n) return;                  /* pure retransmission */
        d += old; n -= old; diff = 0;
    }
    if (diff > 0) {
        if (s->n_ooo == CP_OOO_MAX || s->ooo_bytes + n > CP_OOO_BYTES) {
            /* give up on the gap: restart at the earliest held segment */
            f->anomalies |= CP_AN(CP_AN_TCP_GAP);
            e->st.anomalies[CP_AN_TCP_GAP]++;
            int lo = 0;
            for (int i = 1; i < s->n_ooo; i++) if ((int32_t)(s->ooo[i].seq - s->ooo[lo].seq) < 0) lo = i;
            if (s->n_ooo) s->next_seq = s->ooo[lo].seq;
            else s->next_seq = seq;
            cp_tcp_gap(e, f, dir);
            drain(e, f, dir);
            if (s->done) return;
            diff = (int32_t)(seq - s->next_seq);
            if (diff < 0) return;
            if (diff > 0) {
                if (s->n_ooo == CP_OOO_MAX || s->ooo_bytes + n > CP_OOO_BYTES) return;
            }
        }
        if (diff > 0) {
            uint8_t *copy = malloc(n);
            if (!copy) return;
            memcpy(copy, d, n);
            s->ooo[s->n_ooo++] = (cp_seg){ seq, n, copy };
            s->ooo_bytes += n;
            return;
        }
    }
    s->next_seq += n;
    cp_tcp_deliver(e, f, dir, d, n);
    if (s->n_ooo) drain(e, f, dir);
}

void cp_dir_free(cp_dir *s) {
    cp_buf_free(&s->buf);
    cp_buf_free(&s->hs);
    while (s->n_ooo) ooo_drop(s, 0);
    free(s->crypto);
    s->crypto = NULL;
    free(s->dec);
    s->dec = NULL;
}
