/*
 * pattern_bench.c - Go's concurrency patterns (include/chan/patterns.h),
 * measured: one scenario per pattern benchmark (scenarios.def), on every
 * chanlab implementation.
 *
 * Stream patterns move N values per round from a generator through the
 * pattern to this thread and report time per value (manual time over the
 * whole round, thread starts included, as a Go program pays them too):
 *   pattern_pipeline  depth 1, 4, 16 forwarding stages (unbuffered links)
 *   pattern_pool      worker pool of 1..4x PUs workers (buffered, unordered)
 *   pattern_fanin     n generators merged by a thread per input
 *   pattern_ordone    the or-done wrapper around a plain stream
 *   pattern_tee       tee into two consumers
 *   pattern_bridge    a stream of 16 successive channels flattened into one
 * One-shot patterns report time per call:
 *   pattern_semaphore pat_for_each_bounded: tasks with at most `limit` running
 *   pattern_errgroup  cancellation latency: from the failing task's return to
 *                     pat_errgroup_wait() returning, with W tasks parked on
 *                     the context
 *   pattern_first     replicated request: 3 replicas answering at once, and
 *                     with a 200 us timeout that every replica misses
 *   pattern_daisy     Pike's daisy chain, time per link
 */
#include "../bench_common.h"

#include <chan/patterns.h>

#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

struct pat_arg {
  const char *impl;
  int64_t n; /* depth, workers, inputs, limit, tasks or links */
};

static int gen_count(pat_ctx *ctx, void *arg, uint64_t index, void *out) {
  (void)ctx;
  if (index >= *(const uint64_t *)arg)
    return PAT_STOP;
  *(pat_item *)out = (pat_item)index;
  return PAT_OK;
}

static int map_same(pat_ctx *ctx, void *arg, const void *in, void *out) {
  (void)ctx, (void)arg;
  *(pat_item *)out = *(const pat_item *)in;
  return PAT_OK;
}

static void fail(bench_state *st, const char *what, int rc) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s (%s)", what, pat_strerror(rc),
           pat_last_error());
  bench_fail(st, msg);
}

/* Drains ch until closed; returns the number of values. */
static uint64_t drain(chan_t *ch) {
  pat_item v;
  uint64_t n = 0;
  while (chan_recv(ch, &v) == CHAN_OK)
    n++;
  return n;
}

static void *drain_thread(void *ch) {
  drain(ch);
  return NULL;
}

enum stream_kind { PIPELINE, POOL, FANIN, ORDONE, TEE };

/* One round of a stream pattern; returns its wall time or -1 (skipped). */
static int64_t stream_round(bench_state *st, enum stream_kind kind,
                            const struct pat_arg *a, uint64_t count) {
  const char *impl = a->impl;
  int64_t t0 = now_ns(), elapsed = -1;
  chan_t *src = NULL, *out = NULL, *out2 = NULL, *ins[16] = {0};
  pat_proc *gen[16] = {0}, *p = NULL;
  pat_pipeline *pl = NULL;
  int ngen = kind == FANIN ? (int)a->n : 1, rc = PAT_OK;
  uint64_t share[16];
  size_t cap = kind == POOL ? 128 : 0;
  for (int i = 0; i < ngen && rc == PAT_OK; i++) {
    share[i] = count / (uint64_t)ngen + ((uint64_t)i < count % (uint64_t)ngen);
    rc = chan_make(&ins[i], impl, sizeof(pat_item), cap);
    if (rc == PAT_OK)
      rc = pat_generator_start(&gen[i], NULL, ins[i], gen_count, &share[i]);
  }
  src = ins[0];
  if (rc == PAT_OK && kind != PIPELINE)
    rc = chan_make(&out, impl, sizeof(pat_item), cap);
  if (rc == PAT_OK && kind == TEE)
    rc = chan_make(&out2, impl, sizeof(pat_item), 0);
  if (rc == PAT_OK)
    switch (kind) {
    case PIPELINE:
      rc = pat_pipeline_make(&pl, NULL, src);
      for (int64_t d = 0; d < a->n && rc == PAT_OK; d++)
        rc = pat_pipeline_add(pl, NULL, NULL, sizeof(pat_item), 0);
      if (rc == PAT_OK)
        out = pat_pipeline_out(pl);
      break;
    case POOL:
      rc = pat_pool_start(&p, NULL, src, out, (size_t)a->n, PAT_UNORDERED,
                          map_same, NULL);
      break;
    case FANIN:
      rc = pat_fan_in_start(&p, NULL, ins, (size_t)ngen, out);
      break;
    case ORDONE:
      rc = pat_or_done_start(&p, NULL, src, out);
      break;
    case TEE:
      rc = pat_tee_start(&p, NULL, src, out, out2);
      break;
    }
  if (rc != PAT_OK) {
    fail(st, "start", rc);
  } else {
    pthread_t other;
    bool two =
        kind == TEE && pthread_create(&other, NULL, drain_thread, out2) == 0;
    uint64_t got = drain(out);
    if (two)
      pthread_join(other, NULL);
    elapsed = now_ns() - t0;
    if (kind == TEE && !two) {
      bench_fail(st, "pthread_create failed");
      elapsed = -1;
    } else if (got != count) {
      char msg[128];
      snprintf(msg, sizeof msg, "received %llu of %llu values",
               (unsigned long long)got, (unsigned long long)count);
      bench_fail(st, msg);
      elapsed = -1;
    }
  }
  if (pl) {
    int w = pat_pipeline_wait(pl);
    if (w != PAT_OK && elapsed >= 0)
      fail(st, "pipeline", w), elapsed = -1;
    pat_pipeline_free(pl);
    out = NULL; /* the pipeline's own link */
  }
  if (p) {
    int w = pat_proc_wait(p);
    if (w != PAT_OK && elapsed >= 0)
      fail(st, "wait", w), elapsed = -1;
    pat_proc_free(p);
  }
  for (int i = 0; i < ngen; i++) {
    pat_proc_free(gen[i]);
    chan_destroy(ins[i]);
  }
  chan_destroy(out);
  chan_destroy(out2);
  return elapsed;
}

static void bm_stream(bench_state *st, const struct pat_arg *a,
                      enum stream_kind kind) {
  const int64_t hi = g_suite.messages / (kind == PIPELINE ? 4 : 1);
  int64_t batch;
  int64_t msgs = 0, started = now_ns();
  while (bench_keep_running_batch(st, batch = round_batch(st, 500, hi))) {
    if (suite_over_budget(st, started))
      break;
    int64_t ns = stream_round(st, kind, a, (uint64_t)batch);
    if (ns < 0)
      break;
    bench_set_iteration_time(st, (double)ns * 1e-9);
    msgs += batch;
  }
  bench_set_items_processed(st, msgs);
}

static void bm_pipeline(bench_state *st, void *u) {
  bm_stream(st, u, PIPELINE);
}
static void bm_pool(bench_state *st, void *u) {
  bm_stream(st, u, POOL);
}
static void bm_fanin(bench_state *st, void *u) {
  bm_stream(st, u, FANIN);
}
static void bm_ordone(bench_state *st, void *u) {
  bm_stream(st, u, ORDONE);
}
static void bm_tee(bench_state *st, void *u) {
  bm_stream(st, u, TEE);
}

/* ---- bridge: a stream of streams ------------------------------------------
 */

#define BRIDGE_CHUNKS 16

struct bridge_feed {
  const char *impl;
  chan_t *streams;
  chan_t *inner[BRIDGE_CHUNKS];
  uint64_t count;
  int rc;
};

/* Makes BRIDGE_CHUNKS channels one after the other, hands each to the bridge
 * and streams its share of the values on it, then closes it. */
static void *bridge_feeder(void *p) {
  struct bridge_feed *f = p;
  for (int k = 0; k < BRIDGE_CHUNKS && f->rc == PAT_OK; k++) {
    f->rc = chan_make(&f->inner[k], f->impl, sizeof(pat_item), 0);
    if (f->rc == PAT_OK)
      f->rc = chan_send(f->streams, &f->inner[k]);
    uint64_t n =
        f->count / BRIDGE_CHUNKS + ((uint64_t)k < f->count % BRIDGE_CHUNKS);
    for (pat_item v = 0; f->rc == PAT_OK && (uint64_t)v < n; v++)
      f->rc = chan_send(f->inner[k], &v);
    if (f->inner[k])
      chan_close(f->inner[k]);
  }
  chan_close(f->streams);
  return NULL;
}

static void bm_bridge(bench_state *st, void *u) {
  const struct pat_arg *a = u;
  int64_t batch;
  int64_t msgs = 0, started = now_ns();
  while (bench_keep_running_batch(
      st, batch = round_batch(st, 500, g_suite.messages))) {
    if (suite_over_budget(st, started))
      break;
    struct bridge_feed f = {.impl = a->impl, .count = (uint64_t)batch};
    chan_t *out = NULL;
    pat_proc *p = NULL;
    pthread_t feeder;
    bool fed = false;
    int64_t t0 = now_ns(), elapsed = -1;
    int rc = chan_make(&f.streams, a->impl, sizeof(chan_t *), 0);
    if (rc == PAT_OK)
      rc = chan_make(&out, a->impl, sizeof(pat_item), 0);
    if (rc == PAT_OK)
      rc = pat_bridge_start(&p, NULL, f.streams, out);
    if (rc == PAT_OK)
      fed = pthread_create(&feeder, NULL, bridge_feeder, &f) == 0;
    if (fed) {
      uint64_t got = drain(out);
      pthread_join(feeder, NULL);
      elapsed = now_ns() - t0;
      rc = pat_proc_wait(p);
      if (rc == PAT_OK && f.rc != PAT_OK)
        rc = f.rc;
      if (rc == PAT_OK && got != (uint64_t)batch)
        rc = CHAN_EINVAL, fail(st, "bridge lost values", rc);
      else if (rc != PAT_OK)
        fail(st, "bridge", rc);
    } else {
      fail(st, "bridge start", rc == PAT_OK ? PAT_ETHREAD : rc);
    }
    pat_proc_free(p);
    for (int k = 0; k < BRIDGE_CHUNKS; k++)
      chan_destroy(f.inner[k]);
    chan_destroy(f.streams);
    chan_destroy(out);
    if (!fed || rc != PAT_OK)
      break;
    bench_set_iteration_time(st, (double)elapsed * 1e-9);
    msgs += batch;
  }
  bench_set_items_processed(st, msgs);
}

/* ---- one-shot patterns --------------------------------------------------- */

static int task_nothing(pat_ctx *ctx, void *arg, size_t index) {
  (void)ctx, (void)arg, (void)index;
  return PAT_OK;
}

static void bm_semaphore(bench_state *st, void *u) {
  const struct pat_arg *a = u;
  int64_t tasks;
  while (bench_keep_running_batch(st, tasks = round_batch(st, 64, 64))) {
    int rc = pat_for_each_bounded(NULL, a->impl, (size_t)tasks, (size_t)a->n,
                                  task_nothing, NULL);
    if (rc != PAT_OK) {
      fail(st, "pat_for_each_bounded", rc);
      break;
    }
  }
  bench_set_items_processed(st, bench_iteration_count(st));
}

struct eg_shared {
  atomic_int started;
  int waiters;
  _Atomic int64_t t_fail;
};

static int task_park(pat_ctx *ctx, void *arg) {
  struct eg_shared *s = arg;
  atomic_fetch_add(&s->started, 1);
  /* Parked on the context until the failing task cancels it. */
  return pat_ctx_sleep(ctx, 60LL * 1000000000) == PAT_CANCELED ? PAT_OK : -100;
}

static int task_fail(pat_ctx *ctx, void *arg) {
  (void)ctx;
  struct eg_shared *s = arg;
  while (atomic_load(&s->started) < s->waiters)
    sched_yield();
  atomic_store(&s->t_fail, now_ns());
  return -42; /* an application error: cancels the group */
}

static void bm_errgroup(bench_state *st, void *u) {
  const struct pat_arg *a = u;
  while (bench_keep_running(st)) {
    struct eg_shared s = {0, (int)a->n, 0};
    pat_errgroup *g = NULL;
    int rc = pat_errgroup_make(&g, NULL, a->impl);
    for (int i = 0; i < s.waiters && rc == PAT_OK; i++)
      rc = pat_errgroup_go(g, task_park, &s);
    if (rc == PAT_OK)
      rc = pat_errgroup_go(g, task_fail, &s);
    if (rc != PAT_OK) {
      fail(st, "errgroup start", rc);
      pat_errgroup_free(g);
      break;
    }
    rc = pat_errgroup_wait(g);
    int64_t t1 = now_ns();
    pat_errgroup_free(g);
    if (rc != -42) {
      fail(st, "errgroup did not return the task's error", rc);
      break;
    }
    bench_set_iteration_time(st, (double)(t1 - atomic_load(&s.t_fail)) * 1e-9);
  }
}

static int query_now(pat_ctx *ctx, void *replica, const void *query,
                     void *result) {
  (void)ctx;
  *(pat_item *)result = *(const pat_item *)query + (pat_item)(intptr_t)replica;
  return PAT_OK;
}

static int query_slow(pat_ctx *ctx, void *replica, const void *query,
                      void *result) {
  /* 1 s: far past the deadline, and canceled promptly when it passes. */
  int rc = pat_ctx_sleep(ctx, 1000000000);
  if (rc == PAT_OK)
    return query_now(ctx, replica, query, result);
  return rc;
}

struct first_arg {
  const char *impl;
  int64_t timeout_ns; /* 0: replicas answer at once, no timeout */
};

static void bm_first(bench_state *st, void *u) {
  const struct first_arg *a = u;
  void *const replicas[3] = {(void *)1, (void *)2, (void *)3};
  pat_item q = 7, result;
  int want = a->timeout_ns ? PAT_DEADLINE_EXCEEDED : PAT_OK;
  while (bench_keep_running(st)) {
    int rc = pat_first(NULL, a->impl, a->timeout_ns ? query_slow : query_now,
                       replicas, 3, &q, &result, sizeof result,
                       a->timeout_ns ? a->timeout_ns : CHAN_FOREVER, NULL);
    if (rc != want) {
      fail(st, "pat_first", rc);
      break;
    }
  }
}

static void bm_daisy(bench_state *st, void *u) {
  const struct pat_arg *a = u;
  int64_t links;
  while (bench_keep_running_batch(st, links = round_batch(st, a->n, a->n))) {
    pat_item result = 0;
    int rc = pat_daisy_chain(NULL, a->impl, (size_t)links, 1, &result);
    if (rc != PAT_OK || result != 1 + links) {
      fail(st, "pat_daisy_chain", rc);
      break;
    }
  }
  bench_set_items_processed(st, bench_iteration_count(st));
}

/* Registers one pattern benchmark per chanlab implementation for each value
 * of its parameter (key: its name, NULL for none); the quick suite runs only
 * the value `quick`. */
static void reg(const struct scenario *sc, bench_fn fn, const char *key,
                const int64_t *values, int nvalues, int64_t quick,
                bool manual) {
  const struct bq_ops *qs[QUEUES_MAX];
  int nq = suite_queues(sc, BQ_CHAN, qs);
  for (int i = 0; i < nq; i++)
    for (int v = 0; v < nvalues; v++) {
      if (!g_suite.full && values[v] != quick)
        continue;
      struct pat_arg a = {qs[i]->name, values[v]};
      bench_def *b = suite_register(sc, qs[i], NULL, fn, &a, sizeof a);
      if (key) {
        bench_arg_names(b, (const char *const[]){key}, 1);
        bench_arg(b, values[v]);
      }
      if (manual)
        bench_use_manual_time(b);
      else
        bench_use_real_time(b);
    }
}

static const int64_t none[] = {0};

void register_pattern_pipeline(const struct scenario *sc) {
  reg(sc, bm_pipeline, "depth", (const int64_t[]){1, 4, 16}, 3, 4, true);
}

void register_pattern_pool(const struct scenario *sc) {
  int64_t workers[16];
  int n = 0;
  for (int64_t w = 1; w <= 4 * g_suite.npus && n < 16; w *= 2)
    workers[n++] = w;
  /* quick: the second largest pool, about 2x the PUs */
  reg(sc, bm_pool, "workers", workers, n, workers[n > 1 ? n - 2 : 0], true);
}

void register_pattern_fanin(const struct scenario *sc) {
  reg(sc, bm_fanin, "inputs", (const int64_t[]){2, 4, 8}, 3, 4, true);
}

void register_pattern_ordone(const struct scenario *sc) {
  reg(sc, bm_ordone, NULL, none, 1, 0, true);
}

void register_pattern_tee(const struct scenario *sc) {
  reg(sc, bm_tee, NULL, none, 1, 0, true);
}

void register_pattern_bridge(const struct scenario *sc) {
  reg(sc, bm_bridge, NULL, none, 1, 0, true);
}

void register_pattern_semaphore(const struct scenario *sc) {
  reg(sc, bm_semaphore, "limit", (const int64_t[]){1, 2, 4}, 3, 2, false);
}

void register_pattern_errgroup(const struct scenario *sc) {
  reg(sc, bm_errgroup, "waiters", (const int64_t[]){1, 4, 16}, 3, 4, true);
}

void register_pattern_first(const struct scenario *sc) {
  const struct bq_ops *qs[QUEUES_MAX];
  int nq = suite_queues(sc, BQ_CHAN, qs);
  for (int i = 0; i < nq; i++)
    for (int t = 0; t < 2; t++) {
      struct first_arg fa = {qs[i]->name, t ? 200000 : 0};
      bench_def *b = suite_register(sc, qs[i], NULL, bm_first, &fa, sizeof fa);
      bench_arg_names(b, (const char *const[]){"timeout_ns"}, 1);
      bench_arg(b, fa.timeout_ns);
      bench_use_real_time(b);
    }
}

void register_pattern_daisy(const struct scenario *sc) {
  const int64_t links = g_suite.full ? 10000 : 1000;
  reg(sc, bm_daisy, "links", &links, 1, links, false);
}
