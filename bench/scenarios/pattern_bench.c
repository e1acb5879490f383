/*
 * pattern_bench.c - Go's concurrency patterns (include/chan/patterns.h),
 * measured: one scenario per pattern benchmark (scenarios.def), on every
 * chanlab implementation and on both executors: with exec:thread each
 * component's goroutines are OS threads; with exec:fiber the benchmark's
 * body runs on a fiber of the suite's runtime, so the components it starts
 * (with a NULL context: the caller's executor) run as fibers there.
 *
 * Stream patterns move N values per round from a generator through the
 * pattern to the benchmark's goroutine and report time per value (manual
 * time over the whole round, goroutine starts included, as a Go program
 * pays them too):
 *   pattern_pipeline  depth 1, 4, 16 forwarding stages (unbuffered links)
 *   pattern_pool      worker pool of 1..4x PUs workers (buffered, unordered)
 *   pattern_fanin     n generators merged by a goroutine per input
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
 *   pattern_daisy     Pike's daisy chain, time per link (on fibers also
 *                     100000 links, Go's goroutine-cost comparison, on a
 *                     runtime with unguarded stacks: `stacks:unguarded`)
 *   pattern_sieve     the prime sieve, a filter stage per prime: the time
 *                     to find the first N primes
 * bench/go runs the same shapes with the same names, parameters and value
 * counts (impl:go). Every timing is taken by the goroutine that runs the
 * pattern, on its executor; errors are written into the round's call and
 * reported by the benchmark's thread.
 */
#include "../bench_common.h"

#include <chan/patterns.h>

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

struct pat_arg {
  const char *impl;
  enum exec exec;
  enum suite_rt rt; /* on fibers: the runtime (RT_MAIN but for the longest
                       daisy chain) */
  int64_t n;        /* depth, workers, inputs, limit, waiters, timeout, links
                       or primes */
};

/* One call of a benchmark's body on its executor: what it did. */
struct call {
  const struct pat_arg *a;
  uint64_t count;  /* values, tasks or links this call handles */
  int64_t elapsed; /* ns, the call's own timing */
  char err[256];   /* why it failed, or empty */
};

static void __attribute__((format(printf, 2, 3)))
call_fail(struct call *c, const char *fmt, ...) {
  if (c->err[0])
    return; /* the first failure says the most */
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->err, sizeof c->err, fmt, ap);
  va_end(ap);
}

/* A pattern call failed with rc: its name, the code and the message (read
 * at once: the message is per thread, and a fiber may move on). */
static void call_failed(struct call *c, const char *what, int rc) {
  call_fail(c, "%s: %s (%s)", what, pat_strerror(rc), pat_last_error());
}

/* Runs body(call) on the benchmark's executor; false (and the benchmark
 * failed with the reason) if it could not run or failed. */
static bool run_call(bench_state *st, void *(*body)(void *), struct call *c) {
  c->err[0] = '\0';
  c->elapsed = -1;
  chan_rt *rt = NULL;
  if (c->a->exec == EXEC_FIBER && !(rt = suite_runtime(st, c->a->rt)))
    return false;
  if (exec_call(st, c->a->exec, rt, body, c, NULL) != 0)
    return false;
  if (c->err[0]) {
    bench_fail(st, c->err);
    return false;
  }
  return true;
}

/* The loop of a benchmark whose rounds handle batches of [lo, hi] values
 * (or links), each timed by the call itself: manual time, items per value. */
static void drive(bench_state *st, const struct pat_arg *a,
                  void *(*body)(void *), int64_t lo, int64_t hi) {
  int64_t batch, done = 0, started = now_ns();
  while (bench_keep_running_batch(st, batch = round_batch(st, lo, hi))) {
    if (suite_over_budget(st, started))
      break;
    struct call c = {.a = a, .count = (uint64_t)batch};
    if (!run_call(st, body, &c))
      break;
    bench_set_iteration_time(st, (double)c.elapsed * 1e-9);
    done += batch;
  }
  bench_set_items_processed(st, done);
}

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

/* Drains ch until closed; returns the number of values. */
static uint64_t drain(chan_t *ch) {
  pat_item v;
  uint64_t n = 0;
  while (chan_recv(ch, &v) == CHAN_OK)
    n++;
  return n;
}

static void *drain_goroutine(void *ch) {
  return (void *)(uintptr_t)drain(ch);
}

/* ---- stream patterns ------------------------------------------------------
 */

enum stream_kind { PIPELINE, POOL, FANIN, ORDONE, TEE };

struct stream_call {
  struct call c; /* first: the body gets a struct call * */
  enum stream_kind kind;
};

/* One round of a stream pattern, on the executor. */
static void *stream_round(void *p) {
  struct stream_call *sc = p;
  struct call *c = &sc->c;
  const struct pat_arg *a = c->a;
  const enum stream_kind kind = sc->kind;
  const uint64_t count = c->count;
  int64_t t0 = now_ns();
  chan_t *src = NULL, *out = NULL, *out2 = NULL, *ins[16] = {0};
  pat_proc *gen[16] = {0}, *p2 = NULL;
  pat_pipeline *pl = NULL;
  int ngen = kind == FANIN ? (int)a->n : 1, rc = PAT_OK;
  uint64_t share[16];
  size_t cap = kind == POOL ? 128 : 0;
  for (int i = 0; i < ngen && rc == PAT_OK; i++) {
    share[i] = count / (uint64_t)ngen + ((uint64_t)i < count % (uint64_t)ngen);
    rc = chan_make(&ins[i], a->impl, sizeof(pat_item), cap);
    if (rc == PAT_OK)
      rc = pat_generator_start(&gen[i], NULL, ins[i], gen_count, &share[i]);
  }
  src = ins[0];
  if (rc == PAT_OK && kind != PIPELINE)
    rc = chan_make(&out, a->impl, sizeof(pat_item), cap);
  if (rc == PAT_OK && kind == TEE)
    rc = chan_make(&out2, a->impl, sizeof(pat_item), 0);
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
      rc = pat_pool_start(&p2, NULL, src, out, (size_t)a->n, PAT_UNORDERED,
                          map_same, NULL);
      break;
    case FANIN:
      rc = pat_fan_in_start(&p2, NULL, ins, (size_t)ngen, out);
      break;
    case ORDONE:
      rc = pat_or_done_start(&p2, NULL, src, out);
      break;
    case TEE:
      rc = pat_tee_start(&p2, NULL, src, out, out2);
      break;
    }
  if (rc != PAT_OK) {
    call_failed(c, "start", rc);
  } else {
    struct task other;
    char err[200];
    bool two = kind == TEE && task_start(&other, a->exec, NULL, drain_goroutine,
                                         out2, err, sizeof err) == 0;
    uint64_t got = drain(out);
    uint64_t got2 = two ? (uint64_t)(uintptr_t)task_join(&other) : count;
    c->elapsed = now_ns() - t0;
    if (kind == TEE && !two)
      call_fail(c, "%s", err);
    else if (got != count || got2 != count)
      call_fail(c, "received %llu (and %llu) of %llu values",
                (unsigned long long)got, (unsigned long long)got2,
                (unsigned long long)count);
  }
  if (pl) {
    int w = pat_pipeline_wait(pl);
    if (w != PAT_OK)
      call_failed(c, "pipeline", w);
    pat_pipeline_free(pl);
    out = NULL; /* the pipeline's own link */
  }
  if (p2) {
    int w = pat_proc_wait(p2);
    if (w != PAT_OK)
      call_failed(c, "wait", w);
    pat_proc_free(p2);
  }
  for (int i = 0; i < ngen; i++) {
    pat_proc_free(gen[i]);
    chan_destroy(ins[i]);
  }
  chan_destroy(out);
  chan_destroy(out2);
  return NULL;
}

static void bm_stream(bench_state *st, const struct pat_arg *a,
                      enum stream_kind kind) {
  const int64_t hi = g_suite.messages / (kind == PIPELINE ? 4 : 1);
  int64_t batch, done = 0, started = now_ns();
  while (bench_keep_running_batch(st, batch = round_batch(st, 500, hi))) {
    if (suite_over_budget(st, started))
      break;
    struct stream_call sc = {{.a = a, .count = (uint64_t)batch}, kind};
    if (!run_call(st, stream_round, &sc.c))
      break;
    bench_set_iteration_time(st, (double)sc.c.elapsed * 1e-9);
    done += batch;
  }
  bench_set_items_processed(st, done);
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

static void *bridge_round(void *p) {
  struct call *c = p;
  const struct pat_arg *a = c->a;
  struct bridge_feed f = {.impl = a->impl, .count = c->count};
  chan_t *out = NULL;
  pat_proc *b = NULL;
  struct task feeder;
  char err[200] = "";
  bool fed = false;
  int64_t t0 = now_ns();
  int rc = chan_make(&f.streams, a->impl, sizeof(chan_t *), 0);
  if (rc == PAT_OK)
    rc = chan_make(&out, a->impl, sizeof(pat_item), 0);
  if (rc == PAT_OK)
    rc = pat_bridge_start(&b, NULL, f.streams, out);
  if (rc == PAT_OK)
    fed = task_start(&feeder, a->exec, NULL, bridge_feeder, &f, err,
                     sizeof err) == 0;
  if (fed) {
    uint64_t got = drain(out);
    task_join(&feeder);
    c->elapsed = now_ns() - t0;
    rc = pat_proc_wait(b);
    if (rc != PAT_OK)
      call_failed(c, "bridge", rc);
    else if (f.rc != PAT_OK)
      call_failed(c, "bridge feeder", f.rc);
    else if (got != c->count)
      call_fail(c, "bridge: received %llu of %llu values",
                (unsigned long long)got, (unsigned long long)c->count);
  } else if (rc != PAT_OK) {
    call_failed(c, "bridge start", rc);
  } else {
    call_fail(c, "bridge feeder: %s", err);
  }
  pat_proc_free(b);
  for (int k = 0; k < BRIDGE_CHUNKS; k++)
    chan_destroy(f.inner[k]);
  chan_destroy(f.streams);
  chan_destroy(out);
  return NULL;
}

static void bm_bridge(bench_state *st, void *u) {
  drive(st, u, bridge_round, 500, g_suite.messages);
}

/* ---- one-shot patterns --------------------------------------------------- */

static int task_nothing(pat_ctx *ctx, void *arg, size_t index) {
  (void)ctx, (void)arg, (void)index;
  return PAT_OK;
}

static void *semaphore_batch(void *p) {
  struct call *c = p;
  int64_t t0 = now_ns();
  int rc = pat_for_each_bounded(NULL, c->a->impl, (size_t)c->count,
                                (size_t)c->a->n, task_nothing, NULL);
  c->elapsed = now_ns() - t0;
  if (rc != PAT_OK)
    call_failed(c, "pat_for_each_bounded", rc);
  return NULL;
}

static void bm_semaphore(bench_state *st, void *u) {
  drive(st, u, semaphore_batch, 64, 64);
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
    exec_yield();
  atomic_store(&s->t_fail, now_ns());
  return -42; /* an application error: cancels the group */
}

static void *errgroup_once(void *p) {
  struct call *c = p;
  struct eg_shared s = {0, (int)c->a->n, 0};
  pat_errgroup *g = NULL;
  int rc = pat_errgroup_make(&g, NULL, c->a->impl);
  for (int i = 0; i < s.waiters && rc == PAT_OK; i++)
    rc = pat_errgroup_go(g, task_park, &s);
  if (rc == PAT_OK)
    rc = pat_errgroup_go(g, task_fail, &s);
  if (rc != PAT_OK) {
    call_failed(c, "errgroup start", rc);
    pat_errgroup_free(g);
    return NULL;
  }
  rc = pat_errgroup_wait(g);
  int64_t t1 = now_ns();
  pat_errgroup_free(g);
  if (rc != -42)
    call_failed(c, "errgroup did not return the task's error", rc);
  c->elapsed = t1 - atomic_load(&s.t_fail);
  return NULL;
}

static void bm_errgroup(bench_state *st, void *u) {
  drive(st, u, errgroup_once, 1, 1);
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

/* c->count requests, one after the other; a->n: the timeout in ns, 0 for
 * replicas answering at once. */
static void *first_batch(void *p) {
  struct call *c = p;
  void *const replicas[3] = {(void *)1, (void *)2, (void *)3};
  pat_item q = 7, result;
  int64_t timeout = c->a->n;
  int want = timeout ? PAT_DEADLINE_EXCEEDED : PAT_OK;
  int64_t t0 = now_ns();
  for (uint64_t i = 0; i < c->count; i++) {
    int rc = pat_first(NULL, c->a->impl, timeout ? query_slow : query_now,
                       replicas, 3, &q, &result, sizeof result,
                       timeout ? timeout : CHAN_FOREVER, NULL);
    if (rc != want) {
      call_failed(c, "pat_first", rc);
      break;
    }
  }
  c->elapsed = now_ns() - t0;
  return NULL;
}

static void bm_first(bench_state *st, void *u) {
  /* Batches, so that starting the call's goroutine (a fiber started from
   * the benchmark's thread) is not paid per request. */
  drive(st, u, first_batch, 1, 1000);
}

/* ---- daisy chain ----------------------------------------------------------
 */

static void *daisy_once(void *p) {
  struct call *c = p;
  pat_item result = 0;
  int64_t t0 = now_ns();
  int rc = pat_daisy_chain(NULL, c->a->impl, (size_t)c->count, 1, &result);
  c->elapsed = now_ns() - t0;
  if (rc != PAT_OK)
    call_failed(c, "pat_daisy_chain", rc);
  else if (result != 1 + (pat_item)c->count)
    call_fail(c, "pat_daisy_chain: %lld out of %llu links, not %llu",
              (long long)result, (unsigned long long)c->count,
              (unsigned long long)c->count + 1);
  return NULL;
}

static void bm_daisy(bench_state *st, void *u) {
  const struct pat_arg *a = u;
  drive(st, a, daisy_once, a->n, a->n);
}

/* ---- prime sieve ----------------------------------------------------------
 */

/* The concurrent prime sieve (Go's doc/play/sieve.go, McIlroy's): a
 * generator sends 2, 3, 4, ...; each prime found adds a filter stage that
 * drops its multiples, so the n-th prime comes out of n-1 stages. Built
 * from the library's components: a generator and a pipeline of filtering
 * stages (PAT_SKIP). One iteration finds the first n primes; the time is
 * until the n-th arrives (stopping the goroutines comes after, untimed, as
 * Go's program simply exits). */

static int gen_from_2(pat_ctx *ctx, void *arg, uint64_t index, void *out) {
  (void)ctx, (void)arg;
  *(pat_item *)out = (pat_item)index + 2;
  return PAT_OK;
}

static int drop_multiples(pat_ctx *ctx, void *arg, const void *in, void *out) {
  (void)ctx;
  pat_item v = *(const pat_item *)in;
  if (v % *(const pat_item *)arg == 0)
    return PAT_SKIP;
  *(pat_item *)out = v;
  return PAT_OK;
}

/* True if v is the n-th prime (for checking the sieve's last answer). */
static bool nth_prime_is(int64_t n, pat_item v) {
  int64_t found = 0;
  pat_item x = 1;
  while (found < n) {
    x++;
    bool prime = true;
    for (pat_item d = 2; d * d <= x && prime; d++)
      prime = x % d != 0;
    found += prime;
  }
  return x == v;
}

static void *sieve_once(void *p) {
  struct call *c = p;
  const struct pat_arg *a = c->a;
  pat_item *primes = calloc((size_t)a->n, sizeof *primes);
  pat_ctx *ctx = NULL;
  pat_proc *gen = NULL;
  pat_pipeline *pl = NULL;
  chan_t *src = NULL;
  if (!primes) {
    call_fail(c, "out of memory");
    return NULL;
  }
  int64_t t0 = now_ns();
  int rc = pat_ctx_new(&ctx, a->impl);
  if (rc == PAT_OK)
    rc = chan_make(&src, a->impl, sizeof(pat_item), 0);
  if (rc == PAT_OK)
    rc = pat_generator_start(&gen, ctx, src, gen_from_2, NULL);
  if (rc == PAT_OK)
    rc = pat_pipeline_make(&pl, ctx, src);
  for (int64_t i = 0; i < a->n && rc == PAT_OK; i++) {
    rc = chan_recv(pat_pipeline_out(pl), &primes[i]);
    if (rc == CHAN_OK && i + 1 < a->n)
      rc =
          pat_pipeline_add(pl, drop_multiples, &primes[i], sizeof(pat_item), 0);
  }
  c->elapsed = now_ns() - t0;
  if (rc != PAT_OK)
    call_failed(c, "sieve", rc);
  else if (!nth_prime_is(a->n, primes[a->n - 1]))
    call_fail(c, "sieve: the %lld-th prime is not %lld", (long long)a->n,
              (long long)primes[a->n - 1]);
  pat_ctx_cancel(ctx); /* stops the generator and every stage */
  if (pl) {
    pat_pipeline_wait(pl);
    pat_pipeline_free(pl);
  }
  pat_proc_free(gen);
  chan_destroy(src);
  pat_ctx_free(ctx);
  free(primes);
  return NULL;
}

static void bm_sieve(bench_state *st, void *u) {
  drive(st, u, sieve_once, 1, 1);
}

/* ---- registration ---------------------------------------------------------
 */

#define T (1u << EXEC_THREAD)
#define F (1u << EXEC_FIBER)

/* A value of a benchmark's parameter, the executors it runs on in the
 * quick and the full suite, and on fibers the runtime. */
struct pat_value {
  int64_t v;
  unsigned quick, full;
  enum suite_rt rt;
};

/* Registers one pattern benchmark per chanlab implementation, executor and
 * value of its parameter (key: its name, NULL for none). Every pattern
 * benchmark reports manual time, measured by the goroutine running it. A
 * fiber benchmark on the unguarded runtime says so in its name
 * (`stacks:unguarded`). iterations: a fixed count per repetition, or 0 to
 * let Google Benchmark size repetitions from the manual time. */
#define V(v, quick, full)                                                      \
  { (v), (quick), (full), RT_MAIN }

static void reg(const struct scenario *sc, bench_fn fn, const char *key,
                const struct pat_value *values, int nvalues,
                int64_t iterations) {
  const struct bq_ops *qs[QUEUES_MAX];
  int nq = suite_queues(sc, BQ_CHAN, qs);
  for (int i = 0; i < nq; i++) {
    struct where ws[SUITE_WHERE_MAX];
    int nw = suite_wheres(sc, qs[i], false, ws);
    for (int w = 0; w < nw; w++)
      for (int v = 0; v < nvalues; v++) {
        unsigned on = g_suite.full ? values[v].full : values[v].quick;
        if (!(on >> ws[w].exec & 1))
          continue;
        struct pat_arg a = {qs[i]->name, ws[w].exec, values[v].rt, values[v].v};
        const char *label = a.exec == EXEC_FIBER && a.rt == RT_UNGUARDED
                                ? "stacks:unguarded"
                                : NULL;
        bench_def *b =
            suite_register_labeled(sc, qs[i], &ws[w], label, fn, &a, sizeof a);
        if (key) {
          bench_arg_names(b, (const char *const[]){key}, 1);
          bench_arg(b, values[v].v);
        }
        bench_use_manual_time(b);
        if (iterations)
          bench_iterations(b, iterations);
      }
  }
}

static const struct pat_value one[] = {V(0, T | F, T | F)};

void register_pattern_pipeline(const struct scenario *sc) {
  /* Fibers run every depth in the quick suite: the report compares each with
   * Go's; threads the middle one. */
  const struct pat_value depths[] = {V(1, F, T | F), V(4, T | F, T | F),
                                     V(16, F, T | F)};
  reg(sc, bm_pipeline, "depth", depths, 3, 0);
}

void register_pattern_pool(const struct scenario *sc) {
  struct pat_value workers[16];
  int n = 0;
  for (int64_t w = 1; w <= 4 * g_suite.npus && n < 16; w *= 2)
    workers[n++] = (struct pat_value)V(w, 0, T | F);
  /* quick: the second largest pool, about 2x the PUs */
  workers[n > 1 ? n - 2 : 0].quick = T | F;
  reg(sc, bm_pool, "workers", workers, n, 0);
}

void register_pattern_fanin(const struct scenario *sc) {
  const struct pat_value inputs[] = {V(2, 0, T | F), V(4, T | F, T | F),
                                     V(8, 0, T | F)};
  reg(sc, bm_fanin, "inputs", inputs, 3, 0);
}

void register_pattern_ordone(const struct scenario *sc) {
  reg(sc, bm_ordone, NULL, one, 1, 0);
}

void register_pattern_tee(const struct scenario *sc) {
  reg(sc, bm_tee, NULL, one, 1, 0);
}

void register_pattern_bridge(const struct scenario *sc) {
  reg(sc, bm_bridge, NULL, one, 1, 0);
}

void register_pattern_semaphore(const struct scenario *sc) {
  const struct pat_value limits[] = {V(1, 0, T | F), V(2, T | F, T | F),
                                     V(4, 0, T | F)};
  reg(sc, bm_semaphore, "limit", limits, 3, 0);
}

void register_pattern_errgroup(const struct scenario *sc) {
  /* The errgroup times a latency that is a small part of an iteration
   * (making the group, starting and ending its goroutines: 15x on fibers),
   * so Google Benchmark would size a repetition from the latency and run
   * far past the minimum time: fixed counts. */
  const struct pat_value waiters[] = {V(1, 0, T | F), V(4, T | F, T | F),
                                      V(16, 0, T | F)};
  reg(sc, bm_errgroup, "waiters", waiters, 3, g_suite.full ? 500 : 200);
}

void register_pattern_first(const struct scenario *sc) {
  /* quick: the timeout on threads only (fibers: answering at once) */
  const struct pat_value timeouts[] = {V(0, T | F, T | F), V(200000, T, T | F)};
  reg(sc, bm_first, "timeout_ns", timeouts, 2, 0);
}

void register_pattern_daisy(const struct scenario *sc) {
  /* 1000 links on both; fibers also 100000 (Go's goroutine-cost
   * comparison; a guarded stack takes two of Linux's ~65530 memory mappings
   * per process, so on the unguarded runtime); 10000 (guarded stacks) on
   * both in --full. */
  const struct pat_value links[] = {
      V(1000, T | F, T | F), V(10000, 0, T | F), {100000, F, F, RT_UNGUARDED}};
  reg(sc, bm_daisy, "links", links, 3, 0);
}

void register_pattern_sieve(const struct scenario *sc) {
  /* A thread per prime: 1000 would take seconds per iteration. */
  const struct pat_value primes[] = {V(100, 0, T | F), V(300, T | F, T | F),
                                     V(1000, 0, F)};
  reg(sc, bm_sieve, "primes", primes, 3, 0);
}
