/*
 * impl.h - the interface between the public API and the implementations.
 *
 * Like SQLite's VFS: an implementation is a named table (struct cl_impl)
 * registered in impls/registry.def and found by name.
 * Its create() makes a channel whose first member is struct chan, carrying
 * the operations table (struct cl_ops) the public functions dispatch to.
 *
 * Public functions (api.c) validate arguments and compute deadlines; the
 * operations below may assume: ch non-NULL, elem non-NULL where
 * elem_size > 0 on send, deadline already absolute.
 *
 * Blocking is shared machinery: a blocked thread is a struct cl_waiter
 * (waitq.h) queued on the channel and parked on a struct cl_parker
 * (parker.h); select (select.c) drives any mix of implementations through
 * select_enqueue / select_dequeue.
 */
#ifndef CL_COMMON_IMPL_H
#define CL_COMMON_IMPL_H

#include <chan/chan.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/chaos.h"

/* Deadlines are absolute CLOCK_MONOTONIC nanoseconds, or one of these. */
#define CL_DEADLINE_NONE INT64_MAX /* block until done */
#define CL_DEADLINE_POLL INT64_MIN /* never block */

int64_t cl_now_ns(void);
int64_t cl_deadline_after(int64_t timeout_ns); /* timeout_ns > 0 */

struct cl_waiter;

/* How a blocked waiter sleeps (parker.h): a thread as its channel chooses,
 * a fiber always in user space. */
enum cl_park_kind { CL_PARK_FUTEX, CL_PARK_CONDVAR, CL_PARK_FIBER };

/* What select_enqueue() did with a waiter. */
enum cl_enqueue_result {
  CL_ENQ_QUEUED,      /* queued; a counterpart or close will claim it */
  CL_ENQ_SELF_FIRED,  /* claimed its own parker: outcome is set */
  CL_ENQ_OTHER_FIRED, /* another case claimed the parker first */
};

struct cl_ops {
  /* Send/receive with a deadline (CL_DEADLINE_POLL: try only).
   * Return CHAN_OK, CHAN_CLOSED, CHAN_WOULD_BLOCK (poll) or CHAN_TIMEOUT. */
  int (*send)(struct chan *ch, const void *elem, int64_t deadline);
  int (*recv)(struct chan *ch, void *elem, int64_t deadline);
  int (*close)(struct chan *ch); /* CHAN_OK or CHAN_EALREADY_CLOSED */
  size_t (*len)(const struct chan *ch);
  /* A counter that changes whenever the channel may have become ready for
   * some operation (a value or waiter arrived, or a close). A non-blocking
   * select that saw no case ready, and no counter change across its scan,
   * knows there was an instant when no case was ready (select.c). */
  uint64_t (*change_count)(const struct chan *ch);
  /* Waiters registered in dir; with asleep, only those whose parker has
   * committed to sleep (chan_debug_waiters / chan_debug_sleepers). */
  size_t (*waiters)(const struct chan *ch, enum chan_dir dir, bool asleep);
  void (*destroy)(struct chan *ch); /* only when waiters() == 0 */

  /* Select protocol (see select.c). select_enqueue registers w for its
   * direction; if the operation can proceed now it must instead claim
   * w->parker and either complete the operation (outcome CHAN_OK or
   * CHAN_CLOSED) or set outcome CL_OUTCOME_RETRY. select_dequeue removes
   * w if it is still queued. */
  enum cl_enqueue_result (*select_enqueue)(struct chan *ch,
                                           struct cl_waiter *w);
  void (*select_dequeue)(struct chan *ch, struct cl_waiter *w);

  /* For implementations that wake waiters to retry instead of handing them
   * a value (outcome CL_OUTCOME_NOTIFIED): a woken select that did not
   * take this channel passes the wake-up on. NULL if never needed. */
  void (*renotify)(struct chan *ch, enum chan_dir dir);
};

/* Every channel starts with this. */
struct chan {
  const struct cl_ops *ops;
  const struct cl_impl *impl;
  size_t elem_size;
  size_t capacity;
  enum cl_park_kind park_kind;
  unsigned park_spin; /* spin iterations before sleeping */
};

/* A registered implementation. A folder under impls/ holds an engine and
 * the implementations built on it (handoff/ holds two, as configurations). */
struct cl_impl {
  const char *name;    /* as passed to chan_make() */
  const char *summary; /* one line, for chan_impl_summary() and listings */
  /* Returns a new channel, or NULL when out of memory. */
  struct chan *(*create)(const struct cl_impl *impl, size_t elem_size,
                         size_t capacity);
  const void *config; /* the engine's settings for this implementation */
};

/* Copies a value; dst NULL discards it; size 0 copies nothing. */
static inline void cl_elem_copy(void *dst, const void *src, size_t size) {
  if (dst && size)
    memcpy(dst, src, size);
}

/* The zero value delivered by a receive on a closed channel. */
static inline void cl_elem_zero(void *dst, size_t size) {
  if (dst && size)
    memset(dst, 0, size);
}

/* Records a message for chan_last_error() and returns status. */
int cl_set_error(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* CL_COMMON_IMPL_H */
