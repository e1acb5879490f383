/*
 * futex - Go's runtime channel design on raw Linux futexes.
 *
 * Algorithm: the handoff engine of impls/common/hchan.c, after Go's
 * runtime/chan.go: one small lock per channel guards a ring buffer and two
 * FIFO queues of waiters whose records (sudogs) live on the waiting threads'
 * stacks; a sender hands its value straight to a parked receiver (and a
 * receiver takes straight from a parked sender) without the buffer; close
 * wakes every waiter. Select is impls/common/select.c.
 *
 * What this implementation chooses:
 *   lock    Drepper's three-state futex mutex ("Futexes Are Tricky", 2011),
 *           spinning briefly before it sleeps (common/sync.h);
 *   parking a futex word per blocked thread, spun on for ~FUTEX_PARK_SPIN
 *           pauses before FUTEX_WAIT, so a counterpart arriving within a
 *           microsecond costs no syscall (Go spins similarly, in lock_futex.go
 *           and proc.go), and FUTEX_WAKE only when the waiter really sleeps.
 *
 * Invariants and synchronization table: those of hchan.c (I1-I4; every
 * operation serialized by the channel lock, wake-ups after unlocking).
 */
#include "common/hchan.h"

/* ~1-2 us of pause instructions: about one cross-core cache-line round
 * trip's worth a few times over, far less than a futex round trip. */
#define FUTEX_PARK_SPIN 200

static struct chan *futex_create(const struct chan_impl *impl, size_t elem_size,
                                 size_t capacity) {
  return chan_hchan_create(impl, elem_size, capacity, HCHAN_LOCK_FUTEX,
                           CHAN_PARK_FUTEX, FUTEX_PARK_SPIN);
}

const struct chan_impl chan_impl_futex = {
    .version = CHAN_IMPL_VERSION,
    .name = "futex",
    .summary = "Go runtime design: futex lock, FIFO waiter queues, direct "
               "handoff, spin then park",
    .create = futex_create,
};
