/*
 * exec.c - the executor axis: the suite's fiber runtimes, and goroutines
 * that are threads or fibers (see "executors" in bench_common.h). The
 * roles of a round start in round.c; this is for the rest: a pattern
 * benchmark's body and helpers, the runtime scenarios.
 */
#include "bench_common.h"

#include <sched.h>
#include <stdio.h>
#include <string.h>

static const char *const exec_names[EXEC_N] = {"thread", "fiber"};

const char *exec_name(enum exec e) {
  return exec_names[e];
}

int exec_from_name(const char *s) {
  for (int e = 0; e < EXEC_N; e++)
    if (strcmp(s, exec_names[e]) == 0)
      return e;
  return -1;
}

const char *executor_summary(enum exec e) {
  static char fiber[200];
  if (e == EXEC_THREAD)
    return "an OS thread per goroutine (pthreads), pinned by placement class";
  snprintf(fiber, sizeof fiber,
           "fibers of chanlab's M:N runtime (fiber.h): %d workers, one per "
           "PU, pinned by the runtime (place:runtime); %zu KiB guarded stacks",
           g_suite.npus, CHAN_FIBER_STACK_DEFAULT >> 10);
  return fiber;
}

/* ---- the runtimes -------------------------------------------------------- */

/* Started by the benchmark thread (Google Benchmark runs every benchmark on
 * it; only tryops uses more threads, and it never runs fibers). */
static chan_rt *runtimes[SUITE_RT_N];

chan_rt *suite_runtime(bench_state *st, enum suite_rt kind) {
  if (runtimes[kind])
    return runtimes[kind];
  struct chan_rt_options o = {0};
  o.unguarded = kind == RT_UNGUARDED;
  o.workers = kind == RT_SINGLE ? 1 : 0;
  int rc = chan_rt_start(&runtimes[kind], &o);
  if (rc != CHAN_OK) {
    char msg[256];
    snprintf(msg, sizeof msg, "chan_rt_start: %s (%s)", chan_strerror(rc),
             chan_last_error());
    bench_fail(st, msg);
    runtimes[kind] = NULL;
  }
  return runtimes[kind];
}

void exec_release(void) {
  for (int k = 0; k < SUITE_RT_N; k++) {
    if (!runtimes[k])
      continue;
    /* Every benchmark joins its fibers: a runtime that does not stop in
     * 10 s is a bug worth saying, not a reason to hang. */
    if (chan_rt_stop(runtimes[k], 10LL * 1000000000) != CHAN_OK) {
      fprintf(stderr, "chanbench: a fiber runtime still has fibers (%s)\n",
              chan_last_error());
      continue;
    }
    chan_rt_free(runtimes[k]);
    runtimes[k] = NULL;
  }
}

/* ---- goroutines ---------------------------------------------------------- */

int task_start(struct task *t, enum exec e, chan_rt *rt, void *(*fn)(void *),
               void *arg, char *err, size_t errlen) {
  memset(t, 0, sizeof *t);
  if (e == EXEC_FIBER) {
    if (!rt)
      rt = chan_fiber_runtime();
    int rc = rt ? chan_fiber_spawn(rt, &t->fiber, fn, arg) : CHAN_ENOTFIBER;
    if (rc != CHAN_OK) {
      snprintf(err, errlen, "chan_fiber_spawn: %s (%s)", chan_strerror(rc),
               rt ? chan_last_error() : "no runtime");
      return -1;
    }
  } else {
    int rc = pthread_create(&t->thread, NULL, fn, arg);
    if (rc != 0) {
      snprintf(err, errlen, "pthread_create: %s", strerror(rc));
      return -1;
    }
  }
  t->started = true;
  return 0;
}

void *task_join(struct task *t) {
  void *ret = NULL;
  if (!t->started)
    return NULL;
  if (t->fiber)
    chan_fiber_join(t->fiber, &ret);
  else
    pthread_join(t->thread, &ret);
  t->started = false;
  return ret;
}

int exec_call(bench_state *st, enum exec e, chan_rt *rt, void *(*fn)(void *),
              void *arg, void **ret) {
  if (e == EXEC_THREAD) {
    void *r = fn(arg);
    if (ret)
      *ret = r;
    return 0;
  }
  if (!rt && !(rt = suite_runtime(st, RT_MAIN)))
    return -1;
  struct task t;
  char err[200];
  if (task_start(&t, EXEC_FIBER, rt, fn, arg, err, sizeof err) != 0) {
    bench_fail(st, err);
    return -1;
  }
  void *r = task_join(&t);
  if (ret)
    *ret = r;
  return 0;
}

void exec_yield(void) {
  if (chan_fiber_yield() == CHAN_ENOTFIBER)
    sched_yield();
}
