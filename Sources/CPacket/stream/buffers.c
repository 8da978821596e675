/* buffers.c: bounded byte buffers for stream collection, and offset-addressed reassembly. */
#include "stream_int.h"
#include <stdlib.h>
#include <string.h>

int cp_buf_append(cp_buf *b, const uint8_t *d, size_t n, uint32_t hard_cap) {
    if (n == 0) return 1;
    if (n > hard_cap || b->len > hard_cap - n) return 0;
    if (b->len + n > b->cap) {
        uint32_t nc = b->cap ? b->cap : 2048;
        while (nc < b->len + n) nc *= 2;
        if (nc > hard_cap) nc = hard_cap;
        uint8_t *np = realloc(b->p, nc);
        if (!np) return 0;
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->len, d, n);
    b->len += (uint32_t)n;
    return 1;
}

void cp_buf_consume(cp_buf *b, size_t n) {
    if (n >= b->len) { b->len = 0; return; }
    memmove(b->p, b->p + n, b->len - n);
    b->len -= (uint32_t)n;
}

void cp_buf_free(cp_buf *b) {
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

void cp_reasm_put(cp_reasm *r, uint64_t off, const uint8_t *d, size_t n) {
    if (off >= CP_REASM_CAP) return;
    if (n > CP_REASM_CAP - off) n = CP_REASM_CAP - (size_t)off;
    memcpy(r->data + off, d, n);
    for (size_t i = (size_t)off; i < off + n; i++) r->have[i >> 3] |= (uint8_t)(1u << (i & 7));
    while (r->contiguous < CP_REASM_CAP && (r->have[r->contiguous >> 3] & (1u << (r->contiguous & 7)))) r->contiguous++;
}
