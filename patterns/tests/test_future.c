/*
 * test_future.c - futures and promises, errgroup, caller-side concurrency
 * (pat_fetch_all, the notes' Glob) and the encapsulated job with its
 * non-blocking error channel.
 */
#include "common.h"

#define HOUR_NS ((int64_t)3600 * 1000000000)

static int fetch_42(pat_ctx *ctx, void *arg, void *result) {
  (void)ctx;
  (void)arg;
  pat_item v = 42;
  memcpy(result, &v, sizeof v);
  return PAT_OK;
}

static int fetch_gated(pat_ctx *ctx, void *arg, void *result) {
  int rc = pat_recv_ctx(ctx, arg, NULL); /* waits for the gate */
  if (rc != CHAN_OK && rc != CHAN_CLOSED)
    return rc;
  pat_item v = 7;
  memcpy(result, &v, sizeof v);
  return PAT_OK;
}

static int fetch_fails(pat_ctx *ctx, void *arg, void *result) {
  (void)ctx;
  (void)arg;
  (void)result;
  return -5;
}

TEST(future_result_can_be_awaited_again) {
  int base = test_goroutines();
  pat_future *a, *b;
  REQUIRE_STATUS(
      pat_future_start(&a, NULL, test_impl(), sizeof(pat_item), fetch_42, NULL),
      PAT_OK);
  REQUIRE_STATUS(pat_future_start(&b, NULL, test_impl(), sizeof(pat_item),
                                  fetch_fails, NULL),
                 PAT_OK);
  pat_item va = 0, vb = 0;
  CHECK_STATUS(pat_future_await(a, &va, CHAN_FOREVER), PAT_OK);
  CHECK_EQ(va, 42);
  va = 0;
  CHECK_STATUS(pat_future_await(a, &va, 0), PAT_OK);
  CHECK_EQ(va, 42);
  CHECK_STATUS(pat_future_await(b, &vb, CHAN_FOREVER), -5);
  CHECK_STATUS(pat_future_await(a, &va, -7), PAT_EINVAL);
  pat_future_free(a);
  pat_future_free(b);
  CHECK_THREADS_BACK(base);
}

TEST(future_timeout_then_late_result) {
  int base = test_goroutines();
  chan_t *gate = test_chan(0, 0);
  pat_future *f;
  REQUIRE_STATUS(pat_future_start(&f, NULL, test_impl(), sizeof(pat_item),
                                  fetch_gated, gate),
                 PAT_OK);
  pat_item v = 0;
  CHECK_STATUS(pat_future_await(f, &v, 5000000), CHAN_TIMEOUT);
  CHECK_STATUS(pat_future_await(f, &v, 0), CHAN_TIMEOUT);
  chan_close(gate);
  CHECK_STATUS(pat_future_await(f, &v, CHAN_FOREVER), PAT_OK);
  CHECK_EQ(v, 7);
  pat_future_free(f);
  chan_destroy(gate);
  CHECK_THREADS_BACK(base);
}

TEST(future_abandoned_after_timeout_does_not_leak) {
  int base = test_goroutines();
  /* The notes' cancellation: the manager waits 100ms then walks away. */
  chan_t *gate = test_chan(0, 0); /* never opened */
  pat_future *f;
  REQUIRE_STATUS(pat_future_start(&f, NULL, test_impl(), sizeof(pat_item),
                                  fetch_gated, gate),
                 PAT_OK);
  CHECK_STATUS(pat_future_await(f, NULL, 1000000), CHAN_TIMEOUT);
  int64_t start = test_now_ns();
  pat_future_free(f); /* cancels the employee and joins it */
  CHECK_PROMPT(start);
  chan_destroy(gate);
  CHECK_THREADS_BACK(base);
}

TEST(promise_completed_once) {
  pat_future *p;
  REQUIRE_STATUS(pat_promise_make(&p, test_impl(), sizeof(pat_item)), PAT_OK);
  pat_item v = 0, nine = 9;
  CHECK_STATUS(pat_future_await(p, &v, 0), CHAN_TIMEOUT);
  CHECK_STATUS(pat_promise_set(p, PAT_OK, NULL), PAT_EINVAL);
  CHECK_STATUS(pat_promise_set(p, PAT_OK, &nine), PAT_OK);
  CHECK_STATUS(pat_promise_set(p, PAT_OK, &nine), PAT_ESTATE);
  CHECK_STATUS(pat_future_await(p, &v, CHAN_FOREVER), PAT_OK);
  CHECK_EQ(v, 9);
  pat_future_free(p);
  pat_future *f;
  REQUIRE_STATUS(
      pat_future_start(&f, NULL, test_impl(), sizeof(pat_item), fetch_42, NULL),
      PAT_OK);
  CHECK_STATUS(pat_promise_set(f, PAT_OK, &nine), PAT_ESTATE);
  CHECK_STATUS(pat_future_await(f, &v, CHAN_FOREVER), PAT_OK);
  CHECK_EQ(v, 42);
  pat_future_free(f);
  CHECK_STATUS(pat_future_start(&f, NULL, test_impl(), 8, NULL, NULL),
               PAT_EINVAL);
  pat_ctx *c;
  REQUIRE_STATUS(pat_ctx_new(&c, test_impl()), PAT_OK);
  pat_ctx_cancel(c);
  CHECK_STATUS(pat_future_start(&f, c, NULL, 8, fetch_42, NULL), PAT_CANCELED);
  pat_ctx_free(c);
}

struct eg_arg {
  atomic_int ran, canceled;
  int fail_with;
};

static int eg_ok(pat_ctx *ctx, void *arg) {
  (void)ctx;
  atomic_fetch_add(&((struct eg_arg *)arg)->ran, 1);
  return PAT_OK;
}

static int eg_fail(pat_ctx *ctx, void *arg) {
  (void)ctx;
  struct eg_arg *a = arg;
  atomic_fetch_add(&a->ran, 1);
  return a->fail_with;
}

static int eg_block(pat_ctx *ctx, void *arg) {
  struct eg_arg *a = arg;
  atomic_fetch_add(&a->ran, 1);
  int rc = pat_ctx_sleep(ctx, HOUR_NS);
  if (rc == PAT_CANCELED)
    atomic_fetch_add(&a->canceled, 1);
  return rc;
}

TEST(errgroup_all_succeed) {
  int base = test_goroutines();
  struct eg_arg a = {0};
  pat_errgroup *g;
  REQUIRE_STATUS(pat_errgroup_make(&g, NULL, test_impl()), PAT_OK);
  for (int i = 0; i < 6; i++)
    REQUIRE_STATUS(pat_errgroup_go(g, eg_ok, &a), PAT_OK);
  CHECK_STATUS(pat_errgroup_wait(g), PAT_OK);
  CHECK_EQ(atomic_load(&a.ran), 6);
  CHECK_STATUS(pat_errgroup_go(g, eg_ok, &a), PAT_ESTATE);
  CHECK_STATUS(pat_errgroup_wait(g), PAT_OK);
  pat_errgroup_free(g);
  CHECK_STATUS(pat_errgroup_go(NULL, eg_ok, &a), PAT_EINVAL);
  CHECK_THREADS_BACK(base);
}

TEST(errgroup_first_error_cancels_the_rest) {
  int base = test_goroutines();
  struct eg_arg a = {0};
  a.fail_with = -11;
  pat_errgroup *g;
  REQUIRE_STATUS(pat_errgroup_make(&g, NULL, test_impl()), PAT_OK);
  for (int i = 0; i < 3; i++)
    REQUIRE_STATUS(pat_errgroup_go(g, eg_block, &a), PAT_OK);
  WAIT_COUNT(&a.ran, 3);
  int64_t start = test_now_ns();
  REQUIRE_STATUS(pat_errgroup_go(g, eg_fail, &a), PAT_OK);
  CHECK_STATUS(pat_errgroup_wait(g), -11); /* not the CANCELED of the rest */
  CHECK_PROMPT(start);
  CHECK_EQ(atomic_load(&a.canceled), 3);
  CHECK_STATUS(pat_ctx_err(pat_errgroup_ctx(g)), PAT_CANCELED);
  pat_errgroup_free(g);
  CHECK_THREADS_BACK(base);
}

TEST(errgroup_follows_parent_cancel) {
  int base = test_goroutines();
  pat_ctx *parent;
  REQUIRE_STATUS(pat_ctx_new(&parent, test_impl()), PAT_OK);
  struct eg_arg a = {0};
  pat_errgroup *g;
  REQUIRE_STATUS(pat_errgroup_make(&g, parent, NULL), PAT_OK);
  for (int i = 0; i < 2; i++)
    REQUIRE_STATUS(pat_errgroup_go(g, eg_block, &a), PAT_OK);
  WAIT_COUNT(&a.ran, 2);
  pat_ctx_cancel(parent);
  CHECK_STATUS(pat_errgroup_wait(g), PAT_CANCELED);
  pat_errgroup_free(g);
  CHECK_STATUS(pat_errgroup_make(&g, parent, NULL), PAT_CANCELED);
  pat_ctx_free(parent);
  CHECK_THREADS_BACK(base);
}

struct glob {
  int fail_index;
  atomic_int started;
};

/* A synchronous Fetch: item = index squared; one may fail, the others
 * are slow unless canceled when a failure is planned. */
static int fetch_item(pat_ctx *ctx, void *arg, size_t index, void *item) {
  struct glob *g = arg;
  atomic_fetch_add(&g->started, 1);
  if ((int)index == g->fail_index)
    return -4;
  if (g->fail_index >= 0) {
    int rc = pat_ctx_sleep(ctx, HOUR_NS);
    if (rc != PAT_OK)
      return rc;
  }
  pat_item v = (pat_item)(index * index);
  memcpy(item, &v, sizeof v);
  return PAT_OK;
}

TEST(fetch_all_collects_every_item) {
  int base = test_goroutines();
  enum { N = 12 };
  struct glob g = {.fail_index = -1};
  pat_item items[N];
  size_t count = 99;
  CHECK_STATUS(pat_fetch_all(NULL, test_impl(), N, sizeof(pat_item), fetch_item,
                             &g, items, &count),
               PAT_OK);
  CHECK_EQ(count, N);
  qsort(items, N, sizeof *items, cmp_item);
  for (int i = 0; i < N; i++)
    CHECK_EQ(items[i], i * i);
  CHECK_STATUS(pat_fetch_all(NULL, test_impl(), 0, sizeof(pat_item), fetch_item,
                             &g, items, &count),
               PAT_OK);
  CHECK_EQ(count, 0);
  CHECK_STATUS(pat_fetch_all(NULL, test_impl(), 3, sizeof(pat_item), NULL, &g,
                             items, &count),
               PAT_EINVAL);
  CHECK_THREADS_BACK(base);
}

TEST(fetch_all_returns_first_error_promptly) {
  int base = test_goroutines();
  enum { N = 8 };
  struct glob g = {.fail_index = 3};
  pat_item items[N];
  size_t count = 99;
  int64_t start = test_now_ns();
  CHECK_STATUS(pat_fetch_all(NULL, test_impl(), N, sizeof(pat_item), fetch_item,
                             &g, items, &count),
               -4);
  CHECK_PROMPT(start);
  CHECK_EQ(count, 0);
  CHECK_THREADS_BACK(base);
}

static int job_three_then_fail(pat_ctx *ctx, void *arg, uint64_t i, void *out) {
  (void)ctx;
  (void)arg;
  if (i == 3)
    return -8;
  pat_item v = (pat_item)i;
  memcpy(out, &v, sizeof v);
  return PAT_OK;
}

static int job_fail_now(pat_ctx *ctx, void *arg, uint64_t i, void *out) {
  (void)ctx;
  (void)arg;
  (void)i;
  (void)out;
  return -12;
}

TEST(job_error_channel_never_blocks_the_worker) {
  int base = test_goroutines();
  pat_job *j;
  REQUIRE_STATUS(pat_job_start(&j, NULL, test_impl(), sizeof(pat_item),
                               job_three_then_fail, NULL),
                 PAT_OK);
  pat_item got[4];
  CHECK_EQ(drain(pat_job_out(j), got, 4), 3);
  /* Nobody has read the error yet, and the worker is already done. */
  CHECK_STATUS(pat_job_wait(j), -8);
  int err = 0;
  CHECK_STATUS(chan_recv(pat_job_errors(j), &err), CHAN_OK);
  CHECK_EQ(err, -8);
  CHECK_STATUS(chan_recv(pat_job_errors(j), &err), CHAN_CLOSED);
  pat_job_free(j);
  /* Nobody ever reads anything: still no leak. */
  REQUIRE_STATUS(pat_job_start(&j, NULL, test_impl(), sizeof(pat_item),
                               job_fail_now, NULL),
                 PAT_OK);
  CHECK_STATUS(pat_job_wait(j), -12);
  pat_job_free(j);
  /* A job nobody drains stops on free. */
  REQUIRE_STATUS(
      pat_job_start(&j, NULL, test_impl(), sizeof(pat_item), gen_count, NULL),
      PAT_OK);
  test_wait_waiters(pat_job_out(j), CHAN_SEND, 1);
  pat_job_free(j);
  CHECK_STATUS(pat_job_start(&j, NULL, test_impl(), 8, NULL, NULL), PAT_EINVAL);
  CHECK_THREADS_BACK(base);
}
