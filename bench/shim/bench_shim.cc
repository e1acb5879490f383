// bench_shim.cc - implements bench_shim.h over Google Benchmark 1.7.
//
// The only C++ in chanlab. Each C handle is the C++ object itself, cast:
// a bench_state* is a benchmark::State*, a bench_def* a
// benchmark::internal::Benchmark*. Nothing here allocates per iteration.
#include "bench_shim.h"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <vector>

namespace {

benchmark::State *S(bench_state *st) {
  return reinterpret_cast<benchmark::State *>(st);
}
const benchmark::State *S(const bench_state *st) {
  return reinterpret_cast<const benchmark::State *>(st);
}
benchmark::internal::Benchmark *B(bench_def *b) {
  return reinterpret_cast<benchmark::internal::Benchmark *>(b);
}

}  // namespace

extern "C" {

bench_def *bench_register(const char *name, bench_fn fn, void *user) {
  if (name == nullptr || fn == nullptr) {
    std::fprintf(stderr, "bench_register: NULL %s\n",
                 name == nullptr ? "name" : "function");
    return nullptr;
  }
  auto *b = benchmark::RegisterBenchmark(
      name, [fn, user](benchmark::State &st) {
        fn(reinterpret_cast<bench_state *>(&st), user);
      });
  return reinterpret_cast<bench_def *>(b);
}

void bench_arg(bench_def *b, int64_t value) {
  if (b) B(b)->Arg(value);
}

void bench_args(bench_def *b, const int64_t *values, size_t n) {
  if (b && values) B(b)->Args(std::vector<int64_t>(values, values + n));
}

void bench_arg_names(bench_def *b, const char *const *names, size_t n) {
  if (!b || !names) return;
  std::vector<std::string> v;
  for (size_t i = 0; i < n; i++) v.emplace_back(names[i] ? names[i] : "");
  B(b)->ArgNames(v);
}

void bench_args_product(bench_def *b, const int64_t *const *lists,
                        const size_t *lens, size_t n) {
  if (!b || !lists || !lens) return;
  std::vector<std::vector<int64_t>> product;
  for (size_t i = 0; i < n; i++)
    product.emplace_back(lists[i], lists[i] + lens[i]);
  B(b)->ArgsProduct(product);
}

void bench_threads(bench_def *b, int threads) {
  if (b && threads > 0) B(b)->Threads(threads);
}
void bench_use_real_time(bench_def *b) {
  if (b) B(b)->UseRealTime();
}
void bench_use_manual_time(bench_def *b) {
  if (b) B(b)->UseManualTime();
}
void bench_min_time(bench_def *b, double seconds) {
  if (b && seconds > 0) B(b)->MinTime(seconds);
}
void bench_repetitions(bench_def *b, int n) {
  if (b && n > 0) B(b)->Repetitions(n);
}
void bench_iterations(bench_def *b, int64_t n) {
  if (b && n > 0) B(b)->Iterations(n);
}

void bench_unit(bench_def *b, enum bench_unit unit) {
  if (!b) return;
  static const benchmark::TimeUnit units[] = {
      benchmark::kNanosecond, benchmark::kMicrosecond, benchmark::kMillisecond,
      benchmark::kSecond};
  if (unit >= BENCH_NS && unit <= BENCH_S) B(b)->Unit(units[unit]);
}

bool bench_keep_running(bench_state *st) { return S(st)->KeepRunning(); }

bool bench_keep_running_batch(bench_state *st, int64_t n) {
  return S(st)->KeepRunningBatch(n > 0 ? n : 1);
}

int64_t bench_range(const bench_state *st, size_t index) {
  return S(st)->range(index);
}
int bench_thread_index(const bench_state *st) {
  return S(st)->thread_index();
}
int bench_thread_count(const bench_state *st) { return S(st)->threads(); }
int64_t bench_iteration_count(const bench_state *st) {
  return S(st)->iterations();
}

int64_t bench_max_iterations(const bench_state *st) {
  return S(st)->max_iterations;
}

void bench_pause(bench_state *st) { S(st)->PauseTiming(); }
void bench_resume(bench_state *st) { S(st)->ResumeTiming(); }
void bench_set_iteration_time(bench_state *st, double seconds) {
  S(st)->SetIterationTime(seconds);
}

void bench_set_items_processed(bench_state *st, int64_t items) {
  S(st)->SetItemsProcessed(items);
}
void bench_set_bytes_processed(bench_state *st, int64_t bytes) {
  S(st)->SetBytesProcessed(bytes);
}
void bench_set_label(bench_state *st, const char *label) {
  S(st)->SetLabel(label ? label : "");
}

void bench_counter(bench_state *st, const char *name, double value,
                   unsigned flags) {
  if (!name) return;
  int f = benchmark::Counter::kDefaults;
  if (flags & BENCH_COUNTER_RATE) f |= benchmark::Counter::kIsRate;
  if (flags & BENCH_COUNTER_AVG_THREADS) f |= benchmark::Counter::kAvgThreads;
  if (flags & BENCH_COUNTER_AVG_ITERATIONS)
    f |= benchmark::Counter::kAvgIterations;
  if (flags & BENCH_COUNTER_ITERATION_INVARIANT)
    f |= benchmark::Counter::kIsIterationInvariant;
  if (flags & BENCH_COUNTER_INVERT) f |= benchmark::Counter::kInvert;
  S(st)->counters[name] =
      benchmark::Counter(value, static_cast<benchmark::Counter::Flags>(f));
}

void bench_skip_with_error(bench_state *st, const char *msg) {
  S(st)->SkipWithError(msg ? msg : "error");
}
bool bench_error_occurred(const bench_state *st) {
  return S(st)->error_occurred();
}

void bench_add_context(const char *key, const char *value) {
  if (key && value) benchmark::AddCustomContext(key, value);
}

int bench_main(int argc, char **argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // extern "C"
