/*
 * go.c - the patterns library's `go` statement: every goroutine a component
 * starts is an OS thread, or a fiber when its context runs on a fiber
 * runtime (fiber.h, pat_ctx_with_runtime). Components are written once and
 * run on either executor; only this file knows the difference.
 */
#include "internal.h"

#include <string.h>

int cl_go_start(struct cl_go *g, chan_rt *rt, void *(*fn)(void *), void *arg,
                const char *what) {
  memset(g, 0, sizeof *g);
  if (rt) {
    int rc = chan_fiber_spawn(rt, &g->fiber, fn, arg);
    if (rc != CHAN_OK)
      return cl_pat_fail(PAT_ETHREAD, "%s: could not start a fiber: %s", what,
                         chan_last_error());
  } else {
    int rc = pthread_create(&g->thread, NULL, fn, arg);
    if (rc != 0)
      return cl_pat_fail(PAT_ETHREAD, "%s: could not start a thread: %s", what,
                         strerror(rc));
  }
  g->started = true;
  return PAT_OK;
}

void cl_go_join(struct cl_go *g) {
  if (!g->started)
    return;
  if (g->fiber)
    chan_fiber_join(g->fiber, NULL);
  else
    pthread_join(g->thread, NULL);
  g->started = false;
}
