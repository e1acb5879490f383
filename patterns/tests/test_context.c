/*
 * test_context.c - the context (cancellation first): done channel, cancel,
 * deadlines and their timer threads, propagation, reasons, values, and the
 * for-select helpers.
 */
#include "common.h"

#define HOUR_NS ((int64_t)3600 * 1000000000)

static pat_ctx *root(void) {
  pat_ctx *c = NULL;
  int rc = pat_ctx_new(&c, test_impl());
  if (rc != PAT_OK)
    test_fail(__FILE__, __LINE__, "pat_ctx_new: %s", pat_strerror(rc));
  return c;
}

TEST(ctx_cancel_closes_done) {
  int base = test_goroutines();
  pat_ctx *c = root();
  REQUIRE(c);
  CHECK_STATUS(pat_ctx_err(c), PAT_OK);
  CHECK_EQ(chan_elem_size(pat_ctx_done(c)), 0);
  CHECK_STATUS(chan_try_recv(pat_ctx_done(c), NULL), CHAN_WOULD_BLOCK);
  pat_ctx_cancel(c);
  CHECK_STATUS(pat_ctx_err(c), PAT_CANCELED);
  CHECK_STATUS(chan_recv(pat_ctx_done(c), NULL), CHAN_CLOSED);
  pat_ctx_cancel(c); /* idempotent */
  CHECK_STATUS(pat_ctx_err(c), PAT_CANCELED);
  CHECK(!pat_ctx_deadline(c, NULL));
  CHECK_STATUS(pat_ctx_free(c), PAT_OK);
  CHECK_THREADS_BACK(base);
}

TEST(ctx_propagates_to_descendants_only) {
  pat_ctx *r = root(), *a, *b, *a1;
  REQUIRE(r);
  REQUIRE_STATUS(pat_ctx_with_cancel(&a, r), PAT_OK);
  REQUIRE_STATUS(pat_ctx_with_cancel(&b, r), PAT_OK);
  REQUIRE_STATUS(pat_ctx_with_cancel(&a1, a), PAT_OK);
  pat_ctx_cancel(a);
  CHECK_STATUS(pat_ctx_err(a1), PAT_CANCELED);
  CHECK_STATUS(chan_recv(pat_ctx_done(a1), NULL), CHAN_CLOSED);
  CHECK_STATUS(pat_ctx_err(r), PAT_OK);
  CHECK_STATUS(pat_ctx_err(b), PAT_OK);
  CHECK_STATUS(pat_ctx_free(r), PAT_EBUSY); /* children first */
  CHECK(strlen(pat_last_error()) > 0);
  pat_ctx_cancel(r);
  CHECK_STATUS(pat_ctx_err(b), PAT_CANCELED);
  /* A child of a canceled parent is born canceled, with its reason. */
  pat_ctx *late;
  REQUIRE_STATUS(pat_ctx_with_cancel(&late, b), PAT_OK);
  CHECK_STATUS(pat_ctx_err(late), PAT_CANCELED);
  CHECK_STATUS(pat_ctx_free(late), PAT_OK);
  CHECK_STATUS(pat_ctx_free(a1), PAT_OK);
  CHECK_STATUS(pat_ctx_free(a), PAT_OK);
  CHECK_STATUS(pat_ctx_free(b), PAT_OK);
  CHECK_STATUS(pat_ctx_free(r), PAT_OK);
}

TEST(ctx_deadline_fires_with_reason) {
  int base = test_goroutines();
  pat_ctx *r = root(), *t;
  REQUIRE(r);
  int64_t start = test_now_ns();
  REQUIRE_STATUS(pat_ctx_with_timeout(&t, r, 20 * 1000000), PAT_OK);
  int64_t dl;
  CHECK(pat_ctx_deadline(t, &dl));
  CHECK(dl >= start + 20 * 1000000);
  /* Block on the done channel: the timer thread must close it. */
  CHECK_STATUS(chan_recv(pat_ctx_done(t), NULL), CHAN_CLOSED);
  CHECK(test_now_ns() >= start + 20 * 1000000); /* never early */
  CHECK_STATUS(pat_ctx_err(t), PAT_DEADLINE_EXCEEDED);
  CHECK_STATUS(pat_ctx_err(r), PAT_OK);
  CHECK_PROMPT(start);
  CHECK_STATUS(pat_ctx_free(t), PAT_OK);
  CHECK_STATUS(pat_ctx_free(r), PAT_OK);
  CHECK_THREADS_BACK(base);
}

TEST(ctx_cancel_ends_timer_thread) {
  int base = test_goroutines();
  pat_ctx *r = root(), *t;
  REQUIRE(r);
  REQUIRE_STATUS(pat_ctx_with_timeout(&t, r, HOUR_NS), PAT_OK);
  CHECK_EQ(test_goroutines(), base + 1); /* the timer */
  int64_t start = test_now_ns();
  pat_ctx_cancel(r); /* through the parent */
  CHECK_STATUS(pat_ctx_err(t), PAT_CANCELED);
  CHECK_STATUS(pat_ctx_free(t), PAT_OK); /* joins the timer */
  CHECK_PROMPT(start);
  CHECK_STATUS(pat_ctx_free(r), PAT_OK);
  CHECK_THREADS_BACK(base);
}

TEST(ctx_deadline_inherited_and_not_extended) {
  int base = test_goroutines();
  pat_ctx *r = root(), *p, *c, *k;
  REQUIRE(r);
  /* A later child deadline cannot extend the parent's: no new timer. */
  REQUIRE_STATUS(pat_ctx_with_timeout(&p, r, HOUR_NS), PAT_OK);
  int64_t pdl, cdl;
  REQUIRE(pat_ctx_deadline(p, &pdl));
  REQUIRE_STATUS(pat_ctx_with_timeout(&c, p, 2 * HOUR_NS), PAT_OK);
  CHECK(pat_ctx_deadline(c, &cdl));
  CHECK_EQ(cdl, pdl);
  CHECK_EQ(test_goroutines(), base + 1); /* only the parent's timer */
  CHECK_STATUS(pat_ctx_free(c), PAT_OK);
  CHECK_STATUS(pat_ctx_free(p), PAT_OK);
  /* A parent's deadline reaches its descendants, with its reason. */
  REQUIRE_STATUS(pat_ctx_with_timeout(&p, r, 30 * 1000000), PAT_OK);
  REQUIRE_STATUS(pat_ctx_with_cancel(&c, p), PAT_OK);
  REQUIRE_STATUS(pat_ctx_with_cancel(&k, c), PAT_OK);
  CHECK(pat_ctx_deadline(k, NULL));
  CHECK_STATUS(chan_recv(pat_ctx_done(k), NULL), CHAN_CLOSED);
  CHECK_STATUS(pat_ctx_err(k), PAT_DEADLINE_EXCEEDED);
  CHECK_STATUS(pat_ctx_err(c), PAT_DEADLINE_EXCEEDED);
  CHECK_STATUS(pat_ctx_err(r), PAT_OK);
  /* A deadline already past: born expired, no thread. */
  pat_ctx *past;
  REQUIRE_STATUS(pat_ctx_with_deadline(&past, r, test_now_ns() - 1), PAT_OK);
  CHECK_STATUS(pat_ctx_err(past), PAT_DEADLINE_EXCEEDED);
  CHECK_STATUS(pat_ctx_free(past), PAT_OK);
  CHECK_STATUS(pat_ctx_free(k), PAT_OK);
  CHECK_STATUS(pat_ctx_free(c), PAT_OK);
  CHECK_STATUS(pat_ctx_free(p), PAT_OK);
  CHECK_STATUS(pat_ctx_free(r), PAT_OK);
  CHECK_THREADS_BACK(base);
}

TEST(ctx_values_walk_up) {
  static const int user_key = 0, token_key = 0, other_key = 0;
  pat_ctx *r = root(), *u, *t;
  REQUIRE(r);
  REQUIRE_STATUS(pat_ctx_with_value(&u, r, &user_key, "jane"), PAT_OK);
  REQUIRE_STATUS(pat_ctx_with_value(&t, u, &token_key, "abc123"), PAT_OK);
  CHECK(!strcmp(pat_ctx_value(t, &user_key), "jane"));
  CHECK(!strcmp(pat_ctx_value(t, &token_key), "abc123"));
  CHECK(pat_ctx_value(u, &token_key) == NULL);
  CHECK(pat_ctx_value(t, &other_key) == NULL);
  pat_ctx_cancel(r);
  CHECK_STATUS(pat_ctx_err(t), PAT_CANCELED); /* values propagate cancel */
  CHECK_STATUS(pat_ctx_free(t), PAT_OK);
  CHECK_STATUS(pat_ctx_free(u), PAT_OK);
  CHECK_STATUS(pat_ctx_free(r), PAT_OK);
}

struct select_waiter {
  pat_ctx *ctx;
  chan_t *work;
  size_t chosen;
  int rc;
};

static void *select_on_done(void *arg) {
  struct select_waiter *w = arg;
  struct chan_case cases[2] = {{w->work, CHAN_RECV, NULL},
                               {pat_ctx_done(w->ctx), CHAN_RECV, NULL}};
  w->rc = chan_select(cases, 2, CHAN_FOREVER, &w->chosen);
  return NULL;
}

TEST(ctx_done_is_a_select_case) {
  int base = test_goroutines();
  pat_ctx *c = root();
  REQUIRE(c);
  struct select_waiter w = {c, item_chan(0), 99, -99};
  REQUIRE(w.work);
  test_task t = test_spawn(select_on_done, &w);
  test_wait_waiters(pat_ctx_done(c), CHAN_RECV, 1);
  int64_t start = test_now_ns();
  pat_ctx_cancel(c);
  test_join(t);
  CHECK_PROMPT(start);
  CHECK_EQ(w.chosen, 1);
  CHECK_STATUS(w.rc, CHAN_CLOSED);
  CHECK_STATUS(pat_ctx_free(c), PAT_OK);
  chan_destroy(w.work);
  CHECK_THREADS_BACK(base);
}

struct recv_waiter {
  pat_ctx *ctx;
  chan_t *ch;
  int rc;
};

static void *recv_ctx_thread(void *arg) {
  struct recv_waiter *w = arg;
  pat_item v;
  w->rc = pat_recv_ctx(w->ctx, w->ch, &v);
  return NULL;
}

static void *sleep_ctx_thread(void *arg) {
  struct recv_waiter *w = arg;
  w->rc = pat_ctx_sleep(w->ctx, HOUR_NS);
  return NULL;
}

TEST(ctx_send_recv_sleep_stop_on_cancel) {
  int base = test_goroutines();
  pat_ctx *c = root();
  REQUIRE(c);
  chan_t *ch = item_chan(4);
  REQUIRE(ch);
  struct recv_waiter w = {c, ch, -99}, s = {c, ch, -99};
  test_task t1 = test_spawn(recv_ctx_thread, &w);
  test_task t2 = test_spawn(sleep_ctx_thread, &s);
  test_wait_waiters(pat_ctx_done(c), CHAN_RECV, 2);
  int64_t start = test_now_ns();
  pat_ctx_cancel(c);
  test_join(t1);
  test_join(t2);
  CHECK_PROMPT(start);
  CHECK_STATUS(w.rc, PAT_CANCELED);
  CHECK_STATUS(s.rc, PAT_CANCELED);
  /* Once canceled, no value moves even though ch has room. */
  pat_item v = 7;
  CHECK_STATUS(pat_send_ctx(c, ch, &v), PAT_CANCELED);
  CHECK_EQ(chan_len(ch), 0);
  CHECK_STATUS(pat_send_ctx(NULL, ch, &v), CHAN_OK);
  CHECK_STATUS(pat_recv_ctx(c, ch, &v), PAT_CANCELED);
  CHECK_STATUS(pat_recv_ctx(NULL, ch, &v), CHAN_OK);
  CHECK_EQ(v, 7);
  CHECK_STATUS(pat_ctx_sleep(NULL, 1000), PAT_OK);
  CHECK_STATUS(pat_ctx_free(c), PAT_OK);
  c = root();
  CHECK_STATUS(pat_ctx_sleep(c, 1000000), PAT_OK);
  CHECK_STATUS(pat_ctx_sleep(c, 0), PAT_OK); /* a zero sleep is not an error */
  CHECK_STATUS(pat_ctx_free(c), PAT_OK);
  chan_destroy(ch);
  CHECK_THREADS_BACK(base);
}

struct canceller {
  pat_ctx *ctx;
  atomic_int *go;
};

static void *cancel_thread(void *arg) {
  struct canceller *k = arg;
  while (!atomic_load(k->go))
    test_yield();
  pat_ctx_cancel(k->ctx);
  return NULL;
}

TEST(ctx_concurrent_cancel_of_a_tree) {
  int rounds = (int)test_scale(200);
  for (int r = 0; r < rounds; r++) {
    pat_ctx *top = root(), *kids[8];
    REQUIRE(top);
    for (int i = 0; i < 8; i++)
      REQUIRE_STATUS(pat_ctx_with_cancel(&kids[i], i ? kids[i / 2] : top),
                     PAT_OK);
    atomic_int go = 0;
    struct canceller a = {top, &go}, b = {kids[3], &go};
    test_task t1 = test_spawn(cancel_thread, &a);
    test_task t2 = test_spawn(cancel_thread, &b);
    atomic_store(&go, 1);
    test_join(t1);
    test_join(t2);
    for (int i = 0; i < 8; i++)
      CHECK_STATUS(chan_recv(pat_ctx_done(kids[i]), NULL), CHAN_CLOSED);
    for (int i = 7; i >= 0; i--)
      CHECK_STATUS(pat_ctx_free(kids[i]), PAT_OK);
    CHECK_STATUS(pat_ctx_free(top), PAT_OK);
  }
}

TEST(ctx_bad_input) {
  pat_ctx *c = NULL;
  CHECK_STATUS(pat_ctx_new(NULL, test_impl()), PAT_EINVAL);
  CHECK_STATUS(pat_ctx_new(&c, "no-such-impl"), CHAN_EUNKNOWN_IMPL);
  CHECK_STATUS(pat_ctx_with_cancel(&c, NULL), PAT_EINVAL);
  CHECK(strstr(pat_last_error(), "parent") != NULL);
  CHECK_STATUS(pat_ctx_with_timeout(&c, NULL, 5), PAT_EINVAL);
  c = root();
  REQUIRE(c);
  pat_ctx *k;
  CHECK_STATUS(pat_ctx_with_timeout(&k, c, -1), PAT_EINVAL);
  CHECK_STATUS(pat_ctx_sleep(c, -1), PAT_EINVAL);
  CHECK_STATUS(pat_ctx_free(NULL), PAT_EINVAL);
  CHECK_STATUS(pat_ctx_err(NULL), PAT_OK);
  CHECK(pat_ctx_done(NULL) == NULL);
  pat_ctx_cancel(NULL);
  CHECK_STATUS(pat_send_ctx(c, NULL, NULL), CHAN_EINVAL);
  CHECK_STATUS(pat_recv_ctx(c, NULL, NULL), CHAN_EINVAL);
  CHECK(strcmp(pat_strerror(PAT_DEADLINE_EXCEEDED),
               "context deadline exceeded") == 0);
  CHECK(strcmp(pat_strerror(CHAN_CLOSED), chan_strerror(CHAN_CLOSED)) == 0);
  CHECK_STATUS(pat_ctx_free(c), PAT_OK);
}

TEST(ctx_timeout_for_the_whole_conversation) {
  int base = test_goroutines();
  /* The notes' select-timeout: receive until the conversation's deadline. */
  pat_ctx *r = root(), *talk;
  REQUIRE(r);
  chan_t *quiet = item_chan(0); /* Joe never says a thing */
  REQUIRE_STATUS(pat_ctx_with_timeout(&talk, r, 10 * 1000000), PAT_OK);
  pat_item v;
  int64_t start = test_now_ns();
  int64_t deadline = 0;
  CHECK(pat_ctx_deadline(talk, &deadline));
  CHECK_STATUS(pat_recv_ctx(talk, quiet, &v), PAT_DEADLINE_EXCEEDED);
  CHECK(test_now_ns() >= deadline); /* never before the deadline */
  CHECK_PROMPT(start);
  CHECK_STATUS(pat_send_ctx(talk, quiet, &v), PAT_DEADLINE_EXCEEDED);
  CHECK_STATUS(pat_ctx_free(talk), PAT_OK);
  CHECK_STATUS(pat_ctx_free(r), PAT_OK);
  chan_destroy(quiet);
  CHECK_THREADS_BACK(base);
}
