/*
 * park_stub.c - the park seam (park_seam.h) and the public fiber API
 * (chan/fiber.h) of a thread-only libchan, built with -DCHAN_FIBERS=OFF in
 * place of fiber/ (CMakeLists.txt leaves this file out otherwise).
 *
 * There are no fibers: cl_fiber_current() is always NULL, so every parker
 * parks a thread (futex or condvar, as its channel asks) and the other two
 * seam functions are never reached. Every fiber entry point links and
 * returns CHAN_ENOTSUP with a message saying why, except the ones whose
 * plain-thread answer is already defined: chan_fiber_self, _runtime (NULL),
 * _id, chan_rt_workers (0), chan_fiber_sleep (the thread sleeps) and
 * chan_debug_rt_stats (zeroes).
 */
#include <chan/chan_debug.h>
#include <chan/fiber.h>

#include <stdlib.h>

#include "common/parker.h"

#define NO_FIBERS(fn)                                                         \
  cl_set_error(CHAN_ENOTSUP,                                                  \
               fn ": this libchan was built without the fiber runtime "       \
                  "(CHAN_FIBERS=OFF)")

/* ---- the seam --------------------------------------------------------- */

struct chan_fiber *cl_fiber_current(void) {
  return NULL;
}

/* Unreachable: only a parker made on a fiber has kind CL_PARK_FIBER. */
bool cl_fiber_wait(struct chan_parker *p, int64_t deadline) {
  (void)p;
  (void)deadline;
  abort();
}

void cl_fiber_ready(struct chan_fiber *f) {
  (void)f;
  abort();
}

/* ---- chan/fiber.h ----------------------------------------------------- */

int chan_rt_start(chan_rt **out, const struct chan_rt_options *options) {
  (void)options;
  if (out)
    *out = NULL;
  return NO_FIBERS("chan_rt_start");
}

int chan_rt_stop(chan_rt *rt, int64_t timeout_ns) {
  (void)rt;
  (void)timeout_ns;
  return NO_FIBERS("chan_rt_stop");
}

int chan_rt_free(chan_rt *rt) {
  (void)rt;
  return NO_FIBERS("chan_rt_free");
}

unsigned chan_rt_workers(const chan_rt *rt) {
  (void)rt;
  return 0;
}

int chan_fiber_spawn(chan_rt *rt, chan_fiber **out, chan_fiber_fn fn,
                     void *arg) {
  (void)rt;
  (void)fn;
  (void)arg;
  if (out)
    *out = NULL;
  return NO_FIBERS("chan_fiber_spawn");
}

int chan_fiber_join(chan_fiber *f, void **ret) {
  (void)f;
  (void)ret;
  return NO_FIBERS("chan_fiber_join");
}

chan_fiber *chan_fiber_self(void) {
  return NULL;
}

chan_rt *chan_fiber_runtime(void) {
  return NULL;
}

uint64_t chan_fiber_id(const chan_fiber *f) {
  (void)f;
  return 0;
}

int chan_fiber_yield(void) {
  return NO_FIBERS("chan_fiber_yield");
}

int chan_fiber_exit(void *ret) {
  (void)ret;
  return NO_FIBERS("chan_fiber_exit");
}

/* ---- chan/chan_debug.h ------------------------------------------------ */

void chan_debug_rt_stats(const struct chan_rt *rt,
                         struct chan_debug_rt_stats *out) {
  (void)rt;
  if (out)
    *out = (struct chan_debug_rt_stats){0};
}
