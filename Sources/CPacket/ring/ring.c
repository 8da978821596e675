/* ring.c: SPSC slot ring.
 *
 * head = next slot the producer fills, tail = next slot the consumer reads. Both are free-running
 * 32-bit counters (wrap is harmless because capacity is a power of two and we only use differences).
 * Each lives on its own cache line; each side also keeps a cached copy of the other's counter so the
 * common case touches no shared line.
 *
 * Sleeping: a side that finds nothing to do sets its *_sleeping flag, issues a SEQ_CST fence, re-checks
 * the other side's counter and futex-waits on it. The other side publishes its counter, issues a SEQ_CST
 * fence and reads the flag; if set, it wakes the sleeper. The two fences order "flag then re-check"
 * against "publish then check flag" (Dekker), so a wakeup is never lost. Waits also time out.
 *
 *   producer: reserve: if head - cached_tail == cap, reload tail with ACQUIRE (pairs with the
 *             consumer's RELEASE store in release(): the slot's old contents are no longer read);
 *             commit: write slot, then store head+1 with RELEASE (pairs with the consumer's ACQUIRE).
 *   consumer: peek: if tail == cached_head, reload head with ACQUIRE (slot contents visible);
 *             release: store tail+1 with RELEASE.
 */
#include "cp_ring.h"
#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define CACHE_LINE 64
/* Records handed over per consumer wakeup: big enough to amortise the futex round trip, small enough
 * that the batch is still in cache when the consumer reads it (measured on the throughput benchmark). */
#define CONSUMER_BATCH(r) ((r)->cap >> 3 ? (r)->cap >> 3 : 1)

struct cp_ring {
    uint32_t mask, cap;
    uint8_t *slots;
    _Alignas(CACHE_LINE) _Atomic uint32_t head;   /* written by producer */
    uint32_t prod_cached_tail;
    _Atomic uint64_t drops;
    _Atomic int prod_sleeping;                    /* producer waits for space (offline only) */
    _Alignas(CACHE_LINE) _Atomic uint32_t tail;   /* written by consumer */
    uint32_t cons_cached_head;
    _Atomic int cons_sleeping;                    /* consumer waits for records */
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
    atomic_init(&r->prod_sleeping, 0); atomic_init(&r->cons_sleeping, 0);
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

static void futex_wait(_Atomic uint32_t *addr, uint32_t seen, unsigned timeout_us) {
    struct timespec ts = { (time_t)(timeout_us / 1000000u), (long)(timeout_us % 1000000u) * 1000 };
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT_PRIVATE, seen, &ts, NULL, 0);
}
static void futex_wake(_Atomic uint32_t *addr) {
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

void cp_ring_commit(cp_ring *r) {
    uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
    /* RELEASE: slot contents written above become visible before the new head. */
    atomic_store_explicit(&r->head, h + 1, memory_order_release);
    /* SEQ_CST fence: pairs with the consumer's in cp_ring_wait_readable (see top of file). */
    atomic_thread_fence(memory_order_seq_cst);
    /* Wake in batches: a sleeping consumer is woken once CONSUMER_BATCH records are waiting; below
     * that its own timeout (cp_ring_wait_readable) bounds the delay. */
    if (atomic_load_explicit(&r->cons_sleeping, memory_order_relaxed) &&
        h + 1 - atomic_load_explicit(&r->tail, memory_order_relaxed) >= CONSUMER_BATCH(r))
        futex_wake(&r->head);
}

void cp_ring_wait_readable(cp_ring *r, unsigned timeout_us) {
    uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
    atomic_store_explicit(&r->cons_sleeping, 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_seq_cst);
    uint32_t h = atomic_load_explicit(&r->head, memory_order_acquire);
    if (h - t < CONSUMER_BATCH(r)) futex_wait(&r->head, h, timeout_us);
    atomic_store_explicit(&r->cons_sleeping, 0, memory_order_relaxed);
}

void cp_ring_wait_writable(cp_ring *r, unsigned timeout_us) {
    uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
    atomic_store_explicit(&r->prod_sleeping, 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_seq_cst);
    uint32_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
    if (h - t > (r->cap >> 1)) futex_wait(&r->tail, t, timeout_us);
    atomic_store_explicit(&r->prod_sleeping, 0, memory_order_relaxed);
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
    /* SEQ_CST fence: pairs with the producer's in cp_ring_wait_writable. */
    atomic_thread_fence(memory_order_seq_cst);
    /* a waiting producer is woken once half the ring is free again */
    if (atomic_load_explicit(&r->prod_sleeping, memory_order_relaxed) &&
        atomic_load_explicit(&r->head, memory_order_relaxed) - (t + 1) <= (r->cap >> 1))
        futex_wake(&r->tail);
}

uint64_t cp_ring_drops(const cp_ring *r) {
    return atomic_load_explicit(&((cp_ring *)r)->drops, memory_order_relaxed);
}
uint32_t cp_ring_count(const cp_ring *r) {
    cp_ring *m = (cp_ring *)r;
    return atomic_load_explicit(&m->head, memory_order_relaxed) - atomic_load_explicit(&m->tail, memory_order_relaxed);
}
uint32_t cp_ring_capacity(const cp_ring *r) { return r->cap; }
