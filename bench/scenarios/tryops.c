/*
 * tryops.c - non-blocking operations under contention, and timed operations
 * that expire.
 *
 *   tryops: Google Benchmark's own threads (2, 4, ... up to 4x the PUs) hit
 *           one buffered channel; even threads try-send and drop the value
 *           when the buffer is full (Go's drop pattern: select with a
 *           default), odd threads try-receive. Reports attempts per second
 *           and the fraction that succeeded. Threads are pinned by
 *           placement side (even = producer side).
 *   timed:  receive with a timeout on an empty channel: what an expiring
 *           operation costs and how late it returns (overshoot p50/p99).
 */
#include "../bench_common.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

struct try_arg {
  const struct bq_ops *q;
  const struct placement *pl;
  int64_t cap;
};

/* The queue the threads share, made by thread 0 before the loop (Google
 * Benchmark's start barrier publishes it) and destroyed after. */
static struct queue try_queue;

static void bm_tryops(bench_state *st, void *user) {
  const struct try_arg *a = user;
  int t = bench_thread_index(st);
  int cpu = placement_cpu(a->pl, t % 2, t / 2);
  if (place_pin_self(cpu) != 0) {
    char msg[64];
    snprintf(msg, sizeof msg, "cannot pin thread %d to PU %d", t, cpu);
    bench_fail(st, msg); /* the others only try: none can hang */
  }
  if (t == 0)
    queue_make(st, a->q, 8, (size_t)a->cap, &try_queue);
  uint64_t v = (uint64_t)t, ok = 0, attempts = 0;
  struct cost c0, c1, cost = {0};
  cost_snap(&c0);
  int64_t batch;
  while (bench_keep_running_batch(st, batch = round_batch(st, 64, 64))) {
    const struct queue q = try_queue;
    if (!q.h) {
      bench_fail(st, "no queue");
      break;
    }
    for (int64_t i = 0; i < batch; i++) {
      int rc =
          (t % 2 == 0) ? q.ops->try_send(q.h, &v) : q.ops->try_recv(q.h, &v);
      ok += rc == CHAN_OK;
      if (rc != CHAN_OK && rc != CHAN_WOULD_BLOCK) {
        bench_fail(st, chan_strerror(rc));
        break;
      }
    }
    attempts += (uint64_t)batch;
  }
  cost_snap(&c1);
  cost_add_delta(&cost, &c0, &c1);
  bench_set_items_processed(st, (int64_t)attempts);
  bench_counter(st, "success_rate",
                attempts ? (double)ok / (double)attempts : 0,
                BENCH_COUNTER_AVG_THREADS);
  /* Google Benchmark sums the threads' counters: each reports its CPU over
   * every thread's attempts, so the sum is CPU per attempt of the run. */
  cost_report(st, &cost, (double)attempts * bench_thread_count(st));
  if (t == 0)
    queue_destroy(&try_queue);
  /* Thread 0 is Google Benchmark's main thread: unpin it, or every thread
   * it starts later would inherit this placement. */
  place_pin_self(-1);
}

void register_tryops(const struct scenario *sc) {
  const struct bq_ops *qs[QUEUES_MAX];
  int nq = suite_queues(
      sc, BQ_TRY | BQ_BOUNDED | BQ_MULTI_PRODUCER | BQ_MULTI_CONSUMER, qs);
  const struct placement *pls[PLACE_NCLASSES];
  int npl = suite_placements(pls, false);
  for (int i = 0; i < nq; i++)
    for (int p = 0; p < npl; p++) {
      struct try_arg a = {qs[i], pls[p], 128};
      if (!suite_measures(sc, a.q,
                          &(struct where){.exec = EXEC_THREAD, .pl = a.pl}))
        continue;
      bench_def *b = suite_register(sc, a.q, a.pl, bm_tryops, &a, sizeof a);
      bench_arg_names(b, (const char *const[]){"cap"}, 1);
      bench_arg(b, a.cap);
      /* quick: the fewest threads and the most (oversubscribed) */
      for (int n = 2; n <= 4 * g_suite.npus; n *= 2)
        if (g_suite.full || n == 2 || 2 * n > 4 * g_suite.npus)
          bench_threads(b, n);
      bench_use_real_time(b);
    }
}

/* ---- timed operations that expire ---------------------------------------- */

struct timed_arg {
  const char *impl; /* a chanlab implementation (BQ_CHAN) */
  int64_t timeout_ns;
};

static void bm_timed(bench_state *st, void *user) {
  const struct timed_arg *a = user;
  chan_t *ch = bench_chan(st, a->impl, 8, 0);
  if (!ch)
    return;
  struct hist *late = calloc(1, sizeof *late);
  uint64_t v;
  int64_t ops = 0;
  while (late && bench_keep_running(st)) {
    int64_t t = now_ns();
    int rc = chan_recv_timeout(ch, &v, a->timeout_ns);
    int64_t took = now_ns() - t;
    int want = a->timeout_ns == 0 ? CHAN_WOULD_BLOCK : CHAN_TIMEOUT;
    if (rc != want) {
      bench_fail(st, "timed receive on an empty channel did not "
                     "expire");
      break;
    }
    if (took < a->timeout_ns) {
      bench_fail(st, "timed receive returned before its timeout");
      break;
    }
    hist_add(late, (uint64_t)(took - a->timeout_ns));
    ops++;
  }
  if (ops > 0 && late) {
    bench_counter(st, "overshoot_p50_ns", hist_quantile(late, 0.5), 0);
    bench_counter(st, "overshoot_p99_ns", hist_quantile(late, 0.99), 0);
  }
  free(late);
  chan_destroy(ch);
}

void register_timed(const struct scenario *sc) {
  static const int64_t timeouts[] = {0, 1000, 20000, 200000};
  const struct bq_ops *qs[QUEUES_MAX];
  int nq = suite_queues(sc, BQ_CHAN, qs);
  for (int i = 0; i < nq; i++)
    for (int t = 0; t < 4; t++) {
      if (!g_suite.full && timeouts[t] != 0 && timeouts[t] != 20000)
        continue; /* quick: polling, and a timeout past any spin phase */
      struct timed_arg a = {qs[i]->name, timeouts[t]};
      bench_def *b = suite_register(sc, qs[i], NULL, bm_timed, &a, sizeof a);
      bench_arg_names(b, (const char *const[]){"timeout_ns"}, 1);
      bench_arg(b, timeouts[t]);
      bench_use_real_time(b);
    }
}
