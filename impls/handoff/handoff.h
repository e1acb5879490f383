/*
 * handoff.h - the lock-based handoff engine after Go's runtime/chan.go (Go
 * calls its channel struct hchan). It provides the "futex" and "mutex"
 * implementations as two configurations of one engine (handoff.c), and the
 * "ring" implementation uses it at capacity 0, where a rendezvous has no
 * buffer to be lock-free on.
 *
 * A configuration names only what differs: the lock that guards a channel
 * and how a blocked thread sleeps. Comparing two configurations in the
 * benchmark therefore measures exactly those primitives.
 */
#ifndef CL_HANDOFF_HANDOFF_H
#define CL_HANDOFF_HANDOFF_H

#include "common/impl.h"

enum cl_handoff_lock {
  CL_HANDOFF_LOCK_FUTEX,   /* struct cl_futex_lock: spin, then futex */
  CL_HANDOFF_LOCK_PTHREAD, /* pthread_mutex_t */
};

struct cl_handoff_config {
  enum cl_handoff_lock lock;
  enum cl_park_kind park; /* how a blocked thread sleeps (parker.h) */
  unsigned park_spin;     /* pauses spun before sleeping */
};

/* Makes a channel of this engine for implementation impl, or returns NULL
 * when out of memory. */
struct chan *cl_handoff_create(const struct cl_impl *impl, size_t elem_size,
                               size_t capacity,
                               const struct cl_handoff_config *config);

#endif /* CL_HANDOFF_HANDOFF_H */
