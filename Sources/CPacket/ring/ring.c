/* ring.c: SPSC slot ring.
 *
 * head = next slot the producer fills, tail = next slot the consumer reads. Both are free-running
 * 32-bit counters (wrap is harmless because capacity is a power of two and we only use differences).
 * Each lives on its own cache line; each side also keeps a cached copy of the other's counter so the
 * common case touches no shared line.
 *
 *   producer: reserve: if head - cached_tail == cap, reload tail with ACQUIRE (pairs with the
 *             consumer's RELEASE store in release(): the slot's old contents are no longer read);
 *             commit: write slot, then store head+1 with RELEASE (pairs with the consumer's ACQUIRE).
 *   consumer: peek: if tail == cached_head, reload head with ACQUIRE (slot contents visible);
 *             release: store tail+1 with RELEASE.
 */
#include "cp_ring.h"
#include <stdatomic.h>
#include <stdlib.h>

#define CACHE_LINE 64

struct cp_ring {
    uint32_t mask, cap;
    uint8_t *slots;
    _Alignas(CACHE_LINE) _Atomic uint32_t head;   /* written by producer */
    uint32_t prod_cached_tail;
    _Atomic uint64_t drops;
    _Alignas(CACHE_LINE) _Atomic uint32_t tail;   /* written by consumer */
    uint32_t cons_cached_head;
    _Alignas(CACHE_LINE) char pad[CACHE_LINE];
};

cp_ring *cp_ring_create(uint32_t slots) {
    if (slots < 2 || (slots & (slots - 1)) != 0 || slots > (1u << 20)) return NULL;
    cp_ring *r = aligned_alloc(CACHE_LINE, sizeof(cp_ring));
    if (!r) return NULL;
    r->slots = aligned_alloc(CACHE_LINE, (size_t)slots * CP_SLOT_SIZE);
    if (!r->slots) { free(r); return NULL; }
    r->mask = slots - 1; r->cap = slots;
    atomic_init(&r->head, 0); atomic_init(&r->tail, 0); atomic_init(&r->drops, 0);
    r->prod_cached_tail = 0; r->cons_cached_head = 0;
    return r;
}

void cp_ring_destroy(cp_ring *r) {
    if (!r) return;
    free(r->slots);
    free(r);
}

cp_record *cp_ring_reserve(cp_ring *r) {
    uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);   /* own counter */
    if (h - r->prod_cached_tail == r->cap) {
        /* ACQUIRE: pairs with release() so the consumer is done with the slot we may overwrite. */
        r->prod_cached_tail = atomic_load_explicit(&r->tail, memory_order_acquire);
        if (h - r->prod_cached_tail == r->cap) return NULL;
    }
    return (cp_record *)(r->slots + (size_t)(h & r->mask) * CP_SLOT_SIZE);
}

void cp_ring_commit(cp_ring *r) {
    uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
    /* RELEASE: slot contents written above become visible before the new head. */
    atomic_store_explicit(&r->head, h + 1, memory_order_release);
}

void cp_ring_drop(cp_ring *r) { atomic_fetch_add_explicit(&r->drops, 1, memory_order_relaxed); }

const cp_record *cp_ring_peek(cp_ring *r) {
    uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);   /* own counter */
    if (t == r->cons_cached_head) {
        /* ACQUIRE: pairs with commit() so the slot's contents are visible. */
        r->cons_cached_head = atomic_load_explicit(&r->head, memory_order_acquire);
        if (t == r->cons_cached_head) return NULL;
    }
    return (const cp_record *)(r->slots + (size_t)(t & r->mask) * CP_SLOT_SIZE);
}

void cp_ring_release(cp_ring *r) {
    uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
    /* RELEASE: our reads of the slot complete before the producer may reuse it. */
    atomic_store_explicit(&r->tail, t + 1, memory_order_release);
}

uint64_t cp_ring_drops(const cp_ring *r) {
    return atomic_load_explicit(&((cp_ring *)r)->drops, memory_order_relaxed);
}
uint32_t cp_ring_count(const cp_ring *r) {
    cp_ring *m = (cp_ring *)r;
    return atomic_load_explicit(&m->head, memory_order_relaxed) - atomic_load_explicit(&m->tail, memory_order_relaxed);
}
uint32_t cp_ring_capacity(const cp_ring *r) { return r->cap; }
