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

#ifdef __cplusplus
}
#endif

#endif /* CHAN_CHAN_DEBUG_H */
