/*
 * bench_shim.h - a C interface to Google Benchmark (C++).
 *
 * Debian's libbenchmark-dev has no C API, and chanlab is C11; this header is
 * the thin layer the scenarios are written against. It mirrors Google
 * Benchmark's vocabulary (register, Args, Threads, UseRealTime, the running
 * loop, counters, SkipWithError, custom context) so its documentation
 * applies; bench_shim.cc is the only C++ in the project.
 *
 *   static void bm_noop(bench_state *st, void *user) {
 *     while (bench_keep_running_batch(st, 64)) { ... 64 iterations ... }
 *   }
 *   bench_def *b = bench_register("noop", bm_noop, NULL);
 *   bench_arg_names(b, (const char *[]){"cap"}, 1);
 *   ...
 *   return bench_main(argc, argv);   (Google Benchmark's flags keep working)
 */
#ifndef CHAN_BENCH_SHIM_H
#define CHAN_BENCH_SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bench_state bench_state; /* benchmark::State */
typedef struct bench_def bench_def;     /* benchmark::internal::Benchmark */

/* A benchmark body; user is the pointer given at registration (it must stay
 * valid until bench_main returns). */
typedef void (*bench_fn)(bench_state *st, void *user);

/* ---- registration -------------------------------------------------------- */

/* Registers fn under name (copied). Returns NULL (with a message on stderr)
 * if name or fn is NULL. Every setter below accepts and ignores NULL, so a
 * failed registration cannot crash the chain. */
bench_def *bench_register(const char *name, bench_fn fn, void *user);

void bench_arg(bench_def *b, int64_t value);
void bench_args(bench_def *b, const int64_t *values, size_t n);
void bench_arg_names(bench_def *b, const char *const *names, size_t n);
/* The cartesian product of n lists (lists[i] has lens[i] values). */
void bench_args_product(bench_def *b, const int64_t *const *lists,
                        const size_t *lens, size_t n);
void bench_threads(bench_def *b, int threads);
void bench_use_real_time(bench_def *b);
void bench_use_manual_time(bench_def *b); /* see bench_set_iteration_time */
void bench_min_time(bench_def *b, double seconds);
void bench_repetitions(bench_def *b, int n);
void bench_iterations(bench_def *b, int64_t n);

enum bench_unit { BENCH_NS, BENCH_US, BENCH_MS, BENCH_S };
void bench_unit(bench_def *b, enum bench_unit unit);

/* ---- inside a running benchmark ----------------------------------------- */

/* The loop: true while more iterations are wanted. The batch form asks for
 * n iterations per call (to amortize the call); it may overshoot by up to
 * n - 1 iterations, which Google Benchmark accounts for. */
bool bench_keep_running(bench_state *st);
bool bench_keep_running_batch(bench_state *st, int64_t n);

int64_t bench_range(const bench_state *st, size_t index); /* Arg values */
int bench_thread_index(const bench_state *st);
int bench_thread_count(const bench_state *st);
int64_t bench_iteration_count(const bench_state *st); /* so far */
/* The iterations Google Benchmark wants from this run (1 in its first probe,
 * then its estimate of what fills the minimum time). */
int64_t bench_max_iterations(const bench_state *st);

void bench_pause(bench_state *st);
void bench_resume(bench_state *st);
/* With bench_use_manual_time: the measured duration of this iteration. */
void bench_set_iteration_time(bench_state *st, double seconds);

void bench_set_items_processed(bench_state *st, int64_t items);
void bench_set_bytes_processed(bench_state *st, int64_t bytes);
void bench_set_label(bench_state *st, const char *label);

/* Counter flags, combinable (Google Benchmark's Counter::Flags). */
enum bench_counter_flags {
  BENCH_COUNTER_DEFAULT = 0,
  BENCH_COUNTER_RATE = 1 << 0,                /* value / seconds */
  BENCH_COUNTER_AVG_THREADS = 1 << 1,         /* value / threads */
  BENCH_COUNTER_AVG_ITERATIONS = 1 << 2,      /* value / iterations */
  BENCH_COUNTER_ITERATION_INVARIANT = 1 << 3, /* value * iterations */
  BENCH_COUNTER_INVERT = 1 << 4,              /* 1 / value */
};
/* Sets (replaces) a named counter on this thread's state; multi-threaded
 * benchmarks sum the threads' values unless AVG_THREADS is given. */
void bench_counter(bench_state *st, const char *name, double value,
                   unsigned flags);

/* Marks the run as failed with msg (copied); the caller must then leave the
 * loop (bench_keep_running returns false from here on). */
void bench_skip_with_error(bench_state *st, const char *msg);
bool bench_error_occurred(const bench_state *st);
/* Safe with repetitions (Google Benchmark 1.7.1 crashes computing the
 * statistics of repetitions some of which used bench_skip_with_error): the
 * repetition is marked, as an error (counter failed = 1, label "error: why",
 * counted by bench_errors) or as dropped because the machine spoiled it
 * (counter dropped = 1, label "dropped: why"), and the next
 * bench_keep_running* call returns false; the caller leaves its loop as it
 * would at the end. Its times are not a measurement. */
void bench_fail(bench_state *st, const char *why);
void bench_drop(bench_state *st, const char *why);

/* ---- the run ------------------------------------------------------------- */

/* A key/value written into the JSON "context" (and the console header). */
void bench_add_context(const char *key, const char *value);

/* With a prefix (NULL: off), bench_main prints a progress line to stderr at
 * most every 10 s: repetitions done of (matching benchmarks x repetitions),
 * time elapsed and an estimate of the time left. */
void bench_progress(const char *prefix, int repetitions);

/* Runs Google Benchmark: parses and removes its --benchmark_* flags from
 * argv, rejects unknown ones (message, returns 1), runs the registered
 * benchmarks matching --benchmark_filter and returns 0; returns 2 with a
 * message when no benchmark matches. */
int bench_main(int argc, char **argv);

/* After bench_main: how many benchmark runs reported an error (either way),
 * and how many benchmarks matched the filter. */
int bench_errors(void);
size_t bench_matched(void);

#ifdef __cplusplus
}
#endif

#endif /* CHAN_BENCH_SHIM_H */
