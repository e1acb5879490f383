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

/* True if ch serves blocked threads strictly in the order they blocked,
 * even under a burst: its engine completes a queued waiter itself (direct
 * handoff) instead of waking it to retry (chan.h, "Order of service").
 * false for NULL. */
bool chan_debug_strict_fifo(const chan_t *ch);

#ifdef __cplusplus
}
#endif

#endif /* CHAN_CHAN_DEBUG_H */
