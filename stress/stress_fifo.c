/*
 * stress_fifo.c - property: per-producer FIFO.
 *
 * Every consumer must see each producer's sequence numbers strictly
 * increase, and a lone consumer must see each producer's sequence advance by
 * exactly one (a producer retries a refused value with the same number, so
 * timeouts and failed try-sends do not open gaps). Runs on the flow engine
 * (flow.h), so conservation is checked too.
 */
#include "flow.h"

static const size_t capacities[] = {0, 1, 2, 5, 64, 0, 1024};

static void run(const char *test, int producers, int consumers,
                bool blocking_only) {
  int64_t deadline = stress_begin(test);
  struct flow_config cfg = {
      .test = test,
      .producers = producers,
      .consumers = consumers,
      .capacities = capacities,
      .ncapacities = sizeof capacities / sizeof *capacities,
      .per_round = (uint32_t)test_scale(3000),
      .ops = blocking_only ? STRESS_OPS_BLOCKING : STRESS_OPS_ANY,
      .check_fifo = true,
      .pin_cpu = -1,
  };
  struct flow_totals t;
  flow_run(&cfg, deadline, &t);
  stress_report(test,
                "%llu rounds, %llu values in per-producer order, %dP x %dC",
                (unsigned long long)t.rounds, (unsigned long long)t.values,
                producers, consumers);
}

TEST(fifo_one_consumer_exact) {
  run("fifo_one_consumer_exact", stress_threads_or(5) - 1, 1, false);
}

TEST(fifo_one_pair_blocking) {
  run("fifo_one_pair_blocking", 1, 1, true);
}

TEST(fifo_many_consumers_increasing) {
  int n = stress_threads_or(8) / 2;
  run("fifo_many_consumers_increasing", n, n, false);
}
