/*
 * stress_capacity.c - property: 0 <= len <= cap at every observation, and a
 * try operation fails only when it must.
 *
 * chan_len() is a snapshot, so each check is phrased so that no legal
 * interleaving can break it:
 *   - observers running beside random traffic see len <= cap and a
 *     constant cap;
 *   - with only fillers running, a failed try-send is legal only if the
 *     buffer was full at some instant during the call, i.e. the successful
 *     plus in-flight try-sends of everybody else reach cap (the counters are
 *     read in the order that can only over-count); the same for try-receive
 *     while draining; at the end the buffer holds exactly cap values;
 *   - with senders blocked on a full buffer, len stays exactly cap, and a
 *     slot freed by a receive is refilled by a blocked sender without any
 *     further receive (else a wake-up was lost);
 *   - on an unbuffered channel, a try-send (try-receive) with a counterpart
 *     registered as blocked must succeed, and fails with nobody there.
 */
#include "stress.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>

static const size_t capacities[] = {0, 1, 2, 3, 7, 16, 100};
#define NCAPS (sizeof capacities / sizeof *capacities)

/* ---- observers beside random traffic ----------------------------------- */

struct traffic {
  chan_t *ch, *never;
  size_t cap;
  atomic_bool stop;
  atomic_ullong observations, ops;
  uint32_t id;
};

struct traffic_thread {
  struct traffic *t;
  uint32_t id;
};

static void *traffic_main(void *arg) {
  struct traffic_thread *tt = arg;
  struct traffic *t = tt->t;
  test_rng r = test_rng_make(tt->id);
  uint64_t ops = 0;
  uint64_t v = 0;
  while (!atomic_load_explicit(&t->stop, memory_order_relaxed)) {
    /* Timed and try operations only, so nobody blocks past the stop. */
    if (test_rng_below(&r, 2))
      stress_send_any(t->ch, &v, t->never, &r, STRESS_OPS_TIMED);
    else
      stress_recv_any(t->ch, &v, t->never, &r, STRESS_OPS_TIMED);
    ops++;
  }
  atomic_fetch_add(&t->ops, ops);
  return NULL;
}

static void *observer_main(void *arg) {
  struct traffic *t = arg;
  uint64_t n = 0;
  while (!atomic_load_explicit(&t->stop, memory_order_relaxed) &&
         !stress_failing()) {
    size_t len = chan_len(t->ch), cap = chan_cap(t->ch);
    if (len > t->cap)
      STRESS_FAIL("chan_len %zu exceeds capacity %zu", len, t->cap);
    if (cap != t->cap)
      STRESS_FAIL("chan_cap changed to %zu (made with %zu)", cap, t->cap);
    if (++n % 16 == 0)
      test_yield();
  }
  atomic_fetch_add(&t->observations, n);
  return NULL;
}

TEST(capacity_observed_under_traffic) {
  int64_t deadline = stress_begin("capacity_observed_under_traffic");
  int workers = stress_threads_or(6) - 2;
  uint64_t rounds = 0, observations = 0, ops = 0;
  chan_t *never = test_chan(sizeof(uint64_t), 0);
  REQUIRE(never);
  do {
    size_t cap = stress_capacity_or(capacities[rounds % NCAPS]);
    struct traffic t = {
        .ch = test_chan(sizeof(uint64_t), cap), .never = never, .cap = cap};
    REQUIRE(t.ch);
    test_task tids[64];
    struct traffic_thread tt[64];
    int n = workers < 62 ? workers : 62;
    for (int i = 0; i < n; i++) {
      tt[i] = (struct traffic_thread){&t, (uint32_t)(rounds * 64 + i)};
      tids[i] = test_spawn(traffic_main, &tt[i]);
    }
    tids[n] = test_spawn(observer_main, &t);
    tids[n + 1] = test_spawn(observer_main, &t);
    int64_t round_end = test_now_ns() + 50000000; /* 50 ms per capacity */
    while (test_now_ns() < round_end && !stress_failing())
      test_yield();
    atomic_store(&t.stop, true);
    stress_join_all(tids, (size_t)n + 2);
    CHECK_STATUS(chan_destroy(t.ch), CHAN_OK);
    observations += atomic_load(&t.observations);
    ops += atomic_load(&t.ops);
    rounds++;
  } while (stress_before(deadline));
  chan_destroy(never);
  stress_report("capacity_observed_under_traffic",
                "%llu rounds, %llu len observations, %llu timed/try ops",
                (unsigned long long)rounds, (unsigned long long)observations,
                (unsigned long long)ops);
}

/* ---- fill and drain with try operations -------------------------------- */

struct fill {
  chan_t *ch;
  size_t cap;
  bool draining;
  atomic_size_t inflight, ok;
  atomic_int go;
};

static void *filler_main(void *arg) {
  struct fill *f = arg;
  while (!atomic_load(&f->go))
    test_yield();
  uint64_t v = 7;
  for (;;) {
    atomic_fetch_add(&f->inflight, 1);
    int rc = f->draining ? chan_try_recv(f->ch, &v) : chan_try_send(f->ch, &v);
    if (rc == CHAN_OK) {
      atomic_fetch_add(&f->ok, 1);
      atomic_fetch_sub(&f->inflight, 1);
      continue;
    }
    /* Read in-flight first: a call that finishes between the reads is then
     * counted twice, never missed. */
    size_t inflight = atomic_load(&f->inflight) - 1;
    size_t ok = atomic_load(&f->ok);
    atomic_fetch_sub(&f->inflight, 1);
    if (rc != CHAN_WOULD_BLOCK)
      STRESS_FAIL("try-%s returned %s", f->draining ? "receive" : "send",
                  chan_strerror(rc));
    else if (ok + inflight < f->cap)
      STRESS_FAIL("try-%s failed with the buffer %s: only %zu done and %zu "
                  "in flight of capacity %zu",
                  f->draining ? "receive" : "send",
                  f->draining ? "not empty" : "not full", ok, inflight, f->cap);
    size_t len = chan_len(f->ch);
    if (len > f->cap)
      STRESS_FAIL("chan_len %zu exceeds capacity %zu", len, f->cap);
    return NULL;
  }
}

static void fill_phase(chan_t *ch, size_t cap, bool draining, int nthreads) {
  struct fill f = {.ch = ch, .cap = cap, .draining = draining};
  test_task tids[64];
  for (int i = 0; i < nthreads; i++)
    tids[i] = test_spawn(filler_main, &f);
  atomic_store(&f.go, 1);
  stress_join_all(tids, (size_t)nthreads);
  if (atomic_load(&f.ok) != cap)
    STRESS_FAIL("%s: %zu try-%ss succeeded on capacity %zu",
                draining ? "drain" : "fill", atomic_load(&f.ok),
                draining ? "receive" : "send", cap);
  size_t len = chan_len(ch);
  if (len != (draining ? 0 : cap))
    STRESS_FAIL("after the %s, chan_len is %zu (capacity %zu)",
                draining ? "drain" : "fill", len, cap);
}

TEST(capacity_try_fails_only_when_full) {
  int64_t deadline = stress_begin("capacity_try_fails_only_when_full");
  int n = stress_threads_or(4);
  if (n > 64)
    n = 64;
  uint64_t rounds = 0;
  do {
    size_t cap = stress_capacity_or(capacities[rounds % NCAPS]);
    chan_t *ch = test_chan(sizeof(uint64_t), cap);
    REQUIRE(ch);
    fill_phase(ch, cap, false, n);
    fill_phase(ch, cap, true, n);
    CHECK_STATUS(chan_destroy(ch), CHAN_OK);
    rounds++;
  } while (stress_before(deadline));
  stress_report("capacity_try_fails_only_when_full",
                "%llu fill/drain rounds with %d racing threads",
                (unsigned long long)rounds, n);
}

/* ---- blocked senders on a full buffer ---------------------------------- */

static void *blocked_sender_main(void *arg) {
  chan_t *ch = arg;
  uint64_t v = 0xb10c;
  int rc = chan_send(ch, &v);
  if (rc != CHAN_OK)
    STRESS_FAIL("blocked send returned %s", chan_strerror(rc));
  return NULL;
}

TEST(capacity_full_with_blocked_senders) {
  int64_t deadline = stress_begin("capacity_full_with_blocked_senders");
  int blocked = stress_threads_or(5) - 1;
  if (blocked > 63)
    blocked = 63;
  uint64_t rounds = 0;
  do {
    size_t cap = stress_capacity_or(1 + rounds % 8);
    chan_t *ch = test_chan(sizeof(uint64_t), cap);
    REQUIRE(ch);
    uint64_t v = 1;
    for (size_t i = 0; i < cap; i++)
      CHECK_STATUS(chan_try_send(ch, &v), CHAN_OK);
    test_task tids[64];
    for (int i = 0; i < blocked; i++)
      tids[i] = test_spawn(blocked_sender_main, ch);
    if (!test_wait_waiters(ch, CHAN_SEND, (size_t)blocked))
      break;
    CHECK_EQ(chan_len(ch), cap);
    CHECK_STATUS(chan_try_send(ch, &v), CHAN_WOULD_BLOCK);
    /* Drain: each receive lets one blocked sender in; len never exceeds cap
     * on the way. */
    size_t total = cap + (size_t)blocked;
    for (size_t i = 0; i < total; i++) {
      CHECK_STATUS(chan_recv(ch, &v), CHAN_OK);
      size_t len = chan_len(ch);
      if (len > cap)
        STRESS_FAIL("chan_len %zu exceeds capacity %zu while draining", len,
                    cap);
      /* The slot this receive freed must be taken by a blocked sender
       * without any further receive (at once, or after a notified sender
       * retries): a sender left blocked beside free room is a lost
       * wake-up. */
      size_t left = total - i - 1, want = left < cap ? left : cap;
      int64_t give_up = test_now_ns() + 2000000000;
      while ((len = chan_len(ch)) < want && test_now_ns() < give_up)
        test_yield();
      if (len < want) {
        STRESS_FAIL("a receive freed a slot, but for 2 s no blocked sender "
                    "took it (len %zu, expected %zu, %zu senders blocked)",
                    len, want, chan_debug_waiters(ch, CHAN_SEND));
        break;
      }
    }
    if (stress_failing())
      chan_close(ch); /* release the senders left blocked */
    stress_join_all(tids, (size_t)blocked);
    CHECK_EQ(chan_len(ch), 0);
    CHECK_STATUS(chan_destroy(ch), CHAN_OK);
    rounds++;
  } while (stress_before(deadline));
  stress_report("capacity_full_with_blocked_senders",
                "%llu rounds with %d senders blocked on a full buffer",
                (unsigned long long)rounds, blocked);
}

/* ---- unbuffered try operations ----------------------------------------- */

static void *blocked_receiver_main(void *arg) {
  chan_t *ch = arg;
  uint64_t v = 0;
  int rc = chan_recv(ch, &v);
  if (rc != CHAN_OK || v != 0x5e9d)
    STRESS_FAIL("parked receive returned %s with value %llx", chan_strerror(rc),
                (unsigned long long)v);
  return NULL;
}

static void *parked_sender_main(void *arg) {
  chan_t *ch = arg;
  uint64_t v = 0x5e9d;
  int rc = chan_send(ch, &v);
  if (rc != CHAN_OK)
    STRESS_FAIL("parked send returned %s", chan_strerror(rc));
  return NULL;
}

TEST(capacity_unbuffered_try_meets_parked_peer) {
  int64_t deadline = stress_begin("capacity_unbuffered_try_meets_parked_peer");
  uint64_t rounds = 0;
  chan_t *ch = test_chan(sizeof(uint64_t), 0);
  REQUIRE(ch);
  do {
    uint64_t v = 0x5e9d;
    CHECK_STATUS(chan_try_send(ch, &v), CHAN_WOULD_BLOCK);
    CHECK_STATUS(chan_try_recv(ch, &v), CHAN_WOULD_BLOCK);
    bool sender_parks = rounds % 2;
    test_task t = test_spawn(
        sender_parks ? parked_sender_main : blocked_receiver_main, ch);
    if (!test_wait_waiters(ch, sender_parks ? CHAN_SEND : CHAN_RECV, 1))
      break;
    if (sender_parks) {
      v = 0;
      CHECK_STATUS(chan_try_recv(ch, &v), CHAN_OK);
      CHECK_EQ(v, 0x5e9d);
    } else {
      CHECK_STATUS(chan_try_send(ch, &v), CHAN_OK);
    }
    test_join(t);
    CHECK_EQ(chan_len(ch), 0);
    rounds++;
  } while (stress_before(deadline));
  CHECK_STATUS(chan_destroy(ch), CHAN_OK);
  stress_report("capacity_unbuffered_try_meets_parked_peer",
                "%llu try operations against a parked counterpart",
                (unsigned long long)rounds);
}
