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
/* The runtime's scheduling counters, one list (name, what it counts): the
 * struct below, the runtime's per-worker counters and the benchmarks'
 * per-operation counters (sched_<name>_per_op) are all made from it. */
#define CHAN_DEBUG_RT_COUNTERS(X)                                              \
  X(resumes, "switches from a scheduler into a fiber")                        \
  X(parks, "fibers parked (blocked)")                                         \
  X(yields, "chan_fiber_yield calls")                                         \
  X(migrations, "resumes on another worker than the fiber's last one")       \
  X(handoffs, "fibers a fiber readied into its own worker's runnext slot")    \
  X(runnext_runs, "fibers a worker took from its own runnext slot")           \
  X(steals, "successful steals from another worker's queue")                  \
  X(runnext_steals, "of those, fibers taken from another worker's runnext")   \
  X(steal_misses, "steal rounds (passes over every victim) finding nothing") \
  X(wakeps, "idle workers woken to look for work (Go's wakep)")               \
  X(idle_sleeps, "times a worker went to sleep on its futex")                 \
  X(futex_wakes, "of those sleeps, ended by another thread's FUTEX_WAKE")     \
  X(timers_fired, "deadlines that woke a fiber")

struct chan_debug_rt_stats {
  uint64_t spawned; /* fibers ever spawned */
  uint64_t live;    /* spawned and not finished */
#define CHAN_DEBUG_RT_FIELD(name, what) uint64_t name;
  CHAN_DEBUG_RT_COUNTERS(CHAN_DEBUG_RT_FIELD)
#undef CHAN_DEBUG_RT_FIELD
  uint64_t pooled; /* stacks waiting in the pool */
};
struct chan_rt;
void chan_debug_rt_stats(const struct chan_rt *rt,
                         struct chan_debug_rt_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* CHAN_CHAN_DEBUG_H */
