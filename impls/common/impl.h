/*
 * impl.h - the interface between the public API and the implementations.
 *
 * Like SQLite's VFS: an implementation is a named table (struct cl_impl)
 * registered in impls/registry.def and found by name.
 * Its create() makes a channel whose first member is struct chan, carrying
 * the operations table (struct cl_ops) the public functions dispatch to.
 *
 * Public functions (api.c) validate arguments and compute deadlines; what
 * the operations may assume and must guarantee is in chan/impl.h, which
 * defines the types (this header gives them their in-tree cl_ names).
 *
 * Blocking is shared machinery: a blocked thread is a struct cl_waiter
 * (waitq.h) queued on the channel and parked on a struct cl_parker
 * (parker.h); select (select.c) drives any mix of implementations through
 * select_enqueue / select_dequeue.
 */
#ifndef CL_COMMON_IMPL_H
#define CL_COMMON_IMPL_H

#include <chan/chan.h>
#include <chan/impl.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/chaos.h"

/* The interface itself is public (chan/impl.h: its contract, operation by
 * operation, for in-tree and loaded implementations alike). The in-tree
 * code keeps its cl_ names for the same types through the aliases below:
 * one definition, so the documented contract is what runs, and the
 * implementations did not have to change. */
#define cl_ops chan_ops
#define cl_impl chan_impl
#define cl_park_kind chan_park_kind
#define CL_PARK_FUTEX CHAN_PARK_FUTEX
#define CL_PARK_CONDVAR CHAN_PARK_CONDVAR
#define CL_PARK_FIBER CHAN_PARK_FIBER
#define cl_enqueue_result chan_enqueue_result
#define CL_ENQ_QUEUED CHAN_ENQ_QUEUED
#define CL_ENQ_SELF_FIRED CHAN_ENQ_SELF_FIRED
#define CL_ENQ_OTHER_FIRED CHAN_ENQ_OTHER_FIRED
#define CL_DEADLINE_NONE CHAN_DEADLINE_NONE
#define CL_DEADLINE_POLL CHAN_DEADLINE_POLL

int64_t cl_now_ns(void);
int64_t cl_deadline_after(int64_t timeout_ns); /* timeout_ns > 0 */

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
