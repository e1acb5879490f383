/*
 * peers.h - the registry of peer queues (peers.def) and what adapters share.
 *
 * bq_peers() lists every row of peers.def in order, built or not: a row whose
 * library was not found at configure time has ops == NULL and its reason in
 * skipped ("skipped: libtbb-dev not found (...)"), for the results' context
 * (key peer.<name>).
 */
#ifndef CHAN_BENCH_PEERS_H
#define CHAN_BENCH_PEERS_H

#include "queue.h"

#ifdef __cplusplus
extern "C" {
#endif

struct bq_peer {
  const char *name;         /* the row's name in peers.def */
  const struct bq_ops *ops; /* NULL when the row was not built */
  const char *skipped;      /* "skipped: <reason>" when not built, else NULL */
};

/* Every row of peers.def, in order; *n (if not NULL) gets the count. */
const struct bq_peer *bq_peers(size_t *n);

/* The built row called name, or NULL. */
const struct bq_ops *bq_peer_find(const char *name);

/* For libraries whose ring has a power-of-two size and keeps one slot
 * empty (Boost.Fiber's buffered_channel, ck_ring): the ring size that holds
 * as many elements as possible but no more than capacity (>= 1), so a peer
 * never gets a larger buffer than the channel it is compared with. It holds
 * exactly capacity when capacity + 1 is a power of two (1, 3, 7, ...), else
 * less: capacity 128 holds 127, 1024 holds 1023. 0 if capacity is 0 or
 * too large for a power of two in size_t. */
static inline size_t bq_ring_slots(size_t capacity) {
  if (capacity == 0 || capacity > ((size_t)-1) / 2)
    return 0;
  size_t p = 2;
  while (p <= (capacity + 1) / 2)
    p *= 2;
  return p;
}

#ifdef __cplusplus
}
#endif

#endif /* CHAN_BENCH_PEERS_H */
