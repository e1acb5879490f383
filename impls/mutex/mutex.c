/*
 * mutex - the textbook monitor: a pthread mutex and condition variables.
 *
 * Algorithm: the handoff engine of impls/common/hchan.c (Go's hchan: ring
 * buffer plus FIFO queues of blocked waiters, direct handoff, close wakes
 * all), built only from POSIX primitives:
 *   lock    a default pthread_mutex_t per channel;
 *   parking each blocked thread waits on its own condition variable
 *           (CLOCK_MONOTONIC, so deadlines ignore wall-clock jumps) and is
 *           signalled exactly once by whoever completes its operation.
 *           That is the "specific notification" form of a monitor: no
 *           broadcast, no thundering herd, no waiter woken only to find
 *           its condition false. No spinning: this is the baseline that
 *           shows what the POSIX primitives cost.
 * Sources: Hoare/Mesa monitors (Lampson & Redell, "Experience with
 * Processes and Monitors in Mesa", 1980); Go's runtime/chan.go for the
 * queueing and handoff.
 *
 * Invariants and synchronization table: those of hchan.c (I1-I4; every
 * operation serialized by the channel mutex, signals after unlocking).
 * A condition variable private to each waiter (parker.h) rather than one
 * per channel is what lets a select wait on many channels at once.
 */
#include "common/hchan.h"

static struct chan *mutex_create(const struct chan_impl *impl, size_t elem_size,
                                 size_t capacity) {
  return chan_hchan_create(impl, elem_size, capacity, HCHAN_LOCK_PTHREAD,
                           CHAN_PARK_CONDVAR, 0);
}

const struct chan_impl chan_impl_mutex = {
    .version = CHAN_IMPL_VERSION,
    .name = "mutex",
    .summary = "textbook monitor: pthread mutex, a condition variable per "
               "waiter, FIFO handoff",
    .create = mutex_create,
};
