/*
 * exec.c - the executor axis: the suite's fiber runtimes, each also as the
 * fiber scheduler of a round's roles (struct bq_fibers, as a row's own
 * scheduler is), and goroutines that are threads or fibers (see
 * "executors" in bench_common.h). The roles of a round start in round.c;
 * task_start() is for the rest: a pattern benchmark's body and helpers,
 * the runtime scenarios.
 */
#include "bench_common.h"

#include <chan/chan_debug.h>

#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
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

/* The runtime of that kind, started on first use; NULL with the reason in
 * bq_error() if it cannot be. */
static chan_rt *runtime(enum suite_rt kind) {
  if (runtimes[kind])
    return runtimes[kind];
  struct chan_rt_options o = {0};
  o.unguarded = kind == RT_UNGUARDED;
  o.workers = kind == RT_SINGLE ? 1 : 0;
  int rc = chan_rt_start(&runtimes[kind], &o);
  if (rc != CHAN_OK) {
    bq_fail(rc, "chan_rt_start: %s (%s)", chan_strerror(rc), chan_last_error());
    runtimes[kind] = NULL;
  }
  return runtimes[kind];
}

chan_rt *suite_runtime(bench_state *st, enum suite_rt kind) {
  chan_rt *rt = runtime(kind);
  if (!rt)
    bench_fail(st, bq_error());
  return rt;
}

static void runtime_stop(enum suite_rt kind) {
  if (!runtimes[kind])
    return;
  /* Every benchmark joins its fibers: a runtime that does not stop in 10 s
   * is a bug worth saying, not a reason to hang. */
  if (chan_rt_stop(runtimes[kind], 10LL * 1000000000) != CHAN_OK) {
    fprintf(stderr, "chanbench: a fiber runtime still has fibers (%s)\n",
            chan_last_error());
    return;
  }
  chan_rt_free(runtimes[kind]);
  runtimes[kind] = NULL;
}

void exec_sched_snap(struct chan_debug_rt_stats *out) {
  *out = (struct chan_debug_rt_stats){0};
  for (int k = 0; k < SUITE_RT_N; k++) {
    if (!runtimes[k])
      continue;
    struct chan_debug_rt_stats s;
    chan_debug_rt_stats(runtimes[k], &s);
#define SCHED_ADD(name, what) out->name += s.name;
    CHAN_DEBUG_RT_COUNTERS(SCHED_ADD)
#undef SCHED_ADD
  }
}

void exec_release(void) {
  for (int k = 0; k < SUITE_RT_N; k++)
    runtime_stop(k);
}

/* ---- a runtime as the fiber scheduler of a round (struct bq_fibers) ------ */

/* One role's fiber: waits at the gate (a chanlab channel, closed to start
 * them all), then runs its task unless the round was called off. */
struct gated {
  chan_t *gate;
  const _Atomic int *call_off;
  void (*task)(void *arg, size_t i);
  void *arg;
  size_t i;
};

static void *gated_main(void *p) {
  const struct gated *g = p;
  chan_recv(g->gate, NULL); /* returns CHAN_CLOSED when the gate opens */
  if (!atomic_load(g->call_off))
    g->task(g->arg, g->i);
  return NULL;
}

/* bq_fibers.run on the runtime of that kind: spawns the fibers, waits
 * until every one is observably parked at the gate (no sleeping), calls go
 * and opens the gate, then joins them. Fibers that could not all start are
 * called off (released without running their tasks), not left waiting. */
static int runtime_run(enum suite_rt kind, size_t n,
                       void (*task)(void *arg, size_t i), void (*go)(void *arg),
                       void *arg) {
  chan_rt *rt = runtime(kind);
  if (!rt)
    return CHAN_ENOMEM;
  if (n == 0 || !task)
    return bq_fail(CHAN_EINVAL, "run needs tasks");
  struct gated *g = calloc(n, sizeof *g);
  chan_fiber **fibers = calloc(n, sizeof *fibers);
  chan_t *gate = NULL;
  int rc =
      !g || !fibers ? bq_fail(CHAN_ENOMEM, "out of memory")
      : chan_make(&gate, NULL, 0, 0) != CHAN_OK
          ? bq_fail(CHAN_ENOMEM, "chan_make (the gate): %s", chan_last_error())
          : CHAN_OK;
  _Atomic int call_off = 0;
  size_t started = 0;
  for (; rc == CHAN_OK && started < n; started++) {
    g[started] = (struct gated){gate, &call_off, task, arg, started};
    int s = chan_fiber_spawn(rt, &fibers[started], gated_main, &g[started]);
    if (s != CHAN_OK) {
      rc = bq_fail(s, "chan_fiber_spawn: %s (%s)", chan_strerror(s),
                   chan_last_error());
      break;
    }
  }
  /* Every role waits at the gate before it opens, as threads do at their
   * barrier: observably, parked on it. */
  int64_t deadline = now_ns() + 10LL * 1000000000;
  while (rc == CHAN_OK && chan_debug_waiters(gate, CHAN_RECV) < n &&
         now_ns() < deadline)
    sched_yield();
  if (rc == CHAN_OK && chan_debug_waiters(gate, CHAN_RECV) < n)
    rc = bq_fail(CHAN_EBUSY,
                 "the role fibers did not all reach the start gate in 10 s");
  if (rc != CHAN_OK)
    atomic_store(&call_off, 1);
  else if (go)
    go(arg);
  if (gate)
    chan_close(gate);
  for (size_t i = 0; i < started; i++)
    chan_fiber_join(fibers[i], NULL);
  if (gate)
    chan_destroy(gate);
  free(fibers);
  free(g);
  return rc;
}

static unsigned runtime_workers(enum suite_rt kind) {
  chan_rt *rt = runtime(kind);
  return rt ? chan_rt_workers(rt) : 0;
}

/* One bq_fibers per runtime kind: its functions take no context. */
#define RUNTIME_FIBERS(KIND, name_)                                            \
  static int run_##KIND(size_t n, void (*task)(void *, size_t),                \
                        void (*go)(void *), void *arg) {                       \
    return runtime_run(KIND, n, task, go, arg);                                \
  }                                                                            \
  static unsigned workers_##KIND(void) {                                       \
    return runtime_workers(KIND);                                              \
  }                                                                            \
  static void shutdown_##KIND(void) {                                          \
    runtime_stop(KIND);                                                        \
  }                                                                            \
  static const struct bq_fibers fibers_##KIND = {                              \
      name_, run_##KIND, workers_##KIND, shutdown_##KIND};
RUNTIME_FIBERS(RT_MAIN, "chanlab's fiber runtime, one pinned worker per PU")
RUNTIME_FIBERS(RT_UNGUARDED, "chanlab's fiber runtime, unguarded stacks")
RUNTIME_FIBERS(RT_SINGLE, "chanlab's fiber runtime, one worker")

const struct bq_fibers *suite_fibers(enum suite_rt kind) {
  static const struct bq_fibers *const all[SUITE_RT_N] = {
      [RT_MAIN] = &fibers_RT_MAIN,
      [RT_UNGUARDED] = &fibers_RT_UNGUARDED,
      [RT_SINGLE] = &fibers_RT_SINGLE,
  };
  return all[kind];
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
