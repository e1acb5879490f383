/*
 * stress_conservation.c - property: every value is delivered exactly once.
 *
 * P producers x C consumers exchange tagged (producer, seq) values over a
 * fresh channel per round, with a random mix of blocking, timed, try and
 * select operations; the per-value ledger (flow.h) catches a duplicate, a
 * phantom or a value delivered despite a failed send on the receive that
 * shows it, and a lost value at the end of its round, when the last
 * producer has closed the channel and the consumers have drained it.
 */
#include "flow.h"

#include <sched.h>

static const size_t unbuffered[] = {0};
static const size_t small_buffers[] = {1, 2, 3, 8, 64};
static const size_t every_capacity[] = {0, 1, 0, 4, 0, 32};

static void run_mode(const char *test, int producers, int consumers,
                     const size_t *caps, size_t ncaps, bool blocking_only,
                     bool quota) {
  /* Short rounds for the quota mode: a lost wake-up hangs only when no
   * later value comes to the rescue, i.e. near the end of a round. */
  int64_t deadline = stress_begin(test);
  struct flow_config cfg = {
      .test = test,
      .producers = producers,
      .consumers = consumers,
      .capacities = caps,
      .ncapacities = ncaps,
      .per_round = quota ? 16 : (uint32_t)test_scale(2000),
      .ops = blocking_only ? STRESS_OPS_BLOCKING : STRESS_OPS_ANY,
      .pin_cpu = -1,
      .quota_no_close = quota,
  };
  struct flow_totals t;
  flow_run(&cfg, deadline, &t);
  stress_report(test,
                "%llu rounds, %llu values delivered exactly once, %llu "
                "refused attempts (timeouts/would-block), %dP x %dC",
                (unsigned long long)t.rounds, (unsigned long long)t.values,
                (unsigned long long)t.refused, producers, consumers);
}

static void run(const char *test, int producers, int consumers,
                const size_t *caps, size_t ncaps, bool blocking_only) {
  run_mode(test, producers, consumers, caps, ncaps, blocking_only, false);
}

static int half(void) {
  int n = stress_threads_or(8) / 2;
  return n < 1 ? 1 : n;
}

TEST(conservation_unbuffered_mixed_ops) {
  run("conservation_unbuffered_mixed_ops", half(), half(), unbuffered, 1,
      false);
}

TEST(conservation_buffered_mixed_ops) {
  run("conservation_buffered_mixed_ops", half(), half(), small_buffers, 5,
      false);
}

TEST(conservation_blocking_only) {
  run("conservation_blocking_only", half(), half(), every_capacity, 6, true);
}

TEST(conservation_many_to_one) {
  run("conservation_many_to_one", stress_threads_or(8) - 1, 1, every_capacity,
      6, false);
}

TEST(conservation_one_to_many) {
  run("conservation_one_to_many", 1, stress_threads_or(8) - 1, every_capacity,
      6, false);
}

/* Every consumer takes a fixed share and the channel is closed only after
 * all returned, so a lost wake-up is a hang, not rescued by a close's
 * wake-all; blocking operations only, since a timeout would retry and mask
 * it too. Small buffers and several consumers registering at once are what
 * the spin model (stress/model/ring_park.pml) needs for one. */
TEST(conservation_quota_no_close) {
  static const size_t small[] = {1, 2, 1, 3, 0};
  run_mode("conservation_quota_no_close", half(), half(), small, 5, true, true);
}

/* ---- two receivers, two values, nothing else --------------------------- */

/* The smallest shape in which the spin model (stress/model/ring_park.pml,
 * -DNO_CLOSE) finds a lost wake-up: two receivers park on an empty channel
 * while two values arrive, and nothing comes afterwards to rescue a
 * receiver that parked beside a value. Each iteration is such an ending,
 * with random skews; a lost wake-up is a hang that the watchdog reports. */
struct duo {
  chan_t *ch;
  atomic_uint go, done;
  atomic_bool stop;
  uint32_t skew[4];
};

struct duo_thread {
  struct duo *d;
  int role; /* 0, 1 receive; 2, 3 send */
};

static void *duo_main(void *arg) {
  struct duo_thread *t = arg;
  struct duo *d = t->d;
  for (unsigned it = 1;; it++) {
    while (atomic_load(&d->go) < it)
      test_yield();
    if (atomic_load(&d->stop))
      return NULL;
    for (volatile uint32_t i = d->skew[t->role]; i > 0; i--) {
    }
    uint64_t v = it;
    int rc = t->role < 2 ? chan_recv(d->ch, &v) : chan_send(d->ch, &v);
    if (rc != CHAN_OK)
      STRESS_FAIL("role %d: %s", t->role, chan_strerror(rc));
    atomic_fetch_add(&d->done, 1);
  }
}

TEST(conservation_two_receivers_two_values) {
  int64_t deadline = stress_begin("conservation_two_receivers_two_values");
  test_rng r = test_rng_make(22);
  struct duo d = {0};
  struct duo_thread t[4];
  test_task tids[4];
  for (int i = 0; i < 4; i++) {
    t[i] = (struct duo_thread){&d, i};
    tids[i] = test_spawn(duo_main, &t[i]);
  }
  uint64_t iterations = 0;
  unsigned it = 0;
  do {
    d.ch = test_chan(sizeof(uint64_t), stress_capacity_or(1 + it % 3));
    if (!d.ch)
      break;
    for (int i = 0; i < 4; i++)
      d.skew[i] = (uint32_t)test_rng_below(&r, i < 2 ? 2000 : 100000);
    atomic_store(&d.done, 0);
    atomic_store(&d.go, ++it);
    while (atomic_load(&d.done) < 4)
      test_yield(); /* a lost wake-up stops here: the watchdog reports */
    CHECK_STATUS(chan_destroy(d.ch), CHAN_OK);
    iterations++;
  } while (stress_before(deadline));
  atomic_store(&d.stop, true);
  atomic_store(&d.go, ++it);
  stress_join_all(tids, 4);
  stress_report("conservation_two_receivers_two_values",
                "%llu iterations of 2 receivers x 2 values",
                (unsigned long long)iterations);
}
