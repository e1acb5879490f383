/*
 * test_fanout.c - worker pools (unordered and ordered), thread per task
 * under a semaphore, the buffered one-slot-per-child fan-out, the
 * semaphore, and bounded parallelism.
 */
#include "common.h"

#define HOUR_NS ((int64_t)3600 * 1000000000)

static int square(pat_ctx *ctx, void *arg, const void *in, void *out) {
  (void)ctx;
  (void)arg;
  pat_item v;
  memcpy(&v, in, sizeof v);
  v *= v;
  memcpy(out, &v, sizeof v);
  return PAT_OK;
}

/* Slow on some values so workers finish out of order (simulated work). */
static int jittery_square(pat_ctx *ctx, void *arg, const void *in, void *out) {
  pat_item v;
  memcpy(&v, in, sizeof v);
  if (v % 7 == 0)
    pat_ctx_sleep(ctx, 200000 + (v % 3) * 100000);
  return square(ctx, arg, in, out);
}

static pat_proc *feed(chan_t *in, uint64_t *n) {
  pat_proc *g = NULL;
  int rc = pat_generator_start(&g, NULL, in, gen_count, n);
  if (rc != PAT_OK)
    test_fail(__FILE__, __LINE__, "generator: %s", pat_strerror(rc));
  return g;
}

TEST(pool_unordered_delivers_every_result) {
  int base = test_goroutines();
  uint64_t n = test_scale(2000);
  chan_t *in = item_chan(0), *out = item_chan(0);
  pat_proc *g = feed(in, &n), *pool;
  REQUIRE(g);
  REQUIRE_STATUS(
      pat_pool_start(&pool, NULL, in, out, 4, PAT_UNORDERED, square, NULL),
      PAT_OK);
  pat_item *got = calloc(n, sizeof *got);
  CHECK_EQ(drain(out, got, n), n);
  qsort(got, n, sizeof *got, cmp_item);
  for (uint64_t i = 0; i < n; i++)
    if (got[i] != (pat_item)(i * i)) {
      test_fail(__FILE__, __LINE__, "result %llu is %lld",
                (unsigned long long)i, (long long)got[i]);
      break;
    }
  CHECK_STATUS(pat_proc_wait(pool), PAT_OK);
  CHECK_ACCOUNTED(pool);
  pat_proc_free(pool);
  pat_proc_free(g);
  free(got);
  chan_destroy(in);
  chan_destroy(out);
  CHECK_THREADS_BACK(base);
}

TEST(pool_ordered_keeps_input_order) {
  int base = test_goroutines();
  uint64_t n = test_scale(600);
  chan_t *in = item_chan(0), *out = item_chan(0);
  pat_proc *g = feed(in, &n), *pool;
  REQUIRE(g);
  REQUIRE_STATUS(pat_pool_start(&pool, NULL, in, out, 4, PAT_ORDERED,
                                jittery_square, NULL),
                 PAT_OK);
  pat_item v;
  uint64_t i = 0;
  while (chan_recv(out, &v) == CHAN_OK) {
    if (v != (pat_item)(i * i))
      test_fail(__FILE__, __LINE__, "result %llu is %lld: out of order",
                (unsigned long long)i, (long long)v);
    i++;
  }
  CHECK_EQ(i, n);
  CHECK_STATUS(pat_proc_wait(pool), PAT_OK);
  CHECK_ACCOUNTED(pool);
  pat_proc_free(pool);
  pat_proc_free(g);
  chan_destroy(in);
  chan_destroy(out);
  CHECK_THREADS_BACK(base);
}

static int keep_even_fail_at(pat_ctx *ctx, void *arg, const void *in,
                             void *out) {
  pat_item v;
  memcpy(&v, in, sizeof v);
  if (arg && v == *(pat_item *)arg)
    return -7;
  if (v % 2)
    return PAT_SKIP;
  return square(ctx, NULL, in, out);
}

static void pool_filter_error_case(enum pat_order order) {
  int base = test_goroutines();
  uint64_t n = 100;
  chan_t *in = item_chan(0), *out = item_chan(0);
  pat_proc *g = feed(in, &n), *pool;
  REQUIRE(g);
  REQUIRE_STATUS(
      pat_pool_start(&pool, NULL, in, out, 3, order, keep_even_fail_at, NULL),
      PAT_OK);
  pat_item got[100];
  size_t k = drain(out, got, 100);
  CHECK_EQ(k, 50);
  for (size_t i = 0; i < k; i++)
    CHECK(got[i] % 2 == 0);
  CHECK_STATUS(pat_proc_wait(pool), PAT_OK);
  struct pat_stats s;
  pat_proc_stats(pool, &s);
  CHECK_EQ(s.filtered, 50);
  CHECK_ACCOUNTED(pool);
  pat_proc_free(pool);
  pat_proc_free(g);
  /* An error stops the pool, closes out, and wait returns it. */
  pat_item bad = 41;
  n = 1000000;
  chan_destroy(in); /* closed by the first generator: fresh channels */
  chan_destroy(out);
  in = item_chan(0);
  out = item_chan(0);
  g = feed(in, &n);
  REQUIRE_STATUS(
      pat_pool_start(&pool, NULL, in, out, 3, order, keep_even_fail_at, &bad),
      PAT_OK);
  size_t before = drain(out, NULL, 0);
  CHECK(before < n);
  CHECK_STATUS(pat_proc_wait(pool), -7);
  CHECK_ACCOUNTED(pool);
  pat_proc_free(pool);
  pat_proc_free(g);
  chan_destroy(in);
  chan_destroy(out);
  CHECK_THREADS_BACK(base);
}

TEST(pool_unordered_filters_and_fails) {
  pool_filter_error_case(PAT_UNORDERED);
}

TEST(pool_ordered_filters_and_fails) {
  pool_filter_error_case(PAT_ORDERED);
}

struct live {
  atomic_int now, peak, entered;
};

static int slow_tracked(pat_ctx *ctx, void *arg, const void *in, void *out) {
  struct live *l = arg;
  int now = atomic_fetch_add(&l->now, 1) + 1;
  int peak = atomic_load(&l->peak);
  while (now > peak && !atomic_compare_exchange_weak(&l->peak, &peak, now))
    ;
  atomic_fetch_add(&l->entered, 1);
  int rc = pat_ctx_sleep(ctx, 1000000); /* simulated work: 1 ms */
  atomic_fetch_sub(&l->now, 1);
  if (rc != PAT_OK)
    return rc;
  memcpy(out, in, sizeof(pat_item));
  return PAT_OK;
}

static int blocked_forever(pat_ctx *ctx, void *arg, const void *in, void *out) {
  struct live *l = arg;
  (void)in;
  (void)out;
  atomic_fetch_add(&l->entered, 1);
  return pat_ctx_sleep(ctx, HOUR_NS);
}

static void pool_cancel_case(enum pat_order order) {
  int base = test_goroutines();
  chan_t *in = item_chan(0), *out = item_chan(0);
  pat_proc *g = feed(in, NULL), *pool;
  struct live l = {0};
  REQUIRE_STATUS(
      pat_pool_start(&pool, NULL, in, out, 4, order, blocked_forever, &l),
      PAT_OK);
  WAIT_COUNT(&l.entered, 4); /* every worker is stuck in its task */
  int64_t start = test_now_ns();
  pat_proc_cancel(pool);
  CHECK_STATUS(pat_proc_wait(pool), PAT_CANCELED);
  CHECK_PROMPT(start);
  CHECK_ACCOUNTED(pool);
  CHECK_STATUS(chan_recv(out, NULL), CHAN_CLOSED);
  pat_proc_free(pool);
  pat_proc_free(g);
  chan_destroy(in);
  chan_destroy(out);
  CHECK_THREADS_BACK(base);
}

TEST(pool_unordered_stops_on_cancel) {
  pool_cancel_case(PAT_UNORDERED);
}

TEST(pool_ordered_stops_on_cancel) {
  pool_cancel_case(PAT_ORDERED);
}

static int count_calls(pat_ctx *ctx, void *arg, const void *in, void *out) {
  (void)ctx;
  (void)in;
  if (out != NULL)
    return -101; /* no output channel: nowhere to write */
  atomic_fetch_add((atomic_int *)arg, 1);
  return PAT_OK;
}

static void pool_without_output(enum pat_order order) {
  int base = test_goroutines();
  uint64_t n = 50;
  chan_t *in = item_chan(0);
  atomic_int calls = 0;
  pat_proc *g = feed(in, &n), *pool;
  REQUIRE_STATUS(
      pat_pool_start(&pool, NULL, in, NULL, 3, order, count_calls, &calls),
      PAT_OK);
  CHECK_STATUS(pat_proc_wait(pool), PAT_OK);
  CHECK_EQ(atomic_load(&calls), 50);
  CHECK_ACCOUNTED(pool);
  pat_proc_free(pool);
  pat_proc_free(g);
  chan_destroy(in);
  CHECK_THREADS_BACK(base);
}

TEST(pool_without_output_runs_every_task) {
  pool_without_output(PAT_UNORDERED);
  pool_without_output(PAT_ORDERED);
}

TEST(fanout_bad_input) {
  chan_t *in = item_chan(0), *out = item_chan(0);
  pat_proc *p;
  CHECK_STATUS(
      pat_pool_start(&p, NULL, in, out, 0, PAT_UNORDERED, square, NULL),
      PAT_EINVAL);
  CHECK(strstr(pat_last_error(), "workers") != NULL);
  CHECK_STATUS(pat_pool_start(&p, NULL, in, out, 2, PAT_UNORDERED, NULL, NULL),
               PAT_EINVAL);
  CHECK_STATUS(
      pat_pool_start(&p, NULL, NULL, out, 2, PAT_UNORDERED, square, NULL),
      PAT_EINVAL);
  CHECK_STATUS(
      pat_pool_start(&p, NULL, in, out, 2, (enum pat_order)7, square, NULL),
      PAT_EINVAL);
  CHECK_STATUS(pat_fanout_sem_start(&p, NULL, in, out, 0, square, NULL),
               PAT_EINVAL);
  pat_item tasks[4] = {1, 2, 3, 4};
  CHECK_STATUS(pat_fanout_each_start(&p, NULL, tasks, 4, sizeof(pat_item), out,
                                     square, NULL),
               PAT_EINVAL); /* unbuffered out: children would block */
  CHECK(strstr(pat_last_error(), "slot") != NULL);
  pat_sem *s;
  CHECK_STATUS(pat_sem_make(&s, test_impl(), 0), PAT_EINVAL);
  CHECK_STATUS(pat_for_each_bounded(NULL, test_impl(), 3, 0, NULL, NULL),
               PAT_EINVAL);
  pat_ctx *c;
  REQUIRE_STATUS(pat_ctx_new(&c, test_impl()), PAT_OK);
  pat_ctx_cancel(c);
  CHECK_STATUS(pat_pool_start(&p, c, in, out, 2, PAT_ORDERED, square, NULL),
               PAT_CANCELED);
  pat_ctx_free(c);
  chan_destroy(in);
  chan_destroy(out);
}

TEST(fanout_sem_bounds_concurrency) {
  int base = test_goroutines();
  uint64_t n = test_scale(60);
  chan_t *in = item_chan(0), *out = item_chan(0);
  pat_proc *g = feed(in, &n), *fan;
  struct live l = {0};
  REQUIRE_STATUS(pat_fanout_sem_start(&fan, NULL, in, out, 3, slow_tracked, &l),
                 PAT_OK);
  pat_item *got = calloc(n, sizeof *got);
  CHECK_EQ(drain(out, got, n), n);
  qsort(got, n, sizeof *got, cmp_item);
  for (uint64_t i = 0; i < n; i++)
    CHECK_EQ(got[i], i);
  CHECK_STATUS(pat_proc_wait(fan), PAT_OK);
  CHECK(atomic_load(&l.peak) <= 3);
  CHECK(atomic_load(&l.peak) >= 1);
  CHECK_ACCOUNTED(fan);
  pat_proc_free(fan);
  pat_proc_free(g);
  free(got);
  chan_destroy(in);
  chan_destroy(out);
  CHECK_THREADS_BACK(base);
}

TEST(fanout_sem_stops_on_cancel) {
  int base = test_goroutines();
  chan_t *in = item_chan(0), *out = item_chan(0);
  pat_proc *g = feed(in, NULL), *fan;
  struct live l = {0};
  REQUIRE_STATUS(
      pat_fanout_sem_start(&fan, NULL, in, out, 3, blocked_forever, &l),
      PAT_OK);
  WAIT_COUNT(&l.entered, 3);
  int64_t start = test_now_ns();
  pat_proc_cancel(fan);
  CHECK_STATUS(pat_proc_wait(fan), PAT_CANCELED);
  CHECK_PROMPT(start);
  CHECK_EQ(atomic_load(&l.entered), 3); /* the limit held */
  CHECK_ACCOUNTED(fan);
  pat_proc_free(fan);
  pat_proc_free(g);
  chan_destroy(in);
  chan_destroy(out);
  CHECK_THREADS_BACK(base);
}

TEST(fanout_each_children_never_block) {
  int base = test_goroutines();
  enum { N = 20 };
  pat_item tasks[N];
  for (int i = 0; i < N; i++)
    tasks[i] = i;
  chan_t *out = item_chan(N);
  pat_proc *fan;
  REQUIRE_STATUS(pat_fanout_each_start(&fan, NULL, tasks, N, sizeof(pat_item),
                                       out, jittery_square, NULL),
                 PAT_OK);
  /* Nobody reads yet: every child must still finish (its own slot). */
  CHECK_STATUS(pat_proc_wait(fan), PAT_OK);
  CHECK_EQ(chan_len(out), N);
  pat_item got[N];
  CHECK_EQ(drain(out, got, N), N);
  qsort(got, N, sizeof *got, cmp_item);
  for (int i = 0; i < N; i++)
    CHECK_EQ(got[i], (pat_item)i * i);
  CHECK_ACCOUNTED(fan);
  pat_proc_free(fan);
  chan_destroy(out);
  CHECK_THREADS_BACK(base);
}

TEST(sem_tokens_and_errors) {
  int base = test_goroutines();
  pat_sem *s;
  REQUIRE_STATUS(pat_sem_make(&s, test_impl(), 2), PAT_OK);
  CHECK_STATUS(pat_sem_acquire(s, NULL), PAT_OK);
  CHECK_STATUS(pat_sem_try_acquire(s), PAT_OK);
  CHECK_STATUS(pat_sem_try_acquire(s), CHAN_WOULD_BLOCK);
  CHECK_EQ(pat_sem_held(s), 2);
  CHECK_STATUS(pat_sem_free(s), PAT_EBUSY);
  pat_ctx *c;
  REQUIRE_STATUS(pat_ctx_new(&c, test_impl()), PAT_OK);
  pat_ctx_cancel(c);
  CHECK_STATUS(pat_sem_acquire(s, c), PAT_CANCELED); /* full: gives up */
  CHECK_STATUS(pat_sem_release(s), PAT_OK);
  CHECK_STATUS(pat_sem_release(s), PAT_OK);
  CHECK_STATUS(pat_sem_release(s), PAT_ESTATE);
  CHECK_STATUS(pat_sem_free(s), PAT_OK);
  pat_ctx_free(c);
  CHECK_THREADS_BACK(base);
}

struct bounded_arg {
  struct live l;
  atomic_int runs[64];
  int fail_at;
};

static int bounded_task(pat_ctx *ctx, void *arg, size_t i) {
  struct bounded_arg *b = arg;
  atomic_fetch_add(&b->runs[i], 1);
  if ((int)i == b->fail_at)
    return -3;
  pat_item in = (pat_item)i, out;
  int rc = slow_tracked(ctx, &b->l, &in, &out);
  return rc;
}

TEST(bounded_parallelism_runs_each_once_within_limit) {
  int base = test_goroutines();
  struct bounded_arg *b = calloc(1, sizeof *b);
  b->fail_at = -1;
  size_t n = test_sanitized() ? 16 : 64;
  CHECK_STATUS(pat_for_each_bounded(NULL, test_impl(), n, 4, bounded_task, b),
               PAT_OK);
  for (size_t i = 0; i < n; i++)
    CHECK_EQ(atomic_load(&b->runs[i]), 1);
  CHECK(atomic_load(&b->l.peak) <= 4);
  CHECK_THREADS_BACK(base);
  /* The first error is returned; the rest are canceled or not started. */
  memset(b, 0, sizeof *b);
  b->fail_at = 5;
  int64_t start = test_now_ns();
  CHECK_STATUS(pat_for_each_bounded(NULL, test_impl(), n, 4, bounded_task, b),
               -3);
  CHECK_PROMPT(start);
  int ran = 0;
  for (size_t i = 0; i < n; i++)
    ran += atomic_load(&b->runs[i]);
  CHECK(ran <= (int)n);
  free(b);
  CHECK_THREADS_BACK(base);
}
