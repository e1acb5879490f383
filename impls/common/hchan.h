/*
 * hchan.h - the lock-based handoff engine after Go's runtime/chan.go, shared
 * by the "futex" and "mutex" implementations (and by "ring" at capacity 0,
 * where there is no buffer to be lock-free on). They differ only in the
 * lock that guards a channel and in how a blocked thread sleeps, so the
 * benchmark measures exactly those primitives. See hchan.c.
 */
#ifndef CHAN_COMMON_HCHAN_H
#define CHAN_COMMON_HCHAN_H

#include "common/impl.h"

enum hchan_lock_kind {
  HCHAN_LOCK_FUTEX,   /* struct chan_futex_lock: spin, then futex */
  HCHAN_LOCK_PTHREAD, /* pthread_mutex_t */
};

/* Makes an hchan-based channel, or returns NULL when out of memory. */
struct chan *chan_hchan_create(const struct chan_impl *impl, size_t elem_size,
                               size_t capacity, enum hchan_lock_kind lock,
                               enum chan_park_kind park, unsigned park_spin);

#endif /* CHAN_COMMON_HCHAN_H */
