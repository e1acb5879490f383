/*
 * ck_ring.c - Concurrency Kit's ck_ring: the raw-ring floor, two rows
 * (bq_ops.floor: the report measures channels against them rather than
 * ranking them among the peers).
 * Written against Concurrency Kit 0.7.1 (Debian 12: libck-dev 0.7.1-10);
 * the rows' library strings carry the package version found at configure.
 *
 * The library: a ring of pointer-sized entries with a power-of-two size
 * that keeps one slot empty. ck_spsc: Lamport's queue (producer and consumer
 * each own one index; a store fence orders the entry before the index).
 * ck_mpmc: producers reserve a slot by compare-and-swap on a reservation
 * index and publish in order; consumers claim by compare-and-swap on the
 * consumer index.
 *
 * Semantics as mapped here: no close, no rendezvous, no blocking — the
 * library has none of them. A send on a full ring or a receive on an empty
 * one retries, pausing 2000 times and then yielding the CPU between tries
 * (the policy of the hand-written floor ring chanbench had before ck_spsc
 * replaced it: without the yield, oversubscribed or same-PU runs would spin
 * away whole time slices). Values are 8 bytes (stored in the entry itself;
 * no BQ_PAYLOAD). Capacity n > 0 gets the ring of bq_ring_slots(n), holding
 * at most n (128 holds 127); capacity 0 is refused. try_send/try_recv are
 * single attempts.
 */
#include "peers.h"

#include <ck_ring.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SPINS_BEFORE_YIELD 2000

struct ck_queue {
  struct ck_ring ring; /* padded by ck: the indices on separate lines */
  struct ck_ring_buffer *buf;
};

static int make(void **out, size_t elem_size, size_t capacity) {
  if (!out)
    return bq_fail(CHAN_EINVAL, "make: NULL result pointer");
  if (elem_size != sizeof(uint64_t))
    return bq_fail(CHAN_EINVAL, "ck_ring: 8-byte values only, not %zu",
                   elem_size);
  if (capacity == 0)
    return bq_fail(CHAN_EINVAL, "ck_ring: capacity 0 (no rendezvous)");
  size_t slots = bq_ring_slots(capacity);
  if (slots == 0 || slots > (1u << 31))
    return bq_fail(CHAN_EINVAL, "ck_ring: capacity %zu too large", capacity);
  void *mem = NULL, *buf = NULL;
  if (posix_memalign(&mem, 64, sizeof(struct ck_queue)) != 0 ||
      posix_memalign(&buf, 64, slots * sizeof(struct ck_ring_buffer)) != 0) {
    free(mem);
    return bq_fail(CHAN_ENOMEM, "ck_ring: out of memory (%zu slots)", slots);
  }
  struct ck_queue *q = mem;
  memset(buf, 0, slots * sizeof *q->buf);
  q->buf = buf;
  ck_ring_init(&q->ring, (unsigned)slots);
  *out = q;
  return CHAN_OK;
}

static void destroy(void *q) {
  if (q)
    free(((struct ck_queue *)q)->buf);
  free(q);
}

/* One attempt with ck's enqueue or dequeue of either flavour (they share
 * their signatures): the value travels in the entry itself. */
typedef bool (*ck_enqueue_fn)(struct ck_ring *, struct ck_ring_buffer *,
                              const void *);
typedef bool (*ck_dequeue_fn)(struct ck_ring *, const struct ck_ring_buffer *,
                              void *);

static inline int put(void *p, const void *elem, ck_enqueue_fn enqueue) {
  struct ck_queue *q = p;
  uint64_t v;
  memcpy(&v, elem, sizeof v);
  return enqueue(&q->ring, q->buf, (void *)(uintptr_t)v) ? CHAN_OK
                                                         : CHAN_WOULD_BLOCK;
}

static inline int take(void *p, void *elem, ck_dequeue_fn dequeue) {
  struct ck_queue *q = p;
  void *v;
  if (!dequeue(&q->ring, q->buf, &v))
    return CHAN_WOULD_BLOCK;
  uint64_t u = (uintptr_t)v;
  memcpy(elem, &u, sizeof u);
  return CHAN_OK;
}

/* Retrying: pause, then yield between attempts. */
static void snooze(unsigned *spins) {
  if (++*spins < SPINS_BEFORE_YIELD)
    ck_pr_stall();
  else
    sched_yield();
}

static inline int put_retrying(void *q, const void *elem,
                               ck_enqueue_fn enqueue) {
  for (unsigned spins = 0; put(q, elem, enqueue) != CHAN_OK;)
    snooze(&spins);
  return CHAN_OK;
}

static inline int take_retrying(void *q, void *elem, ck_dequeue_fn dequeue) {
  for (unsigned spins = 0; take(q, elem, dequeue) != CHAN_OK;)
    snooze(&spins);
  return CHAN_OK;
}

static int spsc_try_send(void *q, const void *elem) {
  return put(q, elem, ck_ring_enqueue_spsc);
}
static int spsc_try_recv(void *q, void *elem) {
  return take(q, elem, ck_ring_dequeue_spsc);
}
static int spsc_send(void *q, const void *elem) {
  return put_retrying(q, elem, ck_ring_enqueue_spsc);
}
static int spsc_recv(void *q, void *elem) {
  return take_retrying(q, elem, ck_ring_dequeue_spsc);
}

/* dequeue_mpmc retries a lost compare-and-swap itself and fails only when
 * the ring is empty (trydequeue_mpmc would also fail on contention). */
static int mpmc_try_send(void *q, const void *elem) {
  return put(q, elem, ck_ring_enqueue_mpmc);
}
static int mpmc_try_recv(void *q, void *elem) {
  return take(q, elem, ck_ring_dequeue_mpmc);
}
static int mpmc_send(void *q, const void *elem) {
  return put_retrying(q, elem, ck_ring_enqueue_mpmc);
}
static int mpmc_recv(void *q, void *elem) {
  return take_retrying(q, elem, ck_ring_dequeue_mpmc);
}

const struct bq_ops bq_peer_ck_spsc = {
    .name = "ck_spsc",
    .library = "Concurrency Kit ck_ring SPSC (" PEER_PACKAGE ")",
    .features = BQ_BOUNDED | BQ_TRY,
    .make = make,
    .send = spsc_send,
    .recv = spsc_recv,
    .try_send = spsc_try_send,
    .try_recv = spsc_try_recv,
    .close = NULL,
    .destroy = destroy,
    .floor = "the raw-ring floor: a spinning SPSC ring without blocking or "
             "close, what a non-blocking queue reaches with no channel "
             "semantics",
};

const struct bq_ops bq_peer_ck_mpmc = {
    .name = "ck_mpmc",
    .library = "Concurrency Kit ck_ring MPMC (" PEER_PACKAGE ")",
    .features = BQ_BOUNDED | BQ_TRY | BQ_MULTI_PRODUCER | BQ_MULTI_CONSUMER,
    .make = make,
    .send = mpmc_send,
    .recv = mpmc_recv,
    .try_send = mpmc_try_send,
    .try_recv = mpmc_try_recv,
    .close = NULL,
    .destroy = destroy,
    .floor = "the raw MPMC ring floor: spinning, without blocking or close",
};
