/*
 * chan_debug.h - introspection for tests, stress and benchmarks.
 * Not for ordinary programs: the answers are snapshots that can be stale by
 * the time they are returned.
 */
#ifndef CHAN_CHAN_DEBUG_H
#define CHAN_CHAN_DEBUG_H

#include <chan/chan.h>

#ifdef __cplusplus
extern "C" {
#endif

/* How many threads are registered as blocked on ch in direction dir (parked
 * or about to park; a select counts once per case on ch). 0 for NULL. */
size_t chan_debug_waiters(const chan_t *ch, enum chan_dir dir);

/* Of those, how many have committed to sleep: past their last look at the
 * channel, so they take nothing until someone wakes them. Where waiters are
 * woken to retry (chan_debug_strict_fifo() false), a waiter that is
 * registered but not yet asleep may still take a value or slot itself. */
size_t chan_debug_sleepers(const chan_t *ch, enum chan_dir dir);

/* True if ch serves blocked threads strictly in the order they blocked,
 * even under a burst: its engine completes a queued waiter itself (direct
 * handoff) instead of waking it to retry (chan.h, "Order of service").
 * false for NULL. */
bool chan_debug_strict_fifo(const chan_t *ch);

/* A fiber runtime's counters (fiber.h), summed over its workers; racy
 * snapshots. */
struct chan_debug_rt_stats {
  uint64_t spawned;      /* fibers ever spawned */
  uint64_t live;         /* spawned and not finished */
  uint64_t resumes;      /* switches from a scheduler into a fiber */
  uint64_t parks;        /* fibers parked (blocked) */
  uint64_t yields;       /* chan_fiber_yield calls */
  uint64_t steals;       /* successful steals from another worker */
  uint64_t idle_sleeps;  /* times a worker went to sleep on its futex */
  uint64_t wakeups;      /* idle workers woken to look for work */
  uint64_t timers_fired; /* deadlines that woke a fiber */
  uint64_t pooled;       /* stacks waiting in the pool */
};
struct chan_rt;
void chan_debug_rt_stats(const struct chan_rt *rt,
                         struct chan_debug_rt_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* CHAN_CHAN_DEBUG_H */
