/*
 * lifecycle.c - the costs around the operations rather than in them.
 *
 *   lifecycle:   chan_make + chan_destroy, with bytes and allocations per
 *                channel (the only place a channel may allocate).
 *   close_storm: W receivers blocked on one channel (counted parked with
 *                chan_debug_waiters, not slept for), then chan_close; the
 *                time is from the close until the last one has returned.
 *   idle:        a receiver blocked on an empty channel, left alone past any
 *                spin phase; its CPU time per second of waiting (should be
 *                near zero: parking, not spinning). On fibers (exec:fiber)
 *                the receiver is a fiber and the figure is the whole
 *                runtime's CPU (every worker, from the process's CPU clock
 *                minus the measuring thread's): an idle runtime.
 */
#include "../bench_common.h"

#include <chan/chan_debug.h>

#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* ---- make and destroy ------------------------------------------------------
 */

struct life_arg {
  const struct bq_ops *q;
  int64_t cap;
};

static void bm_lifecycle(bench_state *st, void *user) {
  const struct life_arg *a = user;
  struct cost c0, c1, cost = {0};
  int64_t n = 0;
  cost_snap(&c0);
  int64_t batch;
  while (bench_keep_running_batch(st, batch = round_batch(st, 16, 16))) {
    for (int64_t i = 0; i < batch; i++) {
      struct queue q;
      if (queue_make(st, a->q, 8, (size_t)a->cap, &q) != 0)
        break;
      queue_destroy(&q);
    }
    n += batch;
  }
  cost_snap(&c1);
  cost_add_delta(&cost, &c0, &c1);
  bench_set_items_processed(st, n);
  if (n) {
    bench_counter(st, "alloc_bytes_per_chan",
                  (double)cost.alloc_bytes / (double)n, 0);
    bench_counter(st, "allocs_per_chan", (double)cost.alloc_calls / (double)n,
                  0);
  }
}

/* ---- close storm -------------------------------------------------------- */

struct storm_arg {
  const char *impl; /* a chanlab implementation (BQ_CHAN) */
  int64_t waiters;
};

struct storm_shared {
  chan_t *ch;
  atomic_int remaining;
  atomic_int bad;
};

static void *storm_waiter(void *p) {
  struct storm_shared *s = p;
  uint64_t v;
  if (chan_recv(s->ch, &v) != CHAN_CLOSED)
    atomic_fetch_add(&s->bad, 1);
  atomic_fetch_sub_explicit(&s->remaining, 1, memory_order_release);
  return NULL;
}

static void bm_close_storm(bench_state *st, void *user) {
  const struct storm_arg *a = user;
  int w = (int)a->waiters;
  pthread_t *threads = calloc((size_t)w, sizeof *threads);
  while (threads && bench_keep_running(st)) {
    struct storm_shared s = {bench_chan(st, a->impl, 8, 0), 0, 0};
    if (!s.ch)
      break;
    atomic_init(&s.remaining, w);
    int started = 0;
    for (; started < w; started++)
      if (pthread_create(&threads[started], NULL, storm_waiter, &s) != 0)
        break;
    /* Every waiter must be parked before the close (no sleeping). */
    int64_t deadline = now_ns() + 10LL * 1000000000;
    while (started == w && chan_debug_waiters(s.ch, CHAN_RECV) < (size_t)w &&
           now_ns() < deadline)
      sched_yield();
    bool parked = chan_debug_waiters(s.ch, CHAN_RECV) >= (size_t)w;
    int64_t t0 = now_ns();
    chan_close(s.ch);
    while (atomic_load_explicit(&s.remaining, memory_order_acquire) >
           w - started)
      sched_yield();
    int64_t t1 = now_ns();
    for (int i = 0; i < started; i++)
      pthread_join(threads[i], NULL);
    chan_destroy(s.ch);
    if (started < w || !parked || atomic_load(&s.bad)) {
      bench_fail(st, started < w ? "pthread_create failed"
                     : !parked   ? "waiters never all parked (10 s)"
                                 : "a waiter did not get CHAN_CLOSED");
      break;
    }
    bench_set_iteration_time(st, (double)(t1 - t0) * 1e-9);
  }
  bench_set_items_processed(st, bench_iteration_count(st) * w);
  free(threads);
}

/* ---- idle waiter CPU ---------------------------------------------------- */

struct idle_shared {
  chan_t *ch;
  clockid_t clock; /* the waiting thread's CPU clock */
  atomic_int ready;
};

static void *idle_waiter(void *p) {
  struct idle_shared *s = p;
  if (!chan_fiber_self())
    pthread_getcpuclockid(pthread_self(), &s->clock);
  atomic_store(&s->ready, 1);
  uint64_t v;
  chan_recv(s->ch, &v);
  return NULL;
}

static int64_t clock_ns(clockid_t c) {
  struct timespec ts;
  clock_gettime(c, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_ns(int64_t ns) {
  struct timespec ts = {ns / 1000000000, ns % 1000000000};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

struct idle_arg {
  const char *impl;
  enum exec exec;
};

/* CPU time of what waits: the waiting thread, or on fibers every thread of
 * the process but this one (the runtime's workers). */
static int64_t idle_cpu(const struct idle_arg *a, const struct idle_shared *s) {
  if (a->exec == EXEC_THREAD)
    return clock_ns(s->clock);
  struct cost c;
  cost_snap_others(&c);
  return c.cpu_ns;
}

static void bm_idle(bench_state *st, void *user) {
  const struct idle_arg *a = user;
  const int64_t settle = 20000000,
                window = g_suite.full ? 500000000 : 100000000;
  chan_rt *rt = NULL;
  if (a->exec == EXEC_FIBER && !(rt = suite_runtime(st, RT_MAIN)))
    return;
  while (bench_keep_running(st)) {
    struct idle_shared s = {bench_chan(st, a->impl, 8, 0), 0, 0};
    if (!s.ch)
      break;
    struct task t;
    char err[200];
    if (task_start(&t, a->exec, rt, idle_waiter, &s, err, sizeof err) != 0) {
      bench_fail(st, err);
      chan_destroy(s.ch);
      break;
    }
    int64_t deadline = now_ns() + 10LL * 1000000000;
    while (
        (!atomic_load(&s.ready) || chan_debug_waiters(s.ch, CHAN_RECV) < 1) &&
        now_ns() < deadline)
      sched_yield();
    if (chan_debug_waiters(s.ch, CHAN_RECV) < 1) {
      bench_fail(st, "the receiver never parked (10 s)");
      chan_close(s.ch);
      task_join(&t);
      chan_destroy(s.ch);
      break;
    }
    /* The sleeps are the measurement window, not an ordering device: the
     * waiter is already known to be blocked. */
    sleep_ns(settle);
    int64_t c0 = idle_cpu(a, &s), t0 = now_ns();
    sleep_ns(window);
    int64_t c1 = idle_cpu(a, &s), t1 = now_ns();
    chan_close(s.ch);
    task_join(&t);
    chan_destroy(s.ch);
    bench_set_iteration_time(st, (double)(t1 - t0) * 1e-9);
    /* On fibers, two clocks read one after the other: a delta of nothing
     * can come out a few nanoseconds below zero. */
    int64_t used = c1 - c0 > 0 ? c1 - c0 : 0;
    bench_counter(st, "idle_cpu_pct", 100.0 * (double)used / (double)(t1 - t0),
                  0);
  }
}

void register_lifecycle(const struct scenario *sc) {
  static const int64_t caps[] = {0, 128, 1024};
  const struct bq_ops *qs[QUEUES_MAX];
  int nq = suite_queues(sc, 0, qs);
  for (int i = 0; i < nq; i++)
    for (int c = 0; c < 3; c++) {
      if (!g_suite.full && caps[c] != 128)
        continue; /* quick: a buffered channel */
      if (caps[c] == 0 && !(qs[i]->features & BQ_RENDEZVOUS)) {
        suite_absent(sc, qs[i], "cap 0: capacity 0 is not a rendezvous");
        continue;
      }
      if (!suite_measures(sc, qs[i], NULL))
        continue;
      struct life_arg a = {qs[i], caps[c]};
      bench_def *b = suite_register(sc, a.q, NULL, bm_lifecycle, &a, sizeof a);
      bench_arg_names(b, (const char *const[]){"cap"}, 1);
      bench_arg(b, caps[c]);
    }
}

void register_close_storm(const struct scenario *sc) {
  const struct bq_ops *qs[QUEUES_MAX];
  int nq = suite_queues(sc, BQ_CHAN, qs);
  for (int i = 0; i < nq; i++)
    for (int64_t w = g_suite.full ? 4 : 64; w <= (g_suite.full ? 256 : 64);
         w *= 4) { /* quick: a storm of 64 */
      struct storm_arg a = {qs[i]->name, w};
      bench_def *b =
          suite_register(sc, qs[i], NULL, bm_close_storm, &a, sizeof a);
      bench_arg_names(b, (const char *const[]){"waiters"}, 1);
      bench_arg(b, w);
      bench_use_manual_time(b);
      bench_unit(b, BENCH_US);
    }
}

void register_idle(const struct scenario *sc) {
  const struct bq_ops *qs[QUEUES_MAX];
  int nq = suite_queues(sc, BQ_CHAN, qs);
  const struct placement *unpinned =
      topo_placement(g_suite.topo, PLACE_UNPINNED);
  for (int i = 0; i < nq; i++)
    for (int e = 0; e < EXEC_N; e++) {
      if (!g_suite.exec_on[e])
        continue;
      /* The waiting thread is not pinned; a fiber is where its runtime
       * puts it. */
      struct where w = {.exec = e, .pl = e == EXEC_THREAD ? unpinned : NULL};
      struct idle_arg a = {qs[i]->name, e};
      bench_def *b = suite_register_at(sc, qs[i], &w, bm_idle, &a, sizeof a);
      bench_use_manual_time(b);
      bench_iterations(b, 1);
      bench_unit(b, BENCH_MS);
    }
}
