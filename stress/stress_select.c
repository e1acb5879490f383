/*
 * stress_select.c - properties of chan_select().
 *
 *   - exactly one case fires: every send case's value is in the ledger, so
 *     a second case firing shows up as a value delivered although its
 *     select reported another case (or a timeout), and the chosen send's
 *     value must arrive; mixes channels of two implementations;
 *   - a select never pairs with itself, also when all its cases name the
 *     same channel (duplicates in both directions);
 *   - no default while a case is ready: a POLL select on a channel that
 *     only this thread drains (fills) and that holds a value (has room, or
 *     has a parked receiver) must fire;
 *   - many selectors on a shared channel (Go's ChanPopular): each also
 *     waits on its own channel; afterwards nothing is left registered on
 *     the shared one;
 *   - fairness: among always-ready cases the choice is uniform (chi-square
 *     at p = 1e-6 per trial, so a fair select fails about once in a million
 *     trials).
 */
#include "stress.h"

#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CASES 6

/* Partners that used up their tracked values keep the selectors moving
 * with untracked fillers (a selector whose cases are all receives must
 * not starve once the partners' ledger space runs out). */
#define FILLER UINT32_MAX

static void account(struct stress_ledger *l, const struct stress_msg *m) {
  if (m->producer == FILLER) {
    if (m->seq != 0 || m->check != 0xf111e5)
      STRESS_FAIL("corrupt filler value");
    return;
  }
  stress_ledger_received(l, m);
}

/* ---- exactly one case, self-select, duplicates ------------------------- */

struct arena {
  chan_t *chans[4];
  size_t nchans;
  int selectors, partners;
  uint32_t iters;
  struct stress_ledger *ledger;
  atomic_bool stop;
  atomic_int selectors_left;
  atomic_ullong fired_send, fired_recv, timeouts;
  uint64_t round;
};

struct arena_thread {
  struct arena *a;
  uint32_t id;
};

static void *selector_main(void *arg) {
  struct arena_thread *at = arg;
  struct arena *a = at->a;
  uint64_t stream = a->round * 1000 + at->id;
  test_rng r = test_rng_make(stream);
  chan_select_seed(test_seed() + stream);
  uint64_t sends = 0, recvs = 0, timeouts = 0;
  for (uint32_t it = 0; it < a->iters && !stress_failing(); it++) {
    struct chan_case cases[MAX_CASES];
    struct stress_msg bufs[MAX_CASES];
    size_t n = 1 + test_rng_below(&r, MAX_CASES);
    for (size_t i = 0; i < n; i++) {
      chan_t *ch = a->chans[test_rng_below(&r, a->nchans)];
      bool send = test_rng_below(&r, 2);
      if (send) {
        bufs[i] = stress_msg_make(a->ledger->salt, at->id,
                                  it * MAX_CASES + (uint32_t)i);
        stress_ledger_offer(a->ledger, at->id, it * MAX_CASES + (uint32_t)i);
      } else {
        memset(&bufs[i], 0x5a, sizeof bufs[i]);
      }
      cases[i] = (struct chan_case){ch, send ? CHAN_SEND : CHAN_RECV, &bufs[i]};
    }
    int64_t timeout = test_rng_below(&r, 4)
                          ? CHAN_FOREVER
                          : (int64_t)test_rng_below(&r, 200000);
    size_t chosen = SIZE_MAX;
    int rc = chan_select(cases, n, timeout, &chosen);
    if (rc == CHAN_OK && chosen >= n) {
      STRESS_FAIL("select returned case %zu of %zu", chosen, n);
      break;
    }
    if (rc != CHAN_OK && rc != CHAN_TIMEOUT && rc != CHAN_WOULD_BLOCK) {
      STRESS_FAIL("select returned %s", chan_strerror(rc));
      break;
    }
    for (size_t i = 0; i < n; i++)
      if (cases[i].dir == CHAN_SEND)
        stress_ledger_sent(a->ledger, at->id, it * MAX_CASES + (uint32_t)i,
                           rc == CHAN_OK && i == chosen ? CHAN_OK
                                                        : CHAN_TIMEOUT);
    if (rc != CHAN_OK) {
      timeouts++;
      continue;
    }
    if (cases[chosen].dir == CHAN_SEND) {
      sends++;
      continue;
    }
    recvs++;
    struct stress_msg *m = &bufs[chosen];
    if (m->producer == at->id && m->seq / MAX_CASES == it)
      STRESS_FAIL("select %u of selector %u received its own case %u's "
                  "value (self-pairing or two cases fired)",
                  it, at->id, m->seq % MAX_CASES);
    else
      account(a->ledger, m);
  }
  atomic_fetch_add(&a->fired_send, sends);
  atomic_fetch_add(&a->fired_recv, recvs);
  atomic_fetch_add(&a->timeouts, timeouts);
  if (atomic_fetch_sub(&a->selectors_left, 1) == 1)
    atomic_store(&a->stop, true);
  return NULL;
}

/* Partners keep the selectors moving with timed sends and receives until
 * the last selector is done. */
static void *partner_main(void *arg) {
  struct arena_thread *at = arg;
  struct arena *a = at->a;
  test_rng r = test_rng_make(a->round * 1000 + 500 + at->id);
  uint32_t seq = 0, limit = a->iters * MAX_CASES;
  bool sender = at->id % 2 == 0;
  while (!atomic_load(&a->stop) && !stress_failing()) {
    chan_t *ch = a->chans[test_rng_below(&r, a->nchans)];
    int64_t t = 1000 + (int64_t)test_rng_below(&r, 100000);
    if (sender && seq < limit) {
      struct stress_msg m = stress_msg_make(a->ledger->salt, at->id, seq);
      stress_ledger_offer(a->ledger, at->id, seq);
      int rc = chan_send_timeout(ch, &m, t);
      stress_ledger_sent(a->ledger, at->id, seq, rc);
      seq += rc == CHAN_OK;
    } else if (sender) {
      struct stress_msg m = {FILLER, 0, 0xf111e5};
      chan_send_timeout(ch, &m, t);
    } else {
      struct stress_msg m;
      if (chan_recv_timeout(ch, &m, t) == CHAN_OK)
        account(a->ledger, &m);
      else
        test_yield();
    }
  }
  return NULL;
}

static void run_arena(const char *test, bool one_channel) {
  int64_t deadline = stress_begin(test);
  int total = stress_threads_or(8);
  int selectors = total - total / 4, partners = total / 4;
  if (selectors > 48)
    selectors = 48;
  if (partners < 2)
    partners = 2;
  uint32_t iters = (uint32_t)test_scale(2000);
  struct stress_ledger ledger;
  stress_ledger_init(&ledger, (uint32_t)(selectors + partners),
                     iters * MAX_CASES, 0);
  /* A second implementation for mixed selects. */
  size_t nimpls;
  const char *const *impls = chan_impl_names(&nimpls);
  const char *other = impls[0];
  for (size_t i = 0; i + 1 < nimpls; i++)
    if (!strcmp(impls[i], test_impl()))
      other = impls[i + 1];
  uint64_t rounds = 0, sends = 0, recvs = 0, timeouts = 0;
  do {
    stress_ledger_reset(&ledger, stress_mix(test_seed(), rounds, 3));
    struct arena a = {.selectors = selectors,
                      .partners = partners,
                      .iters = iters,
                      .ledger = &ledger,
                      .round = rounds};
    atomic_init(&a.selectors_left, selectors);
    if (one_channel) {
      a.nchans = 1;
      a.chans[0] = test_chan(sizeof(struct stress_msg),
                             stress_capacity_or(rounds % 2 ? 2 : 0));
    } else {
      a.nchans = 4;
      a.chans[0] = test_chan(sizeof(struct stress_msg), stress_capacity_or(0));
      a.chans[1] = test_chan(sizeof(struct stress_msg), stress_capacity_or(1));
      a.chans[2] = test_chan(sizeof(struct stress_msg), stress_capacity_or(4));
      chan_make(&a.chans[3], other, sizeof(struct stress_msg),
                stress_capacity_or(rounds % 2));
    }
    for (size_t i = 0; i < a.nchans; i++)
      REQUIRE(a.chans[i]);
    test_task tids[64];
    struct arena_thread at[64];
    for (int i = 0; i < selectors + partners; i++) {
      at[i] = (struct arena_thread){&a, (uint32_t)i};
      tids[i] =
          test_spawn(i < selectors ? selector_main : partner_main, &at[i]);
    }
    stress_join_all(tids, (size_t)(selectors + partners));
    /* What the buffers still hold was sent successfully, too. */
    for (size_t i = 0; i < a.nchans; i++) {
      struct stress_msg m;
      while (chan_try_recv(a.chans[i], &m) == CHAN_OK)
        account(&ledger, &m);
    }
    char what[64];
    snprintf(what, sizeof what, "round %llu", (unsigned long long)rounds);
    stress_ledger_verify(&ledger, what);
    for (size_t i = 0; i < a.nchans; i++) {
      CHECK_EQ(chan_debug_waiters(a.chans[i], CHAN_SEND), 0);
      CHECK_EQ(chan_debug_waiters(a.chans[i], CHAN_RECV), 0);
      CHECK_STATUS(chan_destroy(a.chans[i]), CHAN_OK);
    }
    sends += atomic_load(&a.fired_send);
    recvs += atomic_load(&a.fired_recv);
    timeouts += atomic_load(&a.timeouts);
    rounds++;
  } while (stress_before(deadline));
  stress_ledger_free(&ledger);
  stress_report(test,
                "%llu rounds: %llu selects fired a send, %llu a receive, %llu "
                "timed out; %d selectors, %d partners%s",
                (unsigned long long)rounds, (unsigned long long)sends,
                (unsigned long long)recvs, (unsigned long long)timeouts,
                selectors, partners,
                one_channel ? ", every case on one channel"
                            : ", 4 channels incl. one of another impl");
}

TEST(select_exactly_one_case) {
  run_arena("select_exactly_one_case", false);
}

TEST(select_self_and_duplicates) {
  run_arena("select_self_and_duplicates", true);
}

/* ---- no default while ready -------------------------------------------- */

struct owner {
  chan_t *in, *out, *sync, *never;
  uint32_t values;
  atomic_ullong checks;
  uint32_t id;
};

static void *feeder_main(void *arg) {
  struct owner *o = arg;
  for (uint32_t i = 0; i < o->values; i++)
    if (chan_send(o->in, &i) != CHAN_OK)
      STRESS_FAIL("feeder send failed");
  chan_close(o->in);
  return NULL;
}

static void *drainer_main(void *arg) {
  chan_t *ch = arg;
  uint32_t v;
  while (chan_recv(ch, &v) == CHAN_OK) {
  }
  return NULL;
}

static int poll_one(chan_t *ch, enum chan_dir dir, void *elem, chan_t *never,
                    test_rng *r, size_t *real) {
  uint32_t dummy;
  struct chan_case cases[3] = {{never, CHAN_RECV, &dummy},
                               {NULL, CHAN_SEND, &dummy},
                               {never, CHAN_SEND, &dummy}};
  *real = test_rng_below(r, 3);
  cases[*real] = (struct chan_case){ch, dir, elem};
  size_t chosen = SIZE_MAX;
  int rc = chan_select(cases, 3, CHAN_POLL, &chosen);
  if (rc == CHAN_OK && chosen != *real)
    STRESS_FAIL("POLL select fired case %zu, only %zu could", chosen, *real);
  return rc;
}

static void *owner_main(void *arg) {
  struct owner *o = arg;
  test_rng r = test_rng_make(o->id + 77);
  uint32_t next = 0;
  uint64_t checks = 0;
  size_t cap = chan_cap(o->out);
  for (;;) {
    size_t real;
    uint32_t v = 0;
    if (chan_len(o->in) > 0) {
      /* Only this thread receives from in: the value stays there. */
      int rc = poll_one(o->in, CHAN_RECV, &v, o->never, &r, &real);
      checks++;
      if (rc != CHAN_OK)
        STRESS_FAIL("POLL select returned %s although its receive case had "
                    "a buffered value only it could take",
                    chan_strerror(rc));
      else if (v != next)
        STRESS_FAIL("got %u, expected %u", v, next);
      next++;
    } else {
      int rc = chan_try_recv(o->in, &v);
      if (rc == CHAN_CLOSED)
        break;
      if (rc == CHAN_OK) {
        if (v != next)
          STRESS_FAIL("got %u, expected %u", v, next);
        next++;
      } else {
        test_yield(); /* nothing yet: a polling fiber must let others run */
      }
    }
    if (chan_len(o->out) < cap) {
      /* Only this thread sends on out: the room stays there. */
      int rc = poll_one(o->out, CHAN_SEND, &v, o->never, &r, &real);
      checks++;
      if (rc != CHAN_OK)
        STRESS_FAIL("POLL select returned %s although its send case had "
                    "room only it could fill",
                    chan_strerror(rc));
    }
    if (chan_debug_waiters(o->sync, CHAN_RECV) > 0) {
      /* A receiver parked in a plain chan_recv, and only this thread
       * sends: the rendezvous is ready. */
      int rc = poll_one(o->sync, CHAN_SEND, &v, o->never, &r, &real);
      checks++;
      if (rc != CHAN_OK)
        STRESS_FAIL("POLL select returned %s although a receiver was parked "
                    "on its unbuffered send case",
                    chan_strerror(rc));
    }
    if (stress_failing())
      break;
  }
  chan_close(o->out);
  chan_close(o->sync);
  atomic_store(&o->checks, checks);
  return NULL;
}

TEST(select_no_default_while_ready) {
  int64_t deadline = stress_begin("select_no_default_while_ready");
  int owners = stress_threads_or(8) / 4;
  if (owners < 1)
    owners = 1;
  if (owners > 16)
    owners = 16;
  chan_t *never = test_chan(sizeof(uint32_t), 0);
  REQUIRE(never);
  uint64_t rounds = 0, checks = 0;
  do {
    struct owner o[16];
    test_task tids[64];
    size_t nt = 0;
    for (int i = 0; i < owners; i++) {
      o[i] = (struct owner){
          .in = test_chan(sizeof(uint32_t), stress_capacity_or(4)),
          .out = test_chan(sizeof(uint32_t), 1 + stress_capacity_or(3)),
          .sync = test_chan(sizeof(uint32_t), 0),
          .never = never,
          .values = (uint32_t)test_scale(3000),
          .id = (uint32_t)(rounds * 16 + i)};
      REQUIRE(o[i].in && o[i].out && o[i].sync);
      tids[nt++] = test_spawn(feeder_main, &o[i]);
      tids[nt++] = test_spawn(drainer_main, o[i].out);
      tids[nt++] = test_spawn(drainer_main, o[i].sync);
      tids[nt++] = test_spawn(owner_main, &o[i]);
    }
    stress_join_all(tids, nt);
    for (int i = 0; i < owners; i++) {
      checks += atomic_load(&o[i].checks);
      CHECK_STATUS(chan_destroy(o[i].in), CHAN_OK);
      CHECK_STATUS(chan_destroy(o[i].out), CHAN_OK);
      CHECK_STATUS(chan_destroy(o[i].sync), CHAN_OK);
    }
    rounds++;
  } while (stress_before(deadline));
  chan_destroy(never);
  stress_report("select_no_default_while_ready",
                "%llu rounds, %llu POLL selects with a case known ready, %d "
                "owners",
                (unsigned long long)rounds, (unsigned long long)checks, owners);
}

/* ---- ChanPopular ------------------------------------------------------- */

struct popular {
  chan_t *shared;
  chan_t *own[64];
  atomic_ullong from_shared, from_own;
};

struct popular_thread {
  struct popular *p;
  int id;
};

static void *popular_selector(void *arg) {
  struct popular_thread *pt = arg;
  struct popular *p = pt->p;
  uint64_t shared = 0, own = 0;
  for (;;) {
    uint32_t a = 1, b = 1;
    struct chan_case cases[2] = {{p->shared, CHAN_RECV, &a},
                                 {p->own[pt->id], CHAN_RECV, &b}};
    if (pt->id % 2) { /* both orders */
      struct chan_case t = cases[0];
      cases[0] = cases[1];
      cases[1] = t;
    }
    size_t chosen;
    int rc = chan_select(cases, 2, CHAN_FOREVER, &chosen);
    bool on_shared = cases[chosen].chan == p->shared;
    if (rc == CHAN_CLOSED && !on_shared)
      break; /* own channel closed: done */
    if (rc != CHAN_OK) {
      STRESS_FAIL("popular select returned %s on the %s channel",
                  chan_strerror(rc), on_shared ? "shared" : "own");
      break;
    }
    uint32_t v = on_shared ? a : b;
    if (v != (on_shared ? 0xc0ffeeu : (uint32_t)pt->id))
      STRESS_FAIL("popular selector %d got %x on the %s channel", pt->id, v,
                  on_shared ? "shared" : "own");
    if (on_shared)
      shared++;
    else
      own++;
  }
  atomic_fetch_add(&p->from_shared, shared);
  atomic_fetch_add(&p->from_own, own);
  return NULL;
}

TEST(select_popular_shared_channel) {
  int64_t deadline = stress_begin("select_popular_shared_channel");
  int n = stress_threads_or(32);
  if (n > 64)
    n = 64;
  uint64_t rounds = 0, sent_shared = 0, sent_own = 0, got_shared = 0,
           got_own = 0;
  uint32_t iters = (uint32_t)test_scale(200);
  do {
    struct popular p = {.shared = test_chan(sizeof(uint32_t), 0)};
    REQUIRE(p.shared);
    test_task tids[64];
    struct popular_thread pt[64];
    for (int i = 0; i < n; i++) {
      p.own[i] = test_chan(sizeof(uint32_t), 0);
      REQUIRE(p.own[i]);
      pt[i] = (struct popular_thread){&p, i};
      tids[i] = test_spawn(popular_selector, &pt[i]);
    }
    uint32_t shared_v = 0xc0ffee;
    for (uint32_t it = 0; it < iters; it++) {
      for (int i = 0; i < n; i++) {
        uint32_t v = (uint32_t)i;
        CHECK_STATUS(chan_send(p.own[i], &v), CHAN_OK);
        sent_own++;
      }
      if (it % 8 == 0) {
        CHECK_STATUS(chan_send(p.shared, &shared_v), CHAN_OK);
        sent_shared++;
      }
      size_t w = chan_debug_waiters(p.shared, CHAN_RECV);
      if (w > (size_t)n)
        STRESS_FAIL("%zu waiters registered on the shared channel with %d "
                    "selectors",
                    w, n);
    }
    for (int i = 0; i < n; i++)
      CHECK_STATUS(chan_close(p.own[i]), CHAN_OK);
    stress_join_all(tids, (size_t)n);
    CHECK_EQ(chan_debug_waiters(p.shared, CHAN_RECV), 0);
    got_shared += atomic_load(&p.from_shared);
    got_own += atomic_load(&p.from_own);
    for (int i = 0; i < n; i++)
      CHECK_STATUS(chan_destroy(p.own[i]), CHAN_OK);
    CHECK_STATUS(chan_destroy(p.shared), CHAN_OK);
    rounds++;
  } while (stress_before(deadline));
  CHECK_EQ(got_shared, sent_shared);
  CHECK_EQ(got_own, sent_own);
  stress_report("select_popular_shared_channel",
                "%llu rounds, %llu own + %llu shared values through %d "
                "selectors",
                (unsigned long long)rounds, (unsigned long long)got_own,
                (unsigned long long)got_shared, n);
}

/* ---- fairness ---------------------------------------------------------- */

/* Chi-square critical values at p = 1e-6 for 1..7 degrees of freedom. */
static const double chi2_crit[] = {0,     23.93, 27.63, 30.66,
                                   33.38, 35.89, 38.26, 40.52};

TEST(select_fairness) {
  int64_t deadline = stress_begin("select_fairness");
  test_rng r = test_rng_make(1);
  uint64_t trials = 0, selects = 0;
  uint64_t samples = test_scale(20000);
  do {
    /* 2..8 cases: receives on always-full channels, sends on always-empty
     * ones, and the same channel more than once. */
    size_t k = 2 + test_rng_below(&r, 7);
    chan_t *full = test_chan(sizeof(uint32_t), 4);
    chan_t *empty = test_chan(sizeof(uint32_t), 4);
    chan_t *other_full = test_chan(sizeof(uint32_t), 4);
    REQUIRE(full && empty && other_full);
    uint32_t v = 1;
    for (int i = 0; i < 4; i++) {
      chan_send(full, &v);
      chan_send(other_full, &v);
    }
    struct chan_case cases[8];
    for (size_t i = 0; i < k; i++) {
      uint64_t kind = test_rng_below(&r, 3);
      cases[i] = (struct chan_case){kind == 0   ? full
                                    : kind == 1 ? empty
                                                : other_full,
                                    kind == 1 ? CHAN_SEND : CHAN_RECV, &v};
    }
    uint64_t counts[8] = {0};
    for (uint64_t s = 0; s < samples; s++) {
      size_t chosen = SIZE_MAX;
      int rc = chan_select(cases, k, s % 2 ? CHAN_POLL : CHAN_FOREVER, &chosen);
      if (rc != CHAN_OK || chosen >= k) {
        STRESS_FAIL("select over %zu ready cases returned %s, case %zu", k,
                    chan_strerror(rc), chosen);
        break;
      }
      counts[chosen]++;
      /* Put back what the case took (or take what it gave). */
      if (cases[chosen].dir == CHAN_RECV)
        chan_send(cases[chosen].chan, &v);
      else
        chan_recv(cases[chosen].chan, &v);
    }
    double expect = (double)samples / (double)k, chi2 = 0;
    for (size_t i = 0; i < k; i++)
      chi2 +=
          ((double)counts[i] - expect) * ((double)counts[i] - expect) / expect;
    if (chi2 > chi2_crit[k - 1])
      STRESS_FAIL("select over %zu ready cases is not uniform: chi-square "
                  "%.1f > %.2f (p < 1e-6); counts %llu %llu %llu ...",
                  k, chi2, chi2_crit[k - 1], (unsigned long long)counts[0],
                  (unsigned long long)counts[1], (unsigned long long)counts[2]);
    CHECK_STATUS(chan_destroy(full), CHAN_OK);
    CHECK_STATUS(chan_destroy(empty), CHAN_OK);
    CHECK_STATUS(chan_destroy(other_full), CHAN_OK);
    trials++;
    selects += samples;
  } while (stress_before(deadline));
  stress_report("select_fairness",
                "%llu chi-square trials, %llu selects over 2..8 ready cases",
                (unsigned long long)trials, (unsigned long long)selects);
}
