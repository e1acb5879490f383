/* core_select.c - select: one case, no default while ready, no self
 * pairing, nil cases, duplicates, mixed implementations, fairness. */
#include "core_util.h"

#include <math.h>
#include <sched.h>
#include <string.h>

#define MS 1000000LL

static struct chan_case recv_case(chan_t *ch, int64_t *into) {
  return (struct chan_case){.chan = ch, .dir = CHAN_RECV, .elem = into};
}

static struct chan_case send_case(chan_t *ch, int64_t *value) {
  return (struct chan_case){.chan = ch, .dir = CHAN_SEND, .elem = value};
}

TEST(select_poll_takes_default_when_nothing_is_ready) {
  chan_t *a = test_chan(sizeof(int64_t), 0), *b = test_chan(8, 1);
  REQUIRE(a && b);
  int64_t x = 0, y = 0;
  int64_t full = 1;
  chan_send(b, &full);
  struct chan_case cases[] = {recv_case(a, &x), send_case(b, &y)};
  size_t chosen = 99;
  CHECK_STATUS(chan_select(cases, 2, CHAN_POLL, &chosen), CHAN_WOULD_BLOCK);
  CHECK_EQ(chosen, 99);
  CHECK_EQ(chan_len(b), 1);
  chan_destroy(a);
  chan_destroy(b);
}

TEST(select_takes_the_ready_case_and_only_it) {
  chan_t *ch[3];
  for (int i = 0; i < 3; i++)
    REQUIRE((ch[i] = test_chan(sizeof(int64_t), 1)));
  int64_t v = 55;
  chan_send(ch[1], &v);
  int64_t into[3] = {-1, -1, -1};
  struct chan_case cases[3];
  for (int i = 0; i < 3; i++)
    cases[i] = recv_case(ch[i], &into[i]);
  size_t chosen = 99;
  CHECK_STATUS(chan_select(cases, 3, CHAN_FOREVER, &chosen), CHAN_OK);
  CHECK_EQ(chosen, 1);
  CHECK_EQ(into[1], 55);
  CHECK_EQ(into[0], -1);
  CHECK_EQ(into[2], -1);

  /* A send case on a channel with room. */
  int64_t out = 66;
  struct chan_case sends[2] = {send_case(ch[0], &out), recv_case(ch[2], &v)};
  CHECK_STATUS(chan_select(sends, 2, CHAN_POLL, &chosen), CHAN_OK);
  CHECK_EQ(chosen, 0);
  int64_t got = 0;
  CHECK_STATUS(chan_try_recv(ch[0], &got), CHAN_OK);
  CHECK_EQ(got, 66);
  for (int i = 0; i < 3; i++)
    chan_destroy(ch[i]);
}

TEST(select_reports_a_closed_case) {
  chan_t *open = test_chan(sizeof(int64_t), 0);
  chan_t *closed = test_chan(sizeof(int64_t), 0);
  REQUIRE(open && closed);
  chan_close(closed);
  int64_t x = 1, y = 7;
  struct chan_case cases[] = {recv_case(open, &x), recv_case(closed, &y)};
  size_t chosen = 99;
  CHECK_STATUS(chan_select(cases, 2, CHAN_FOREVER, &chosen), CHAN_CLOSED);
  CHECK_EQ(chosen, 1);
  CHECK_EQ(y, 0);
  int64_t v = 3;
  struct chan_case send[] = {send_case(closed, &v)};
  CHECK_STATUS(chan_select(send, 1, CHAN_POLL, &chosen), CHAN_CLOSED);
  CHECK_EQ(chosen, 0);
  chan_destroy(open);
  chan_destroy(closed);
}

TEST(select_nil_cases_are_never_ready) {
  chan_t *ch = test_chan(sizeof(int64_t), 1);
  REQUIRE(ch);
  int64_t v = 4, got = 0;
  chan_send(ch, &v);
  struct chan_case cases[] = {recv_case(NULL, &got), recv_case(ch, &got),
                              send_case(NULL, &v)};
  size_t chosen = 99;
  for (int i = 0; i < 20; i++) {
    CHECK_STATUS(chan_select(cases, 3, CHAN_FOREVER, &chosen), CHAN_OK);
    CHECK_EQ(chosen, 1);
    chan_send(ch, &v);
  }
  struct chan_case nils[] = {recv_case(NULL, &got), send_case(NULL, &v)};
  CHECK_STATUS(chan_select(nils, 2, CHAN_POLL, &chosen), CHAN_WOULD_BLOCK);
  CHECK_STATUS(chan_select(nils, 2, CHAN_FOREVER, &chosen), CHAN_EINVAL);
  int64_t start = test_now_ns();
  CHECK_STATUS(chan_select(nils, 2, 5 * MS, &chosen), CHAN_TIMEOUT);
  CHECK(test_now_ns() - start >= 5 * MS);
  CHECK_STATUS(chan_select(NULL, 0, 1 * MS, &chosen), CHAN_TIMEOUT);
  chan_destroy(ch);
}

TEST(select_timeout_expires_no_earlier_than_deadline) {
  chan_t *a = test_chan(sizeof(int64_t), 0), *b = test_chan(8, 2);
  REQUIRE(a && b);
  int64_t x = 0, y = 0;
  struct chan_case cases[] = {recv_case(a, &x), recv_case(b, &y)};
  size_t chosen = 99;
  int64_t start = test_now_ns();
  CHECK_STATUS(chan_select(cases, 2, 20 * MS, &chosen), CHAN_TIMEOUT);
  CHECK(test_now_ns() - start >= 20 * MS);
  CHECK_EQ(chan_debug_waiters(a, CHAN_RECV), 0);
  CHECK_EQ(chan_debug_waiters(b, CHAN_RECV), 0);
  chan_destroy(a);
  chan_destroy(b);
}

struct selector {
  struct chan_case cases[4];
  size_t ncases;
  int64_t timeout;
  size_t chosen;
  int result;
};

static void *selector_main(void *arg) {
  struct selector *s = arg;
  s->result = chan_select(s->cases, s->ncases, s->timeout, &s->chosen);
  return NULL;
}

TEST(blocked_select_wakes_for_the_case_that_becomes_ready) {
  for (int target = 0; target < 3; target++) {
    chan_t *ch[3];
    for (int i = 0; i < 3; i++)
      REQUIRE((ch[i] = test_chan(sizeof(int64_t), i == 2 ? 1 : 0)));
    int64_t into[3] = {0, 0, 0};
    struct selector s = {.ncases = 3, .timeout = CHAN_FOREVER};
    for (int i = 0; i < 3; i++)
      s.cases[i] = recv_case(ch[i], &into[i]);
    test_task t = test_spawn(selector_main, &s);
    for (int i = 0; i < 3; i++)
      REQUIRE(test_wait_waiters(ch[i], CHAN_RECV, 1));
    int64_t v = 100 + target;
    CHECK_STATUS(chan_send(ch[target], &v), CHAN_OK);
    test_join(t);
    CHECK_STATUS(s.result, CHAN_OK);
    CHECK_EQ(s.chosen, target);
    CHECK_EQ(into[target], v);
    for (int i = 0; i < 3; i++) {
      CHECK_EQ(chan_debug_waiters(ch[i], CHAN_RECV), 0);
      CHECK_STATUS(chan_destroy(ch[i]), CHAN_OK);
    }
  }
}

TEST(blocked_select_send_case_fires_when_room_appears) {
  chan_t *full = test_chan(sizeof(int64_t), 1);
  chan_t *idle = test_chan(sizeof(int64_t), 0);
  REQUIRE(full && idle);
  int64_t first = 1, second = 2, sink = 0;
  chan_send(full, &first);
  struct selector s = {.ncases = 2, .timeout = CHAN_FOREVER};
  s.cases[0] = recv_case(idle, &sink);
  s.cases[1] = send_case(full, &second);
  test_task t = test_spawn(selector_main, &s);
  REQUIRE(test_wait_waiters(full, CHAN_SEND, 1));
  int64_t got = 0;
  CHECK_STATUS(chan_recv(full, &got), CHAN_OK);
  CHECK_EQ(got, 1);
  test_join(t);
  CHECK_STATUS(s.result, CHAN_OK);
  CHECK_EQ(s.chosen, 1);
  CHECK_STATUS(chan_recv(full, &got), CHAN_OK);
  CHECK_EQ(got, 2);
  chan_destroy(full);
  chan_destroy(idle);
}

TEST(select_never_pairs_with_itself) {
  chan_t *ch = test_chan(sizeof(int64_t), 0);
  REQUIRE(ch);
  int64_t out = 8, in = 0;
  struct chan_case cases[] = {send_case(ch, &out), recv_case(ch, &in)};
  size_t chosen = 99;
  CHECK_STATUS(chan_select(cases, 2, CHAN_POLL, &chosen), CHAN_WOULD_BLOCK);
  CHECK_STATUS(chan_select(cases, 2, 10 * MS, &chosen), CHAN_TIMEOUT);

  /* Blocked in such a select, it pairs with another thread instead. */
  struct selector s = {.ncases = 2, .timeout = CHAN_FOREVER};
  int64_t sel_in = 0, sel_out = 77;
  s.cases[0] = send_case(ch, &sel_out);
  s.cases[1] = recv_case(ch, &sel_in);
  test_task t = test_spawn(selector_main, &s);
  REQUIRE(test_wait_waiters(ch, CHAN_SEND, 1));
  REQUIRE(test_wait_waiters(ch, CHAN_RECV, 1));
  int64_t got = 0;
  CHECK_STATUS(chan_recv(ch, &got), CHAN_OK);
  test_join(t);
  CHECK_STATUS(s.result, CHAN_OK);
  CHECK_EQ(s.chosen, 0);
  CHECK_EQ(got, 77);
  chan_destroy(ch);
}

TEST(select_with_the_same_channel_twice_fires_once) {
  chan_t *ch = test_chan(sizeof(int64_t), 0);
  REQUIRE(ch);
  int64_t a = -1, b = -1;
  struct selector s = {.ncases = 2, .timeout = CHAN_FOREVER};
  s.cases[0] = recv_case(ch, &a);
  s.cases[1] = recv_case(ch, &b);
  test_task t = test_spawn(selector_main, &s);
  REQUIRE(test_wait_waiters(ch, CHAN_RECV, 2));
  int64_t v = 12;
  CHECK_STATUS(chan_send(ch, &v), CHAN_OK);
  test_join(t);
  CHECK_STATUS(s.result, CHAN_OK);
  CHECK((s.chosen == 0 && a == 12 && b == -1) ||
        (s.chosen == 1 && b == 12 && a == -1));
  /* The other case is gone with the select: nobody waits any more. */
  CHECK_EQ(chan_debug_waiters(ch, CHAN_RECV), 0);
  CHECK_STATUS(chan_try_send(ch, &v), CHAN_WOULD_BLOCK);
  chan_destroy(ch);
}

/* Two selects meet on an unbuffered channel: one sends, one receives. */
TEST(select_meets_select_on_unbuffered_channel) {
  chan_t *ch = test_chan(sizeof(int64_t), 0);
  chan_t *never = test_chan(sizeof(int64_t), 0);
  REQUIRE(ch && never);
  int64_t out = 5, in = 0, junk = 0;
  struct selector tx = {.ncases = 2, .timeout = CHAN_FOREVER};
  tx.cases[0] = send_case(ch, &out);
  tx.cases[1] = recv_case(never, &junk);
  test_task t = test_spawn(selector_main, &tx);
  REQUIRE(test_wait_waiters(ch, CHAN_SEND, 1));
  struct chan_case rx[] = {recv_case(never, &junk), recv_case(ch, &in)};
  size_t chosen = 99;
  CHECK_STATUS(chan_select(rx, 2, CHAN_FOREVER, &chosen), CHAN_OK);
  CHECK_EQ(chosen, 1);
  CHECK_EQ(in, 5);
  test_join(t);
  CHECK_STATUS(tx.result, CHAN_OK);
  CHECK_EQ(tx.chosen, 0);
  chan_destroy(ch);
  chan_destroy(never);
}

/* Select over channels of every implementation at once. */
TEST(select_mixes_implementations) {
  size_t n;
  const char *const *names = chan_impl_names(&n);
  enum { MAX = 8 };
  REQUIRE(n <= MAX);
  for (size_t target = 0; target < n; target++) {
    chan_t *ch[MAX];
    int64_t into[MAX];
    struct chan_case cases[MAX];
    for (size_t i = 0; i < n; i++) {
      REQUIRE_STATUS(chan_make(&ch[i], names[i], sizeof(int64_t), target % 2),
                     CHAN_OK);
      into[i] = -1;
      cases[i] = recv_case(ch[i], &into[i]);
    }
    struct selector s = {.ncases = n, .timeout = CHAN_FOREVER};
    memcpy(s.cases, cases, n * sizeof cases[0]);
    REQUIRE(n <= 4);
    test_task t = test_spawn(selector_main, &s);
    for (size_t i = 0; i < n; i++)
      REQUIRE(test_wait_waiters(ch[i], CHAN_RECV, 1));
    int64_t v = 900 + (int64_t)target;
    CHECK_STATUS(chan_send(ch[target], &v), CHAN_OK);
    test_join(t);
    CHECK_STATUS(s.result, CHAN_OK);
    CHECK_EQ(s.chosen, target);
    for (size_t i = 0; i < n; i++)
      CHECK_STATUS(chan_destroy(ch[i]), CHAN_OK);
  }
}

/* Go's TestNonblockSelectRace: c1 holds a value until the main thread
 * moves "readiness" to c2 and takes c1. At every instant one of them is
 * ready, so a non-blocking select on both must never take the default. */
struct nonblock_race {
  chan_t *c1, *c2;
  int ok;
};

static void *nonblock_selector(void *arg) {
  struct nonblock_race *r = arg;
  int64_t v;
  struct chan_case cases[] = {recv_case(r->c1, &v), recv_case(r->c2, &v)};
  size_t chosen;
  int rc = chan_select(cases, 2, CHAN_POLL, &chosen);
  r->ok = rc == CHAN_OK || rc == CHAN_CLOSED; /* a case fired, not default */
  return NULL;
}

TEST(nonblocking_select_never_defaults_while_a_case_is_ready) {
  int n = (int)test_scale(20000);
  for (int variant = 0; variant < 2; variant++) {
    for (int i = 0; i < n; i++) {
      struct nonblock_race r = {test_chan(sizeof(int64_t), 1),
                                test_chan(sizeof(int64_t), 1), 0};
      REQUIRE(r.c1 && r.c2);
      int64_t one = 1;
      chan_send(r.c1, &one);
      test_task t = test_spawn(nonblock_selector, &r);
      if (variant == 0)
        chan_send(r.c2, &one); /* TestNonblockSelectRace */
      else
        chan_close(r.c2); /* TestNonblockSelectRace2 */
      int64_t v;
      struct chan_case take[] = {recv_case(r.c1, &v)};
      size_t chosen;
      chan_select(take, 1, CHAN_POLL, &chosen);
      test_join(t);
      chan_destroy(r.c1);
      chan_destroy(r.c2);
      if (!r.ok) {
        test_fail(__FILE__, __LINE__,
                  "iteration %d (variant %d): select took default while a "
                  "case was ready",
                  i, variant);
        return;
      }
    }
  }
}

/* Uniform choice among ready cases: chi-square over many selects. */
TEST(select_chooses_uniformly_among_ready_cases) {
  enum { K = 4 };
  chan_t *ch[K];
  int64_t into[K], v = 1;
  struct chan_case cases[K];
  for (int i = 0; i < K; i++) {
    REQUIRE((ch[i] = test_chan(sizeof(int64_t), 1)));
    chan_send(ch[i], &v);
    cases[i] = recv_case(ch[i], &into[i]);
  }
  int n = (int)test_scale(40000);
  long counts[K] = {0};
  for (int i = 0; i < n; i++) {
    size_t chosen = 99;
    REQUIRE_STATUS(chan_select(cases, K, CHAN_POLL, &chosen), CHAN_OK);
    REQUIRE(chosen < K);
    counts[chosen]++;
    chan_send(ch[chosen], &v); /* keep every case ready */
  }
  double expected = (double)n / K, chi2 = 0;
  for (int i = 0; i < K; i++)
    chi2 += (counts[i] - expected) * (counts[i] - expected) / expected;
  /* 3 degrees of freedom: P(chi2 > 27.9) = 4e-6, so a failure means bias. */
  if (chi2 > 27.9)
    test_fail(__FILE__, __LINE__,
              "biased choice: counts %ld %ld %ld %ld, chi2 %.1f", counts[0],
              counts[1], counts[2], counts[3], chi2);
  for (int i = 0; i < K; i++)
    chan_destroy(ch[i]);
}

/* Many selectors sharing channels with plain senders: every value is
 * received exactly once (Go's ChanPopular shape, small). */
struct popular {
  chan_t *a, *b;
  int64_t count, sum;
};

static void *popular_selector(void *arg) {
  struct popular *p = arg;
  for (;;) {
    int64_t x = 0, y = 0;
    struct chan_case cases[] = {recv_case(p->a, &x), recv_case(p->b, &y)};
    size_t chosen;
    int rc = chan_select(cases, 2, CHAN_FOREVER, &chosen);
    if (rc == CHAN_CLOSED)
      return NULL; /* a closes only after every value was received */
    CHECK_STATUS(rc, CHAN_OK);
    p->count++;
    p->sum += chosen == 0 ? x : y;
  }
}

TEST(many_selectors_receive_each_value_exactly_once) {
  const size_t caps[] = {0, 4};
  for (size_t c = 0; c < 2; c++) {
    chan_t *a = test_chan(sizeof(int64_t), caps[c]);
    chan_t *b = test_chan(sizeof(int64_t), caps[c]);
    REQUIRE(a && b);
    enum { SELECTORS = 4 };
    struct popular p[SELECTORS];
    test_task t[SELECTORS];
    for (int i = 0; i < SELECTORS; i++) {
      p[i] = (struct popular){a, b, 0, 0};
      t[i] = test_spawn(popular_selector, &p[i]);
    }
    int64_t n = (int64_t)test_scale(40000), sum = 0;
    for (int64_t v = 1; v <= n; v++) {
      CHECK_STATUS(chan_send(v % 2 ? a : b, &v), CHAN_OK);
      sum += v;
    }
    /* Wait until everything is taken, then release the selectors. */
    while (chan_len(a) + chan_len(b) > 0)
      test_yield();
    chan_close(a);
    int64_t count = 0, got = 0;
    for (int i = 0; i < SELECTORS; i++) {
      test_join(t[i]);
      count += p[i].count;
      got += p[i].sum;
    }
    CHECK_EQ(count, n);
    CHECK_EQ(got, sum);
    chan_destroy(a);
    chan_destroy(b);
  }
}
