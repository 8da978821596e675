/* tcp_stream.c: per-direction TCP byte collection. Delivers bytes in sequence order to the L7
 * dispatcher, holding up to CP_OOO_MAX out-of-order segments (CP_OOO_BYTES in all). When that
 * buffer overflows, the gap is declared lost (anomaly tcp_gap) and the parser restarts at the
 * next held segment. Retransmitted and overlapping bytes are trimmed (first copy wins). */
#include "stream_int.h"
#include <stdlib.h>
#include <string.h>

static void ooo_drop(cp_dir *s, int i) {
    s->ooo_bytes -= s->ooo[i].len;
    free(s->ooo[i].data);
    s->ooo[i] = s->ooo[--s->n_ooo];
}

static void drain(cp_dir *s, int dir, const cp_stream_sink *sink) {
    for (int progress = 1; progress && s->n_ooo && !s->done;) {
        progress = 0;
        for (int i = 0; i < s->n_ooo; i++) {
            cp_seg *g = &s->ooo[i];
            int32_t diff = (int32_t)(g->seq - s->next_seq);
            if (diff > 0) continue;
            uint32_t skip = 0u - (uint32_t)diff;
            if (skip < g->len) {
                uint32_t n = g->len - skip;
                s->next_seq += n;
                sink->deliver(sink->ctx, dir, g->data + skip, n);
            }
            ooo_drop(s, i);
            progress = 1;
            break;
        }
    }
}

int cp_tcp_stream_add(cp_dir *s, int dir, uint32_t seq, const uint8_t *d, uint32_t n, const cp_stream_sink *sink) {
    int gap = 0;
    if (s->done || n == 0) return 0;
    if (!s->seq_init) { s->next_seq = seq; s->seq_init = 1; }
    int32_t diff = (int32_t)(seq - s->next_seq);
    if (diff < 0) {
        uint32_t old = 0u - (uint32_t)diff;          /* diff may be INT32_MIN: negate unsigned */
        if (old >= n) return 0;                /* pure retransmission */
        d += old; n -= old; diff = 0;
    }
    if (diff > 0) {
        if (s->n_ooo == CP_OOO_MAX || s->ooo_bytes + n > CP_OOO_BYTES) {
            /* give up on the gap: restart at the earliest held segment */
            gap = 1;
            int lo = 0;
            for (int i = 1; i < s->n_ooo; i++) if ((int32_t)(s->ooo[i].seq - s->ooo[lo].seq) < 0) lo = i;
            if (s->n_ooo) s->next_seq = s->ooo[lo].seq;
            else s->next_seq = seq;
            sink->gap(sink->ctx, dir);
            drain(s, dir, sink);
            if (s->done) return gap;
            diff = (int32_t)(seq - s->next_seq);
            if (diff < 0) return gap;
            if (diff > 0) {
                if (s->n_ooo == CP_OOO_MAX || s->ooo_bytes + n > CP_OOO_BYTES) return gap;
            }
        }
        if (diff > 0) {
            uint8_t *copy = malloc(n);
            if (!copy) return gap;
            memcpy(copy, d, n);
            s->ooo[s->n_ooo++] = (cp_seg){ seq, n, copy };
            s->ooo_bytes += n;
            return gap;
        }
    }
    s->next_seq += n;
    sink->deliver(sink->ctx, dir, d, n);
    if (s->n_ooo) drain(s, dir, sink);
    return gap;
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
