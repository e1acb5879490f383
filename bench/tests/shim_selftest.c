/*
 * shim_selftest.c - exercises every part of the C shim over Google
 * Benchmark; test_cli.sh runs it with --benchmark_out and checks the JSON
 * (names, counters, times, errors, context) against what each benchmark
 * below must produce.
 */
#include "shim/bench_shim.h"

#include <stdio.h>
#include <time.h>

/* Manual time: every iteration claims exactly 1 ms. */
static void bm_manual(bench_state *st, void *user) {
  (void)user;
  while (bench_keep_running(st))
    bench_set_iteration_time(st, 0.001);
  bench_set_items_processed(st, bench_iteration_count(st) * 10);
  bench_set_bytes_processed(st, bench_iteration_count(st) * 80);
}

/* Arguments and their names: the counter carries their sum. */
static void bm_args(bench_state *st, void *user) {
  int *tag = user; /* user data reaches the body */
  while (bench_keep_running(st)) {
  }
  bench_counter(st, "sum", (double)(bench_range(st, 0) + bench_range(st, 1)),
                0);
  bench_counter(st, "tag", *tag, 0);
}

/* Batches of 7 with a fixed 70 iterations; per-iteration average. */
static void bm_batch(bench_state *st, void *user) {
  (void)user;
  int64_t calls = 0;
  while (bench_keep_running_batch(st, 7))
    calls++;
  bench_counter(st, "calls", (double)calls, 0);
  bench_counter(st, "per_iter", 70, BENCH_COUNTER_AVG_ITERATIONS);
}

/* Two threads: a summed counter and a per-thread average. */
static void bm_threads(bench_state *st, void *user) {
  (void)user;
  while (bench_keep_running(st)) {
  }
  bench_counter(st, "threads_seen", 1, 0);
  bench_counter(st, "count_avg", bench_thread_count(st),
                BENCH_COUNTER_AVG_THREADS);
  bench_counter(st, "index_sum", bench_thread_index(st), 0);
}

/* Paused time is not counted: 2 ms paused per iteration, ~0 running. */
static void bm_pause(bench_state *st, void *user) {
  (void)user;
  while (bench_keep_running(st)) {
    bench_pause(st);
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, NULL);
    bench_resume(st);
  }
}

static void bm_skip(bench_state *st, void *user) {
  (void)user;
  bench_skip_with_error(st, "planned skip");
  while (bench_keep_running(st)) {
  }
  bench_counter(st, "errored", bench_error_occurred(st), 0);
}

/* Repetitions 0 and 3 fail and are dropped halfway (bench_fail, bench_drop:
 * marked, not Google Benchmark errors), the others run: the run survives
 * Google Benchmark's statistics, and every repetition did 8 iterations. */
static void bm_marked(bench_state *st, void *user) {
  (void)user;
  static int calls;
  int call = calls++;
  while (bench_keep_running_batch(st, 2)) {
    bench_set_iteration_time(st, 0.002);
    if (bench_iteration_count(st) == 4 && call == 0)
      bench_fail(st, "planned failure");
    if (bench_iteration_count(st) == 4 && call == 3)
      bench_drop(st, "planned drop");
  }
}

int main(int argc, char **argv) {
  static int tag = 42;
  bench_def *b = bench_register("shim_manual", bm_manual, NULL);
  bench_use_manual_time(b);
  bench_iterations(b, 5);
  bench_unit(b, BENCH_US);

  b = bench_register("shim_args", bm_args, &tag);
  bench_arg_names(b, (const char *const[]){"a", "b"}, 2);
  const int64_t as[] = {1, 2}, bs[] = {10, 20};
  bench_args_product(b, (const int64_t *const[]){as, bs},
                     (const size_t[]){2, 2}, 2);
  bench_iterations(b, 3);

  b = bench_register("shim_batch", bm_batch, NULL);
  bench_iterations(b, 70);

  b = bench_register("shim_threads", bm_threads, NULL);
  bench_threads(b, 2);
  bench_use_real_time(b);
  bench_iterations(b, 10);

  b = bench_register("shim_pause", bm_pause, NULL);
  bench_use_real_time(b);
  bench_iterations(b, 5);

  b = bench_register("shim_skip", bm_skip, NULL);

  b = bench_register("shim_marked", bm_marked, NULL);
  bench_use_manual_time(b);
  bench_iterations(b, 8);
  bench_repetitions(b, 5);

  b = bench_register("shim_reps", bm_manual, NULL);
  bench_use_manual_time(b);
  bench_repetitions(b, 3);
  bench_min_time(b, 0.003); /* with 1 ms per iteration: a handful */

  /* NULL handles and names are refused without crashing. */
  if (bench_register(NULL, bm_skip, NULL) != NULL ||
      bench_register("x", NULL, NULL) != NULL) {
    fprintf(stderr, "shim_selftest: NULL registration accepted\n");
    return 1;
  }
  bench_arg(NULL, 1);
  bench_threads(NULL, 2);

  bench_add_context("shim.test", "yes");
  return bench_main(argc, argv);
}
