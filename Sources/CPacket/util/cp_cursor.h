/* cp_cursor.h: the bounds-checked reader every decoder and parser goes through.
 * Reads past the end never touch memory: they set `bad` (sticky) and return 0, so a parser can read a
 * run of fields and test once. Lengths are checked with subtraction (len - off), never off + n. */
#ifndef CP_CURSOR_H
#define CP_CURSOR_H
#include <stdint.h>
#include <stddef.h>
#include <string.h>

typedef struct cp_cur {
    const uint8_t *p;
    size_t len, off;
    int bad;
} cp_cur;

static inline cp_cur cp_cur_make(const uint8_t *p, size_t len) { cp_cur c = { p, len, 0, 0 }; return c; }
static inline size_t cp_left(const cp_cur *c) { return c->len - c->off; }
static inline int cp_need(const cp_cur *c, size_t n) { return !c->bad && cp_left(c) >= n; }
static inline const uint8_t *cp_here(const cp_cur *c) { return c->p + c->off; }

static inline uint8_t cp_u8(cp_cur *c) {
    if (!cp_need(c, 1)) { c->bad = 1; return 0; }
    return c->p[c->off++];
}
static inline uint16_t cp_u16be(cp_cur *c) {
    if (!cp_need(c, 2)) { c->bad = 1; return 0; }
    const uint8_t *q = c->p + c->off; c->off += 2;
    return (uint16_t)((q[0] << 8) | q[1]);
}
static inline uint32_t cp_u24be(cp_cur *c) {
    if (!cp_need(c, 3)) { c->bad = 1; return 0; }
    const uint8_t *q = c->p + c->off; c->off += 3;
    return ((uint32_t)q[0] << 16) | ((uint32_t)q[1] << 8) | q[2];
}
static inline uint32_t cp_u32be(cp_cur *c) {
    if (!cp_need(c, 4)) { c->bad = 1; return 0; }
    const uint8_t *q = c->p + c->off; c->off += 4;
    return ((uint32_t)q[0] << 24) | ((uint32_t)q[1] << 16) | ((uint32_t)q[2] << 8) | q[3];
}
static inline void cp_skip(cp_cur *c, size_t n) {
    if (!cp_need(c, n)) { c->bad = 1; c->off = c->len; return; }
    c->off += n;
}
/* Narrow to the next n bytes: returns a child cursor and advances the parent past them. */
static inline cp_cur cp_sub(cp_cur *c, size_t n) {
    cp_cur s = { c->p, 0, 0, 1 };
    if (!cp_need(c, n)) { c->bad = 1; c->off = c->len; return s; }
    s.p = c->p + c->off; s.len = n; s.bad = 0;
    c->off += n;
    return s;
}
static inline uint16_t cp_rd16(const uint8_t *q) { return (uint16_t)((q[0] << 8) | q[1]); }
static inline uint32_t cp_rd32(const uint8_t *q) {
    return ((uint32_t)q[0] << 24) | ((uint32_t)q[1] << 16) | ((uint32_t)q[2] << 8) | q[3];
}

#include "cp_parse.h"   /* cp_out */

/* Append n bytes aligned to `align`; returns the offset or 0xffff (and sets full) on overflow. */
static inline uint16_t cp_out_put(cp_out *o, const void *src, size_t n, size_t align) {
    size_t at = (o->len + (align - 1)) & ~(align - 1);
    if (o->full || at > o->cap || o->cap - at < n || at + n > 0xffff) { o->full = 1; return 0xffff; }
    if (n) memcpy(o->buf + at, src, n);
    o->len = at + n;
    return (uint16_t)at;
}
#endif
