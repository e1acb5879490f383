/*
 * stress_patterns.c - property: the pattern components (patterns.h) can be
 * run and canceled at any point, many times, without leaking a thread or
 * memory and without losing, duplicating or reordering a value.
 *
 * Each round builds a component graph on fresh channels, consumes its
 * output and, in most rounds, cancels its context after a random number of
 * values (0 included, i.e. at once). Then it waits for and frees
 * everything, and checks:
 *   - what came out is valid, duplicate-free and in the order the
 *     component promises; a round that was not canceled got everything;
 *   - each component's stats balance: received == sent + filtered + failed
 *     + dropped + canceled ("no lost values" of patterns.h);
 *   - the process's thread count is back to where it was before the round;
 *   - the heap in use is back to its post-warm-up level (flat).
 */
#include "stress.h"

#include <chan/patterns.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

static void check_stats(const char *what, const struct pat_stats *s) {
  uint64_t out = s->sent + s->filtered + s->failed + s->dropped + s->canceled;
  if (s->received != out)
    STRESS_FAIL("%s: received %llu but sent %llu + filtered %llu + failed "
                "%llu + dropped %llu + canceled %llu",
                what, (unsigned long long)s->received,
                (unsigned long long)s->sent, (unsigned long long)s->filtered,
                (unsigned long long)s->failed, (unsigned long long)s->dropped,
                (unsigned long long)s->canceled);
}

struct gen_arg {
  uint64_t n;
  uint32_t tag;
};

static int gen(pat_ctx *ctx, void *arg, uint64_t index, void *out) {
  (void)ctx;
  const struct gen_arg *g = arg;
  if (index >= g->n)
    return PAT_STOP;
  *(pat_item *)out = (pat_item)(((uint64_t)g->tag << 32) | index);
  return PAT_OK;
}

static int times3(pat_ctx *ctx, void *arg, const void *in, void *out) {
  (void)ctx;
  (void)arg;
  *(pat_item *)out = *(const pat_item *)in * 3;
  return PAT_OK;
}

static int skip_odd(pat_ctx *ctx, void *arg, const void *in, void *out) {
  (void)ctx;
  (void)arg;
  pat_item v = *(const pat_item *)in;
  if (v % 2)
    return PAT_SKIP;
  *(pat_item *)out = v;
  return PAT_OK;
}

/* The per-round bookkeeping common to every test. */
struct round_watch {
  int threads;
  size_t heap_baseline, heap_worst;
  uint64_t rounds, canceled_rounds, values;
};

static void round_end(struct round_watch *w, const char *what) {
  /* A joined thread leaves the kernel's count a moment after pthread_join
   * returns (the count drops when the exited task is released), so give
   * the count up to a second to settle before calling it a leak. */
  int now = test_thread_count();
  for (int i = 0; i < 1000 && now > w->threads; i++) {
    nanosleep(&(struct timespec){0, 1000000}, NULL);
    now = test_thread_count();
  }
  if (now != w->threads)
    STRESS_FAIL("%s: %d threads alive after everything was freed, %d "
                "before (a component leaked threads)",
                what, now, w->threads);
  size_t heap = stress_heap_in_use();
  if (w->rounds == 4)
    w->heap_baseline = heap;
  else if (w->rounds > 4 && heap > w->heap_baseline &&
           heap - w->heap_baseline > w->heap_worst)
    w->heap_worst = heap - w->heap_baseline;
  w->rounds++;
}

static void watch_end(struct round_watch *w, const char *test) {
  if (w->heap_worst > 512 * 1024)
    STRESS_FAIL("heap grew by %zu bytes over %llu rounds after warm-up",
                w->heap_worst, (unsigned long long)w->rounds);
  stress_report(test,
                "%llu rounds (%llu canceled at a random point), %llu values "
                "checked; threads back to baseline every round; worst heap "
                "growth %zu bytes",
                (unsigned long long)w->rounds,
                (unsigned long long)w->canceled_rounds,
                (unsigned long long)w->values, w->heap_worst);
}

/* ---- generator -> stage -> queue -> filter stage -> consumer ----------- */

TEST(patterns_pipeline_canceled_anywhere) {
  const char *test = "patterns_pipeline_canceled_anywhere";
  int64_t deadline = stress_begin(test);
  test_rng r = test_rng_make(1);
  struct round_watch w = {.threads = test_thread_count()};
  do {
    uint64_t n = 1 + test_rng_below(&r, test_scale(2000));
    bool cancel = test_rng_below(&r, 4) != 0;
    uint64_t cancel_after = test_rng_below(&r, n + 1);
    pat_ctx *root = NULL;
    pat_proc *g = NULL;
    pat_pipeline *pl = NULL;
    chan_t *src = test_chan(sizeof(pat_item), test_rng_below(&r, 4));
    REQUIRE(src);
    REQUIRE_STATUS(pat_ctx_new(&root, test_impl()), PAT_OK);
    struct gen_arg ga = {n, 0};
    REQUIRE_STATUS(pat_generator_start(&g, root, src, gen, &ga), PAT_OK);
    REQUIRE_STATUS(pat_pipeline_make(&pl, root, src), PAT_OK);
    REQUIRE_STATUS(pat_pipeline_add(pl, times3, NULL, sizeof(pat_item),
                                    test_rng_below(&r, 3)),
                   PAT_OK);
    REQUIRE_STATUS(pat_pipeline_add_queue(pl, 1 + test_rng_below(&r, 16)),
                   PAT_OK);
    REQUIRE_STATUS(pat_pipeline_add(pl, skip_odd, NULL, sizeof(pat_item), 0),
                   PAT_OK);
    chan_t *sink = pat_pipeline_out(pl);
    uint64_t got = 0;
    pat_item last = -1, v;
    while (chan_recv(sink, &v) == CHAN_OK) {
      /* 3i for even i, in order. */
      if (v % 6 != 0 || v <= last || v / 3 >= (pat_item)n)
        STRESS_FAIL("pipeline produced %lld after %lld", (long long)v,
                    (long long)last);
      last = v;
      if (cancel && ++got == cancel_after)
        pat_ctx_cancel(root);
      else if (!cancel)
        got++;
    }
    if (cancel && cancel_after == 0)
      pat_ctx_cancel(root);
    int rc = pat_pipeline_wait(pl);
    int grc = pat_proc_wait(g);
    uint64_t expect = (n + 1) / 2; /* even indices below n */
    if (!cancel && (rc != PAT_OK || grc != PAT_OK || got != expect))
      STRESS_FAIL("uncanceled pipeline: %llu of %llu values, status %s / %s",
                  (unsigned long long)got, (unsigned long long)expect,
                  pat_strerror(rc), pat_strerror(grc));
    struct pat_stats s;
    pat_proc_stats(g, &s);
    check_stats("generator", &s);
    for (size_t i = 0; i < pat_pipeline_length(pl); i++) {
      pat_pipeline_stage_stats(pl, i, &s);
      check_stats("pipeline stage", &s);
    }
    pat_pipeline_free(pl);
    pat_proc_free(g);
    CHECK_STATUS(pat_ctx_free(root), PAT_OK);
    CHECK_STATUS(chan_destroy(src), CHAN_OK);
    w.values += got;
    w.canceled_rounds += cancel;
    round_end(&w, test);
  } while (stress_before(deadline));
  watch_end(&w, test);
}

/* ---- worker pool, ordered or not --------------------------------------- */

TEST(patterns_pool_canceled_anywhere) {
  const char *test = "patterns_pool_canceled_anywhere";
  int64_t deadline = stress_begin(test);
  test_rng r = test_rng_make(2);
  struct round_watch w = {.threads = test_thread_count()};
  uint8_t *seen = NULL;
  do {
    uint64_t n = 1 + test_rng_below(&r, test_scale(1000));
    bool cancel = test_rng_below(&r, 4) != 0;
    uint64_t cancel_after = test_rng_below(&r, n + 1);
    enum pat_order order = test_rng_below(&r, 2) ? PAT_ORDERED : PAT_UNORDERED;
    size_t workers = 1 + test_rng_below(&r, 4);
    pat_ctx *root = NULL;
    pat_proc *g = NULL, *pool = NULL;
    chan_t *in = test_chan(sizeof(pat_item), test_rng_below(&r, 4));
    chan_t *out = test_chan(sizeof(pat_item), test_rng_below(&r, 4));
    REQUIRE(in && out);
    free(seen);
    seen = calloc(n, 1);
    REQUIRE(seen);
    REQUIRE_STATUS(pat_ctx_new(&root, test_impl()), PAT_OK);
    struct gen_arg ga = {n, 0};
    REQUIRE_STATUS(pat_generator_start(&g, root, in, gen, &ga), PAT_OK);
    REQUIRE_STATUS(
        pat_pool_start(&pool, root, in, out, workers, order, times3, NULL),
        PAT_OK);
    uint64_t got = 0;
    pat_item v, last = -1;
    while (chan_recv(out, &v) == CHAN_OK) {
      if (v % 3 != 0 || v / 3 >= (pat_item)n || seen[v / 3]++) {
        STRESS_FAIL("pool produced %lld (invalid or duplicate)", (long long)v);
        continue;
      }
      if (order == PAT_ORDERED && v <= last)
        STRESS_FAIL("ordered pool produced %lld after %lld", (long long)v,
                    (long long)last);
      last = v;
      if (++got == cancel_after && cancel)
        pat_ctx_cancel(root);
    }
    if (cancel && cancel_after == 0)
      pat_ctx_cancel(root);
    int rc = pat_proc_wait(pool);
    pat_proc_wait(g);
    if (!cancel && (rc != PAT_OK || got != n))
      STRESS_FAIL("uncanceled pool (%zu workers, %s): %llu of %llu values, "
                  "status %s",
                  workers, order == PAT_ORDERED ? "ordered" : "unordered",
                  (unsigned long long)got, (unsigned long long)n,
                  pat_strerror(rc));
    struct pat_stats s;
    pat_proc_stats(pool, &s);
    check_stats("pool", &s);
    pat_proc_free(pool);
    pat_proc_free(g);
    CHECK_STATUS(pat_ctx_free(root), PAT_OK);
    CHECK_STATUS(chan_destroy(in), CHAN_OK);
    CHECK_STATUS(chan_destroy(out), CHAN_OK);
    w.values += got;
    w.canceled_rounds += cancel;
    round_end(&w, test);
  } while (stress_before(deadline));
  free(seen);
  watch_end(&w, test);
}

/* ---- fan-in (thread per input or one select) --------------------------- */

#define FANIN_MAX 8

TEST(patterns_fan_in_canceled_anywhere) {
  const char *test = "patterns_fan_in_canceled_anywhere";
  int64_t deadline = stress_begin(test);
  test_rng r = test_rng_make(3);
  struct round_watch w = {.threads = test_thread_count()};
  do {
    size_t k = 1 + test_rng_below(&r, FANIN_MAX);
    uint64_t n = 1 + test_rng_below(&r, test_scale(500));
    bool cancel = test_rng_below(&r, 4) != 0;
    uint64_t cancel_after = test_rng_below(&r, k * n + 1);
    bool use_select = test_rng_below(&r, 2);
    pat_ctx *root = NULL;
    pat_proc *gens[FANIN_MAX] = {0}, *fan = NULL;
    chan_t *inputs[FANIN_MAX];
    struct gen_arg ga[FANIN_MAX];
    REQUIRE_STATUS(pat_ctx_new(&root, test_impl()), PAT_OK);
    for (size_t i = 0; i < k; i++) {
      inputs[i] = test_chan(sizeof(pat_item), test_rng_below(&r, 3));
      REQUIRE(inputs[i]);
      ga[i] = (struct gen_arg){n, (uint32_t)i};
      REQUIRE_STATUS(
          pat_generator_start(&gens[i], root, inputs[i], gen, &ga[i]), PAT_OK);
    }
    chan_t *out = test_chan(sizeof(pat_item), test_rng_below(&r, 4));
    REQUIRE(out);
    REQUIRE_STATUS(use_select
                       ? pat_fan_in_select_start(&fan, root, inputs, k, out)
                       : pat_fan_in_start(&fan, root, inputs, k, out),
                   PAT_OK);
    int64_t next[FANIN_MAX];
    for (size_t i = 0; i < k; i++)
      next[i] = 0;
    uint64_t got = 0;
    pat_item v;
    while (chan_recv(out, &v) == CHAN_OK) {
      uint64_t tag = (uint64_t)v >> 32, seq = (uint64_t)v & 0xffffffffu;
      /* Per-input FIFO with nothing skipped: a canceled round may stop
       * early, but never skips or repeats a value of one input. */
      if (tag >= k || (int64_t)seq != next[tag])
        STRESS_FAIL("fan-in (%s) produced input %llu seq %llu, expected "
                    "seq %lld",
                    use_select ? "select" : "threads", (unsigned long long)tag,
                    (unsigned long long)seq,
                    tag < k ? (long long)next[tag] : -1LL);
      else
        next[tag]++;
      if (++got == cancel_after && cancel)
        pat_ctx_cancel(root);
    }
    if (cancel && cancel_after == 0)
      pat_ctx_cancel(root);
    int rc = pat_proc_wait(fan);
    if (!cancel && (rc != PAT_OK || got != k * n))
      STRESS_FAIL("uncanceled fan-in of %zu: %llu of %llu values, status %s", k,
                  (unsigned long long)got, (unsigned long long)(k * n),
                  pat_strerror(rc));
    struct pat_stats s;
    pat_proc_stats(fan, &s);
    check_stats("fan-in", &s);
    pat_proc_free(fan);
    for (size_t i = 0; i < k; i++) {
      pat_proc_wait(gens[i]);
      pat_proc_free(gens[i]);
      CHECK_STATUS(chan_destroy(inputs[i]), CHAN_OK);
    }
    CHECK_STATUS(chan_destroy(out), CHAN_OK);
    CHECK_STATUS(pat_ctx_free(root), PAT_OK);
    w.values += got;
    w.canceled_rounds += cancel;
    round_end(&w, test);
  } while (stress_before(deadline));
  watch_end(&w, test);
}
