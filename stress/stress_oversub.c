/*
 * stress_oversub.c - property: correctness and progress with far more
 * threads than CPUs.
 *
 * 16 to 64 threads on this machine's two cores exchange values through the
 * flow engine (ledger-checked conservation and FIFO) while most of them are
 * preempted at arbitrary points, including inside spin phases and between
 * claiming and publishing; then the same with every thread pinned to one
 * CPU, where a waiter that spins instead of parking starves the thread it
 * waits for, and only parking makes progress.
 */
#include "flow.h"

#include <sched.h>

static const size_t capacities[] = {0, 1, 8, 0, 64};

static void run(const char *test, int threads, bool pinned) {
  int64_t deadline = stress_begin(test);
  int n = stress_threads_or(threads);
  int cpu = -1;
  cpu_set_t saved;
  sched_getaffinity(0, sizeof saved, &saved);
  if (pinned) {
    for (int c = 0; c < CPU_SETSIZE; c++)
      if (CPU_ISSET(c, &saved)) {
        cpu = c;
        break;
      }
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    sched_setaffinity(0, sizeof one, &one); /* the test's thread too */
  }
  struct flow_config cfg = {
      .test = test,
      .producers = n / 2,
      .consumers = n - n / 2,
      .capacities = capacities,
      .ncapacities = sizeof capacities / sizeof *capacities,
      .per_round = (uint32_t)test_scale(400),
      .ops = STRESS_OPS_ANY,
      .check_fifo = true,
      .pin_cpu = cpu,
  };
  struct flow_totals t;
  flow_run(&cfg, deadline, &t);
  if (pinned)
    sched_setaffinity(0, sizeof saved, &saved);
  stress_report(test, "%llu rounds, %llu values with %d threads%s",
                (unsigned long long)t.rounds, (unsigned long long)t.values, n,
                pinned ? " all pinned to one CPU" : "");
}

TEST(oversub_16_threads) {
  run("oversub_16_threads", 16, false);
}

TEST(oversub_64_threads) {
  run("oversub_64_threads", 64, false);
}

TEST(oversub_32_threads_one_cpu) {
  run("oversub_32_threads_one_cpu", 32, true);
}
