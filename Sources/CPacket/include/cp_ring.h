/* cp_ring.h: single-producer single-consumer ring of fixed-size slots (DPDK rte_ring, SPSC case).
 * The decode thread produces, the Swift consumer consumes. A full ring never blocks live capture:
 * cp_ring_reserve() returns NULL and the drop is counted. Memory model: see ring/ring.c. */
#ifndef CP_RING_H
#define CP_RING_H
#include <stdint.h>
#include <stddef.h>
#include "cp_record.h"

typedef struct cp_ring cp_ring;

/* slots must be a power of two >= 2; slot size is CP_SLOT_SIZE. NULL on bad size or no memory. */
cp_ring *cp_ring_create(uint32_t slots);
void cp_ring_destroy(cp_ring *r);

/* Producer: get the next free slot or NULL when full (the caller counts the drop via cp_ring_drop). */
cp_record *cp_ring_reserve(cp_ring *r);
void cp_ring_commit(cp_ring *r);            /* publish the reserved slot */
void cp_ring_drop(cp_ring *r);              /* count one record dropped because the ring was full */

/* Consumer: oldest published slot or NULL when empty; release it after copying out. */
const cp_record *cp_ring_peek(cp_ring *r);
void cp_ring_release(cp_ring *r);

/* Blocking helpers (futex), batched: the consumer sleeps until an eighth of the ring is filled, an
 * offline producer until half of it is free; each is woken by the other side, and both return after
 * at most timeout_us (which bounds the delay when traffic trickles). */
void cp_ring_wait_readable(cp_ring *r, unsigned timeout_us);
void cp_ring_wait_writable(cp_ring *r, unsigned timeout_us);

uint64_t cp_ring_drops(const cp_ring *r);
uint32_t cp_ring_count(const cp_ring *r);   /* approximate occupancy (for stats) */
uint32_t cp_ring_capacity(const cp_ring *r);

#endif
