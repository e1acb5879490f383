/*
 * stress_close.c - property: close wakes every waiter with the right result
 * and loses nothing.
 *
 *   - receivers blocked in every way (plain, timed, select, timed select)
 *     all return CHAN_CLOSED with a zero value when the channel is closed;
 *   - senders blocked on a full buffer all return CHAN_CLOSED, and exactly
 *     the values buffered before the close are then received, in order;
 *   - a close at a random moment of random traffic: every value whose send
 *     succeeded is received exactly once (ledger), sends refused by the
 *     close are not delivered, every operation after the close reports it,
 *     and of two racing closes exactly one succeeds;
 *   - selects blocked (or still arriving) on three channels, one of which
 *     is closed, all wake and fire a case on the closed one.
 */
#include "stress.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>

#define LONG_NS ((int64_t)30 * 1000000000) /* "forever", but timed */

struct blocked {
  chan_t *ch, *never;
  int kind;
  atomic_int *done;
};

static int select_on(chan_t *ch, enum chan_dir dir, void *elem, chan_t *never,
                     int64_t timeout, int kind) {
  /* The channel's case at index kind % 3, beside a never-ready case and a
   * disabled one. */
  uint64_t dummy;
  struct chan_case cases[3] = {{NULL, CHAN_RECV, &dummy},
                               {never, CHAN_RECV, &dummy},
                               {NULL, CHAN_SEND, &dummy}};
  size_t real = (size_t)kind % 3;
  cases[real] = (struct chan_case){ch, dir, elem};
  size_t chosen = 99;
  int rc = chan_select(cases, 3, timeout, &chosen);
  if (rc == CHAN_CLOSED && chosen != real)
    STRESS_FAIL("select woken by close chose case %zu, not %zu", chosen, real);
  return rc;
}

static void *blocked_receiver(void *arg) {
  struct blocked *b = arg;
  uint64_t v = 0xdead;
  int rc;
  switch (b->kind % 4) {
  case 0:
    rc = chan_recv(b->ch, &v);
    break;
  case 1:
    rc = chan_recv_timeout(b->ch, &v, LONG_NS);
    break;
  case 2:
    rc = select_on(b->ch, CHAN_RECV, &v, b->never, CHAN_FOREVER, b->kind / 4);
    break;
  default:
    rc = select_on(b->ch, CHAN_RECV, &v, b->never, LONG_NS, b->kind / 4);
    break;
  }
  if (rc != CHAN_CLOSED || v != 0)
    STRESS_FAIL("blocked receive (kind %d) returned %s with value %llx, "
                "expected CHAN_CLOSED with zero",
                b->kind % 4, chan_strerror(rc), (unsigned long long)v);
  atomic_fetch_add(b->done, 1);
  return NULL;
}

static void *blocked_sender(void *arg) {
  struct blocked *b = arg;
  uint64_t v = 0xbad0000 + (uint64_t)b->kind;
  int rc;
  switch (b->kind % 4) {
  case 0:
    rc = chan_send(b->ch, &v);
    break;
  case 1:
    rc = chan_send_timeout(b->ch, &v, LONG_NS);
    break;
  case 2:
    rc = select_on(b->ch, CHAN_SEND, &v, b->never, CHAN_FOREVER, b->kind / 4);
    break;
  default:
    rc = select_on(b->ch, CHAN_SEND, &v, b->never, LONG_NS, b->kind / 4);
    break;
  }
  if (rc != CHAN_CLOSED)
    STRESS_FAIL("blocked send (kind %d) returned %s, expected CHAN_CLOSED",
                b->kind % 4, chan_strerror(rc));
  atomic_fetch_add(b->done, 1);
  return NULL;
}

static void *racing_close(void *arg) {
  return (void *)(intptr_t)chan_close(arg);
}

/* Closes ch from two threads at once: exactly one may succeed. */
static void double_close(chan_t *ch) {
  test_task t = test_spawn(racing_close, ch);
  int mine = chan_close(ch);
  int theirs = (int)(intptr_t)test_join(t);
  if (!((mine == CHAN_OK && theirs == CHAN_EALREADY_CLOSED) ||
        (mine == CHAN_EALREADY_CLOSED && theirs == CHAN_OK)))
    STRESS_FAIL("two racing closes returned %s and %s", chan_strerror(mine),
                chan_strerror(theirs));
}

static void blocked_round(bool senders, size_t cap, int nwaiters,
                          uint64_t round, chan_t *never) {
  chan_t *ch = test_chan(sizeof(uint64_t), cap);
  if (!ch)
    return;
  for (uint64_t i = 0; senders && i < cap; i++)
    CHECK_STATUS(chan_try_send(ch, &i), CHAN_OK);
  atomic_int done = 0;
  struct blocked b[64];
  test_task tids[64];
  for (int i = 0; i < nwaiters; i++) {
    b[i] =
        (struct blocked){ch, never, (int)(round + (uint64_t)i * 5) % 12, &done};
    tids[i] = test_spawn(senders ? blocked_sender : blocked_receiver, &b[i]);
  }
  if (test_wait_waiters(ch, senders ? CHAN_SEND : CHAN_RECV,
                        (size_t)nwaiters)) {
    CHECK_EQ(atomic_load(&done), 0);
    double_close(ch);
  } else {
    chan_close(ch);
  }
  stress_join_all(tids, (size_t)nwaiters);
  /* Exactly the values buffered before the close, in order, then closed. */
  for (uint64_t i = 0; senders && i < cap; i++) {
    uint64_t v = 99;
    int rc = chan_recv(ch, &v);
    if (rc != CHAN_OK || v != i)
      STRESS_FAIL("after close, buffered value %llu came back as %s %llu",
                  (unsigned long long)i, chan_strerror(rc),
                  (unsigned long long)v);
  }
  uint64_t v = 5;
  CHECK_STATUS(chan_recv(ch, &v), CHAN_CLOSED);
  CHECK_EQ(v, 0);
  CHECK_STATUS(chan_send(ch, &v), CHAN_CLOSED);
  CHECK_STATUS(chan_close(ch), CHAN_EALREADY_CLOSED);
  CHECK_EQ(chan_debug_waiters(ch, CHAN_SEND), 0);
  CHECK_EQ(chan_debug_waiters(ch, CHAN_RECV), 0);
  CHECK_STATUS(chan_destroy(ch), CHAN_OK);
}

static void run_blocked(const char *test, bool senders) {
  int64_t deadline = stress_begin(test);
  int n = stress_threads_or(8);
  if (n > 64)
    n = 64;
  chan_t *never = test_chan(sizeof(uint64_t), 0);
  REQUIRE(never);
  uint64_t rounds = 0;
  do {
    size_t cap = stress_capacity_or(senders ? rounds % 4 : (rounds % 2) * 3);
    blocked_round(senders, cap, n, rounds, never);
    rounds++;
  } while (stress_before(deadline));
  CHECK_EQ(chan_debug_waiters(never, CHAN_RECV), 0);
  chan_destroy(never);
  stress_report(test, "%llu closes, each waking %d blocked %s of 4 kinds",
                (unsigned long long)rounds, n,
                senders ? "senders" : "receivers");
}

TEST(close_wakes_blocked_receivers) {
  run_blocked("close_wakes_blocked_receivers", false);
}

TEST(close_wakes_blocked_senders) {
  run_blocked("close_wakes_blocked_senders", true);
}

/* ---- close racing traffic ---------------------------------------------- */

#define TRAFFIC_PER_PRODUCER 1024

struct traffic {
  chan_t *ch, *never;
  struct stress_ledger *ledger;
  atomic_ullong received;
  uint64_t close_after; /* the closer waits for this many receives */
  uint64_t round;
};

struct traffic_thread {
  struct traffic *t;
  uint32_t id;
};

static void *traffic_producer(void *arg) {
  struct traffic_thread *tt = arg;
  struct traffic *t = tt->t;
  test_rng r = test_rng_make(t->round * 131 + tt->id);
  uint32_t per = t->ledger->per_producer;
  for (uint32_t s = 0; s < per; s++) {
    struct stress_msg m = stress_msg_make(t->ledger->salt, tt->id, s);
    int rc;
    do {
      stress_ledger_offer(t->ledger, tt->id, s);
      rc = stress_send_any(t->ch, &m, t->never, &r, STRESS_OPS_ANY);
      stress_ledger_sent(t->ledger, tt->id, s, rc);
    } while (rc == CHAN_TIMEOUT || rc == CHAN_WOULD_BLOCK);
    if (rc == CHAN_CLOSED)
      return NULL; /* refused by the close: the ledger checks it */
    if (rc != CHAN_OK) {
      STRESS_FAIL("send returned %s", chan_strerror(rc));
      return NULL;
    }
  }
  return NULL; /* ran out of values before the close */
}

static void *traffic_consumer(void *arg) {
  struct traffic_thread *tt = arg;
  struct traffic *t = tt->t;
  test_rng r = test_rng_make(t->round * 131 + 64 + tt->id);
  for (;;) {
    struct stress_msg m;
    int rc = stress_recv_any(t->ch, &m, t->never, &r, STRESS_OPS_ANY);
    if (rc == CHAN_OK) {
      stress_ledger_received(t->ledger, &m);
      atomic_fetch_add(&t->received, 1);
    } else if (rc == CHAN_CLOSED) {
      return NULL;
    } else if (rc != CHAN_TIMEOUT && rc != CHAN_WOULD_BLOCK) {
      STRESS_FAIL("receive returned %s", chan_strerror(rc));
      return NULL;
    } else {
      test_yield();
    }
  }
}

static void after_close_checks(chan_t *ch, chan_t *never) {
  uint64_t v[2] = {1, 2};
  size_t chosen;
  CHECK_STATUS(chan_send(ch, v), CHAN_CLOSED);
  CHECK_STATUS(chan_try_send(ch, v), CHAN_CLOSED);
  CHECK_STATUS(chan_send_timeout(ch, v, 1000000), CHAN_CLOSED);
  struct chan_case c[2] = {{never, CHAN_RECV, v}, {ch, CHAN_SEND, v}};
  CHECK_STATUS(chan_select(c, 2, CHAN_FOREVER, &chosen), CHAN_CLOSED);
  CHECK_EQ(chosen, 1);
  CHECK_STATUS(chan_close(ch), CHAN_EALREADY_CLOSED);
  CHECK_STATUS(chan_try_recv(ch, v), CHAN_CLOSED);
}

TEST(close_races_traffic) {
  int64_t deadline = stress_begin("close_races_traffic");
  int np = stress_threads_or(8) / 2, nc = np;
  if (np > 32)
    np = nc = 32;
  struct stress_ledger ledger;
  uint32_t per = (uint32_t)test_scale(TRAFFIC_PER_PRODUCER);
  stress_ledger_init(&ledger, (uint32_t)np, per, 0);
  chan_t *never = test_chan(sizeof(struct stress_msg), 0);
  REQUIRE(never);
  test_rng r = test_rng_make(999);
  uint64_t rounds = 0, delivered = 0;
  do {
    size_t cap = stress_capacity_or(
        test_rng_below(&r, 3) == 0 ? 0 : 1 + test_rng_below(&r, 16));
    stress_ledger_reset(&ledger, stress_mix(test_seed(), rounds, 5));
    struct traffic t = {.ch = test_chan(sizeof(struct stress_msg), cap),
                        .never = never,
                        .ledger = &ledger,
                        .close_after = test_rng_below(&r, (uint64_t)np * per),
                        .round = rounds};
    REQUIRE(t.ch);
    test_task tids[64];
    struct traffic_thread tt[64];
    for (int i = 0; i < np + nc; i++) {
      tt[i] = (struct traffic_thread){&t, (uint32_t)(i < np ? i : i - np)};
      tids[i] =
          test_spawn(i < np ? traffic_producer : traffic_consumer, &tt[i]);
    }
    /* Close once a random share of the traffic went through. */
    while (atomic_load(&t.received) < t.close_after && !stress_failing())
      test_yield();
    double_close(t.ch);
    stress_join_all(tids, (size_t)(np + nc));
    char what[64];
    snprintf(what, sizeof what, "round %llu, capacity %zu",
             (unsigned long long)rounds, cap);
    stress_ledger_verify(&ledger, what);
    after_close_checks(t.ch, never);
    CHECK_EQ(chan_debug_waiters(t.ch, CHAN_SEND), 0);
    CHECK_EQ(chan_debug_waiters(t.ch, CHAN_RECV), 0);
    CHECK_STATUS(chan_destroy(t.ch), CHAN_OK);
    delivered += atomic_load(&t.received);
    rounds++;
  } while (stress_before(deadline));
  chan_destroy(never);
  stress_ledger_free(&ledger);
  stress_report("close_races_traffic",
                "%llu closes at random points, %llu values delivered, %dP x "
                "%dC",
                (unsigned long long)rounds, (unsigned long long)delivered, np,
                nc);
}

/* ---- selects on several channels closed in random order ---------------- */

struct storm {
  chan_t *chans[3]; /* a, b: empty (receive cases); c: full (send case) */
  uint64_t round;
};

struct storm_thread {
  struct storm *s;
  uint32_t id;
};

static void *storm_selector(void *arg) {
  struct storm_thread *st = arg;
  struct storm *s = st->s;
  test_rng r = test_rng_make(s->round * 77 + st->id);
  /* 3 to 5 cases: a, b, c, then duplicates; shuffled. */
  struct chan_case cases[5];
  uint64_t buf[5];
  size_t n = 3 + test_rng_below(&r, 3);
  for (size_t i = 0; i < n; i++) {
    size_t which = i < 3 ? i : test_rng_below(&r, 3);
    buf[i] = 0xfeed;
    cases[i] = (struct chan_case){s->chans[which],
                                  which == 2 ? CHAN_SEND : CHAN_RECV, &buf[i]};
  }
  for (size_t i = n - 1; i > 0; i--) {
    size_t j = test_rng_below(&r, i + 1);
    struct chan_case tmp = cases[i];
    cases[i] = cases[j];
    cases[j] = tmp;
  }
  size_t chosen = 99;
  int rc = chan_select(cases, n, test_rng_below(&r, 2) ? CHAN_FOREVER : LONG_NS,
                       &chosen);
  if (rc != CHAN_CLOSED || chosen >= n) {
    STRESS_FAIL("select woken by a close returned %s, case %zu",
                chan_strerror(rc), chosen);
    return NULL;
  }
  /* The chosen case's channel must really be closed. */
  uint64_t v = 1;
  int probe = cases[chosen].dir == CHAN_RECV
                  ? chan_try_recv(cases[chosen].chan, &v)
                  : chan_try_send(cases[chosen].chan, &v);
  if (probe != CHAN_CLOSED)
    STRESS_FAIL("select fired case %zu as closed, but its channel answers %s",
                chosen, chan_strerror(probe));
  uint64_t got = *(uint64_t *)cases[chosen].elem;
  if (cases[chosen].dir == CHAN_RECV && got != 0)
    STRESS_FAIL("closed receive case left %llx, not the zero value",
                (unsigned long long)got);
  return NULL;
}

TEST(close_select_storm) {
  int64_t deadline = stress_begin("close_select_storm");
  int n = stress_threads_or(12);
  if (n > 64)
    n = 64;
  test_rng r = test_rng_make(4242);
  uint64_t rounds = 0;
  do {
    struct storm s = {.round = rounds};
    for (int i = 0; i < 3; i++)
      s.chans[i] = test_chan(sizeof(uint64_t), i == 2 ? 1 : rounds % 2);
    uint64_t one = 1;
    CHECK_STATUS(chan_try_send(s.chans[2], &one), CHAN_OK);
    test_task tids[64];
    struct storm_thread st[64];
    for (int i = 0; i < n; i++) {
      st[i] = (struct storm_thread){&s, (uint32_t)i};
      tids[i] = test_spawn(storm_selector, &st[i]);
    }
    /* Half the rounds close while selectors are still arriving. */
    if (rounds % 2 == 0)
      test_wait_waiters(s.chans[0], CHAN_RECV, (size_t)n);
    /* One close must wake every selector: a selector that misses it (say,
     * it enqueued just as the close passed) hangs, and the watchdog says
     * so. The other two are closed once all have returned. */
    size_t first = test_rng_below(&r, 3);
    CHECK_STATUS(chan_close(s.chans[first]), CHAN_OK);
    stress_join_all(tids, (size_t)n);
    for (size_t k = 1; k < 3; k++)
      CHECK_STATUS(chan_close(s.chans[(first + k) % 3]), CHAN_OK);
    for (int i = 0; i < 3; i++) {
      CHECK_EQ(chan_debug_waiters(s.chans[i], CHAN_SEND), 0);
      CHECK_EQ(chan_debug_waiters(s.chans[i], CHAN_RECV), 0);
      CHECK_STATUS(chan_destroy(s.chans[i]), CHAN_OK);
    }
    rounds++;
  } while (stress_before(deadline));
  stress_report("close_select_storm",
                "%llu storms of %d selectors over 3 channels, one of them "
                "closed",
                (unsigned long long)rounds, n);
}
