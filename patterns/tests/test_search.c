/*
 * test_search.c - replicated requests with a timeout (pat_first) and the
 * fan-in of several replicated searches (pat_search_all).
 */
#include "common.h"

#define HOUR_NS ((int64_t)3600 * 1000000000)

/* A replica answers "<id>" once its gate closes (NULL gate: at once), or
 * fails with its error; it watches ctx like a well-behaved server. */
struct replica {
  pat_item id;
  chan_t *gate;
  int error;
  atomic_int *calls;
};

static int query_replica(pat_ctx *ctx, void *replica, const void *query,
                         void *result) {
  struct replica *r = replica;
  if (r->calls)
    atomic_fetch_add(r->calls, 1);
  if (r->gate) {
    int rc = pat_recv_ctx(ctx, r->gate, NULL);
    if (rc != CHAN_OK && rc != CHAN_CLOSED)
      return rc;
  }
  if (r->error)
    return r->error;
  pat_item v = r->id * 100 + *(const pat_item *)query;
  memcpy(result, &v, sizeof v);
  return PAT_OK;
}

TEST(first_takes_the_answering_replica) {
  int base = test_goroutines();
  atomic_int calls = 0;
  chan_t *gates[3] = {test_chan(0, 0), test_chan(0, 0), test_chan(0, 0)};
  struct replica r[3];
  void *reps[3];
  for (int i = 0; i < 3; i++) {
    r[i] = (struct replica){i, gates[i], 0, &calls};
    reps[i] = &r[i];
  }
  chan_close(gates[2]); /* only replica 2 can answer */
  pat_item q = 5, result = 0;
  size_t winner = 99;
  int64_t start = test_now_ns();
  CHECK_STATUS(pat_first(NULL, test_impl(), query_replica, reps, 3, &q, &result,
                         sizeof result, CHAN_FOREVER, &winner),
               PAT_OK);
  CHECK_PROMPT(start);
  CHECK_EQ(winner, 2);
  CHECK_EQ(result, 205);
  CHECK_EQ(atomic_load(&calls), 3); /* every replica was asked */
  for (int i = 0; i < 3; i++)
    chan_destroy(gates[i]);
  CHECK_THREADS_BACK(base); /* the losers were canceled and joined */
}

TEST(first_gives_up_at_the_timeout) {
  int base = test_goroutines();
  chan_t *gate = test_chan(0, 0); /* never opens */
  struct replica r[2] = {{0, gate, 0, NULL}, {1, gate, 0, NULL}};
  void *reps[2] = {&r[0], &r[1]};
  pat_item q = 1, result;
  int64_t start = test_now_ns();
  CHECK_STATUS(pat_first(NULL, test_impl(), query_replica, reps, 2, &q, &result,
                         sizeof result, 20000000, NULL),
               PAT_DEADLINE_EXCEEDED);
  CHECK(test_now_ns() - start >= 20000000);
  CHECK_PROMPT(start);
  chan_destroy(gate);
  CHECK_THREADS_BACK(base);
}

TEST(first_skips_failures_and_reports_when_all_fail) {
  int base = test_goroutines();
  chan_t *gate = test_chan(0, 0);
  struct replica r[3] = {
      {0, NULL, -6, NULL}, {1, gate, 0, NULL}, {2, NULL, -6, NULL}};
  void *reps[3] = {&r[0], &r[1], &r[2]};
  pat_item q = 0, result = 0;
  size_t winner = 99;
  chan_close(gate);
  CHECK_STATUS(pat_first(NULL, test_impl(), query_replica, reps, 3, &q, &result,
                         sizeof result, CHAN_FOREVER, &winner),
               PAT_OK);
  CHECK_EQ(winner, 1);
  CHECK_EQ(result, 100);
  r[1].error = -6;
  CHECK_STATUS(pat_first(NULL, test_impl(), query_replica, reps, 3, &q, &result,
                         sizeof result, CHAN_FOREVER, NULL),
               -6);
  chan_destroy(gate);
  CHECK_THREADS_BACK(base);
}

TEST(first_bad_input_and_canceled_parent) {
  struct replica r = {0, NULL, 0, NULL};
  void *reps[1] = {&r};
  pat_item q = 0, res;
  CHECK_STATUS(pat_first(NULL, test_impl(), NULL, reps, 1, &q, &res, sizeof res,
                         CHAN_FOREVER, NULL),
               PAT_EINVAL);
  CHECK_STATUS(pat_first(NULL, test_impl(), query_replica, reps, 0, &q, &res,
                         sizeof res, CHAN_FOREVER, NULL),
               PAT_EINVAL);
  CHECK_STATUS(pat_first(NULL, test_impl(), query_replica, reps, 1, &q, &res,
                         sizeof res, -5, NULL),
               PAT_EINVAL);
  pat_ctx *c;
  REQUIRE_STATUS(pat_ctx_new(&c, test_impl()), PAT_OK);
  pat_ctx_cancel(c);
  CHECK_STATUS(pat_first(c, NULL, query_replica, reps, 1, &q, &res, sizeof res,
                         CHAN_FOREVER, NULL),
               PAT_CANCELED);
  CHECK_STATUS(pat_search_all(NULL, test_impl(), NULL, 1, &q, &res, sizeof res,
                              NULL, CHAN_FOREVER),
               PAT_EINVAL);
  pat_ctx_free(c);
}

struct canceler {
  pat_ctx *ctx;
  chan_t *watch;
};

static void *cancel_when_parked(void *arg) {
  struct canceler *k = arg;
  while (chan_debug_waiters(k->watch, CHAN_RECV) < 2)
    test_yield();
  pat_ctx_cancel(k->ctx);
  return NULL;
}

TEST(first_stops_when_the_caller_cancels) {
  int base = test_goroutines();
  chan_t *gate = test_chan(0, 0);
  struct replica r[2] = {{0, gate, 0, NULL}, {1, gate, 0, NULL}};
  void *reps[2] = {&r[0], &r[1]};
  pat_ctx *c;
  REQUIRE_STATUS(pat_ctx_new(&c, test_impl()), PAT_OK);
  struct canceler k = {c, gate};
  test_task t = test_spawn(cancel_when_parked, &k);
  pat_item q = 0, res;
  int64_t start = test_now_ns();
  CHECK_STATUS(pat_first(c, NULL, query_replica, reps, 2, &q, &res, sizeof res,
                         HOUR_NS, NULL),
               PAT_CANCELED);
  test_join(t);
  CHECK_PROMPT(start);
  pat_ctx_free(c);
  chan_destroy(gate);
  CHECK_THREADS_BACK(base);
}

TEST(search_all_fans_in_services_until_the_deadline) {
  int base = test_goroutines();
  chan_t *never = test_chan(0, 0);
  /* Web and Image answer (one replica each is stuck); Video never does. */
  struct replica web[2] = {{1, NULL, 0, NULL}, {2, never, 0, NULL}};
  struct replica img[2] = {{3, never, 0, NULL}, {4, NULL, 0, NULL}};
  struct replica vid[2] = {{5, never, 0, NULL}, {6, never, 0, NULL}};
  void *webr[2] = {&web[0], &web[1]}, *imgr[2] = {&img[0], &img[1]},
       *vidr[2] = {&vid[0], &vid[1]};
  struct pat_service svc[3] = {{query_replica, webr, 2},
                               {query_replica, imgr, 2},
                               {query_replica, vidr, 2}};
  pat_item q = 7, results[3] = {0, 0, 0};
  int status[3];
  int64_t start = test_now_ns();
  /* The deadline must pass for Video; the others answer at once, so a
   * generous deadline keeps a loaded machine from failing them. */
  int64_t deadline = test_sanitized() ? 3000000000 : 1000000000;
  CHECK_STATUS(pat_search_all(NULL, test_impl(), svc, 3, &q, results,
                              sizeof(pat_item), status, deadline),
               2);
  CHECK(test_now_ns() - start >= deadline);
  CHECK_PROMPT(start);
  CHECK_STATUS(status[0], PAT_OK);
  CHECK_STATUS(status[1], PAT_OK);
  CHECK_STATUS(status[2], PAT_DEADLINE_EXCEEDED);
  CHECK_EQ(results[0], 107);
  CHECK_EQ(results[1], 407);
  CHECK_EQ(results[2], 0);
  chan_close(never);
  CHECK_STATUS(pat_search_all(NULL, test_impl(), svc, 3, &q, results,
                              sizeof(pat_item), status, CHAN_FOREVER),
               3);
  chan_destroy(never);
  CHECK_THREADS_BACK(base);
}
