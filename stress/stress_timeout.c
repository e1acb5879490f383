/*
 * stress_timeout.c - property: a timeout racing a delivery neither loses
 * nor duplicates a value, and leaves nothing behind.
 *
 *   - timed senders and receivers (calls and selects, timeouts of 0 to
 *     ~260 us, so many expire just as a counterpart arrives) against each
 *     other and against blocking counterparts, with the per-value ledger:
 *     a send that timed out was not delivered, a receive that timed out
 *     took nothing;
 *   - pairs whose deadlines coincide on a fresh unbuffered channel: the
 *     receive succeeds exactly when the send does; afterwards no waiter is
 *     registered and chan_destroy() succeeds at once (a timed-out waiter is
 *     fully unlinked; under ASan, detect_stack_use_after_return catches a
 *     waker writing into the returned waiter's stack frame);
 *   - in a child process, a receiver blocked for good beside a crowd of
 *     timing-out receivers is never woken by their comings and goings, and
 *     chan_destroy() reports CHAN_EBUSY while it is there.
 */
#include "flow.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const size_t capacities[] = {0, 1, 0, 3, 0, 16};

static void run_flow(const char *test, enum stress_ops producers,
                     enum stress_ops consumers) {
  int64_t deadline = stress_begin(test);
  int n = stress_threads_or(8) / 2;
  struct flow_config cfg = {
      .test = test,
      .producers = n,
      .consumers = n,
      .capacities = capacities,
      .ncapacities = sizeof capacities / sizeof *capacities,
      .per_round = (uint32_t)test_scale(1000),
      .ops = producers,
      .split_ops = true,
      .consumer_ops = consumers,
      .pin_cpu = -1,
  };
  struct flow_totals t;
  flow_run(&cfg, deadline, &t);
  stress_report(test,
                "%llu rounds, %llu values delivered exactly once, %llu sends "
                "timed out and were not delivered",
                (unsigned long long)t.rounds, (unsigned long long)t.values,
                (unsigned long long)t.refused);
}

TEST(timeout_timed_both_sides) {
  run_flow("timeout_timed_both_sides", STRESS_OPS_TIMED, STRESS_OPS_TIMED);
}

TEST(timeout_timed_senders_blocking_receivers) {
  run_flow("timeout_timed_senders_blocking_receivers", STRESS_OPS_TIMED,
           STRESS_OPS_BLOCKING);
}

TEST(timeout_blocking_senders_timed_receivers) {
  run_flow("timeout_blocking_senders_timed_receivers", STRESS_OPS_BLOCKING,
           STRESS_OPS_TIMED);
}

/* ---- coinciding deadlines ---------------------------------------------- */

struct duel {
  chan_t *ch;
  atomic_uint round; /* the sender waits for the receiver to start */
  atomic_uint sender_done;
  int64_t timeout_ns, spin;
  int send_rc;
  bool use_select;
  bool stop;
};

static void *duel_sender(void *arg) {
  struct duel *d = arg;
  for (unsigned r = 1;; r++) {
    while (atomic_load(&d->round) != r)
      test_yield();
    if (d->stop)
      return NULL;
    for (volatile int64_t i = 0; i < d->spin; i++) {
    }
    uint64_t v = r;
    if (d->use_select) {
      struct chan_case c = {d->ch, CHAN_SEND, &v};
      size_t chosen;
      d->send_rc = chan_select(&c, 1, d->timeout_ns, &chosen);
    } else {
      d->send_rc = chan_send_timeout(d->ch, &v, d->timeout_ns);
    }
    atomic_store(&d->sender_done, r);
  }
}

/* A receive whose stack frame dies right after it returns: a late waker
 * writing into it is what ASan's detect_stack_use_after_return reports. */
__attribute__((noinline)) static int timed_recv(chan_t *ch, uint64_t *out,
                                                int64_t timeout, bool sel) {
  uint64_t local = 0;
  int rc;
  if (sel) {
    struct chan_case c[2] = {{ch, CHAN_RECV, &local}, {NULL, CHAN_RECV, NULL}};
    size_t chosen;
    rc = chan_select(c, 2, timeout, &chosen);
  } else {
    rc = chan_recv_timeout(ch, &local, timeout);
  }
  *out = local;
  return rc;
}

TEST(timeout_coinciding_deadlines_unlink) {
  int64_t deadline = stress_begin("timeout_coinciding_deadlines_unlink");
  test_rng r = test_rng_make(5);
  struct duel d = {0};
  test_task t = test_spawn(duel_sender, &d);
  uint64_t rounds = 0, delivered = 0;
  unsigned round = 0;
  do {
    d.ch = test_chan(sizeof(uint64_t), 0);
    if (!d.ch)
      break;
    d.timeout_ns = 1000 + (int64_t)test_rng_below(&r, 30000);
    d.spin = (int64_t)test_rng_below(&r, 20000);
    d.use_select = test_rng_below(&r, 2);
    bool recv_select = test_rng_below(&r, 2);
    atomic_store(&d.round, ++round);
    uint64_t v = 0;
    int rrc = timed_recv(d.ch, &v, d.timeout_ns, recv_select);
    while (atomic_load(&d.sender_done) != round)
      test_yield();
    int src = d.send_rc;
    if ((rrc == CHAN_OK) != (src == CHAN_OK) ||
        (rrc != CHAN_OK && rrc != CHAN_TIMEOUT) ||
        (src != CHAN_OK && src != CHAN_TIMEOUT))
      STRESS_FAIL("unbuffered timed pair: receive %s, send %s (timeout %lld "
                  "ns)",
                  chan_strerror(rrc), chan_strerror(src),
                  (long long)d.timeout_ns);
    else if (rrc == CHAN_OK && v != round)
      STRESS_FAIL("received %llu in round %u", (unsigned long long)v, round);
    delivered += rrc == CHAN_OK;
    size_t ws = chan_debug_waiters(d.ch, CHAN_SEND),
           wr = chan_debug_waiters(d.ch, CHAN_RECV);
    if (ws || wr)
      STRESS_FAIL("after both timed operations returned, %zu send and %zu "
                  "receive waiters are still registered",
                  ws, wr);
    int drc = chan_destroy(d.ch);
    if (drc != CHAN_OK)
      STRESS_FAIL("chan_destroy right after a timed pair returned %s",
                  chan_strerror(drc));
    rounds++;
  } while (stress_before(deadline));
  d.stop = true;
  atomic_store(&d.round, ++round);
  test_join(t);
  stress_report("timeout_coinciding_deadlines_unlink",
                "%llu timed pairs on fresh channels, %llu delivered, %llu "
                "both timed out",
                (unsigned long long)rounds, (unsigned long long)delivered,
                (unsigned long long)(rounds - delivered));
}

/* ---- a receiver blocked for good (child process) ----------------------- */

static atomic_int stuck_returned;

static void *stuck_receiver(void *arg) {
  uint64_t v;
  chan_recv(arg, &v);
  atomic_store(&stuck_returned, 1); /* must never happen */
  return NULL;
}

struct crowd {
  chan_t *ch;
  int iters;
  atomic_int bad;
};

static void *timing_out_receiver(void *arg) {
  struct crowd *c = arg;
  for (int i = 0; i < c->iters; i++) {
    uint64_t v;
    int rc = i % 3 ? chan_recv_timeout(c->ch, &v, 1000 * (i % 50))
                   : chan_try_recv(c->ch, &v);
    if (rc != CHAN_TIMEOUT && rc != CHAN_WOULD_BLOCK)
      atomic_fetch_add(&c->bad, 1);
  }
  return NULL;
}

STRESS_CHILD(parked_neighbour) {
  (void)seed;
  chan_t *ch;
  if (chan_make(&ch, impl, sizeof(uint64_t), 0) != CHAN_OK) {
    fprintf(stderr, "child: chan_make(%s): %s\n", impl, chan_last_error());
    return 1;
  }
  pthread_t stuck;
  pthread_create(&stuck, NULL, stuck_receiver, ch);
  while (chan_debug_waiters(ch, CHAN_RECV) < 1)
    test_yield();
  struct crowd c = {.ch = ch, .iters = test_sanitized() ? 300 : 3000};
  pthread_t crowd[6];
  for (int i = 0; i < 6; i++)
    pthread_create(&crowd[i], NULL, timing_out_receiver, &c);
  for (int i = 0; i < 6; i++)
    pthread_join(crowd[i], NULL);
  int status = 0;
  if (atomic_load(&c.bad)) {
    fprintf(stderr,
            "child: %d timed receives with no sender returned "
            "something other than a timeout\n",
            atomic_load(&c.bad));
    status = 1;
  }
  if (atomic_load(&stuck_returned)) {
    fprintf(stderr, "child: the receiver blocked for good returned\n");
    status = 1;
  }
  size_t w = chan_debug_waiters(ch, CHAN_RECV);
  if (w != 1) {
    fprintf(stderr,
            "child: %zu receive waiters registered, expected the "
            "one blocked receiver\n",
            w);
    status = 1;
  }
  int rc = chan_destroy(ch);
  if (rc != CHAN_EBUSY) {
    fprintf(stderr,
            "child: chan_destroy with a blocked receiver returned "
            "%s, expected CHAN_EBUSY\n",
            chan_strerror(rc));
    status = 1;
  }
  fflush(stderr);
  _exit(status); /* the blocked receiver stays blocked, on purpose */
}

TEST(timeout_parked_neighbour_stays_parked) {
  int64_t deadline = stress_begin("timeout_parked_neighbour_stays_parked");
  uint64_t children = 0;
  do {
    stress_run_child("parked_neighbour", 60);
    children++;
  } while (stress_before(deadline));
  stress_report("timeout_parked_neighbour_stays_parked",
                "%llu child processes, each with 6 threads timing out around "
                "a receiver blocked for good",
                (unsigned long long)children);
}
