// bench_shim.cc - implements bench_shim.h over Google Benchmark 1.7.
//
// The only C++ in chanlab. Each C handle is the C++ object itself, cast:
// a bench_state* is a benchmark::State*, a bench_def* a
// benchmark::internal::Benchmark*. Nothing here allocates per iteration.
#include "bench_shim.h"

#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

namespace {

// ---- progress ------------------------------------------------------------
// Google Benchmark reports an instance only when all its repetitions are
// done, and with random interleaving that is near the end of the run; so the
// progress counter watches the benchmark bodies start instead. A body runs
// several times in an instance's first repetition (the iteration-count
// probes, each with more iterations than the last) and once in each later
// repetition (with the count the first one settled on): a call starts a new
// repetition when it is another instance than the previous call, or asks
// for no more iterations than the previous call did.
struct Progress {
  bool on = false;
  std::string prefix;
  int repetitions = 1;
  size_t total = 0, started = 0;
  const void *last_body = nullptr;
  int last_threads = 0;
  int64_t last_iters = 0;
  std::chrono::steady_clock::time_point t0, last_print;
  std::mutex mu;
};
Progress progress;

std::string Clock(double s) {
  char buf[32];
  long t = static_cast<long>(s + 0.5);
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60,
                  t % 60);
  else
    std::snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
  return buf;
}

void ProgressNote(const void *body, const benchmark::State &st) {
  if (!progress.on || st.thread_index() != 0)
    return;
  std::lock_guard<std::mutex> lock(progress.mu);
  const int64_t iters = static_cast<int64_t>(st.max_iterations);
  if (body != progress.last_body || st.threads() != progress.last_threads ||
      iters <= progress.last_iters)
    progress.started++;
  progress.last_body = body;
  progress.last_threads = st.threads();
  progress.last_iters = iters;
  auto now = std::chrono::steady_clock::now();
  double since =
      std::chrono::duration<double>(now - progress.last_print).count();
  if (since < 10.0 || progress.started < 2)
    return;
  progress.last_print = now;
  size_t done = progress.started - 1; // the one starting now is not done
  double elapsed = std::chrono::duration<double>(now - progress.t0).count();
  double left =
      elapsed / static_cast<double>(done) *
      static_cast<double>(progress.total - std::min(done, progress.total));
  std::fprintf(
      stderr,
      "%s%zu/%zu repetitions done (%.0f%%), %s elapsed, about %s left\n",
      progress.prefix.c_str(), done, progress.total,
      100.0 * static_cast<double>(done) / static_cast<double>(progress.total),
      Clock(elapsed).c_str(), Clock(left).c_str());
}

// ---- failed and dropped repetitions -----------------------------------
// Google Benchmark 1.7.1 cannot compute its statistics over repetitions of
// which some failed (SkipWithError) and others did not: it reads the first
// one's statistics list, which a failed run leaves unset (a crash), and
// checks that every run did the same iterations (an abort). So bench_fail
// and bench_drop do not use SkipWithError: they mark the repetition (a
// counter and a label in the JSON), and the next bench_keep_running* call
// (or, if the body returns first, the shim after it) ends it after
// consuming exactly the iterations it still owed, as a completed one does.
// The marked repetition's times are not a measurement; the scripts leave
// them out.
thread_local benchmark::State *marked;   // the state to end, on this thread
thread_local benchmark::State *finished; // its loop has ended
thread_local const char *current;        // the running benchmark's name
std::atomic<int> failures{0};

void Mark(benchmark::State *st, const char *counter, const char *prefix,
          const char *why) {
  std::string label = std::string(prefix) + (why ? why : "");
  st->counters[counter] = 1;
  st->SetLabel(label);
  std::fprintf(stderr, "%s in %s\n", label.c_str(), current ? current : "?");
  marked = st;
}

// Ends a marked repetition: consumes what it still owes, then finishes.
bool EndMarked(benchmark::State *st) {
  marked = nullptr;
  finished = st;
  int64_t left = static_cast<int64_t>(st->max_iterations) -
                 static_cast<int64_t>(st->iterations());
  if (left > 0)
    st->KeepRunningBatch(left);
  return st->KeepRunningBatch(1); // false: the loop is over
}

// Counts matching benchmarks without running any (ReportContext refusing).
class CountOnly : public benchmark::BenchmarkReporter {
public:
  bool ReportContext(const Context &) override {
    return false;
  }
  void ReportRuns(const std::vector<Run> &) override {}
};

// The display reporter, counting the runs that reported an error.
class CountErrors : public benchmark::BenchmarkReporter {
public:
  explicit CountErrors(benchmark::BenchmarkReporter *inner) : inner_(inner) {}
  bool ReportContext(const Context &c) override {
    return inner_->ReportContext(c);
  }
  void ReportRuns(const std::vector<Run> &runs) override {
    // Google Benchmark shows a failed repetition only among all the
    // repetitions, which the aggregates-only display leaves out: say it here.
    for (const Run &r : runs) {
      if (!r.error_occurred || r.run_type != Run::RT_Iteration)
        continue;
      std::fprintf(stderr, "ERROR: %s (repetition %lld): %s\n",
                   r.benchmark_name().c_str(),
                   static_cast<long long>(r.repetition_index),
                   r.error_message.c_str());
      errors++;
    }
    inner_->ReportRuns(runs);
  }
  void Finalize() override {
    inner_->Finalize();
  }
  int errors = 0;

private:
  benchmark::BenchmarkReporter *inner_;
};
int run_errors = 0;
size_t matched_count = 0;

benchmark::State *S(bench_state *st) {
  return reinterpret_cast<benchmark::State *>(st);
}
const benchmark::State *S(const bench_state *st) {
  return reinterpret_cast<const benchmark::State *>(st);
}
benchmark::internal::Benchmark *B(bench_def *b) {
  return reinterpret_cast<benchmark::internal::Benchmark *>(b);
}

} // namespace

extern "C" {

bench_def *bench_register(const char *name, bench_fn fn, void *user) {
  if (name == nullptr || fn == nullptr) {
    std::fprintf(stderr, "bench_register: NULL %s\n",
                 name == nullptr ? "name" : "function");
    return nullptr;
  }
  auto *b = benchmark::RegisterBenchmark(
      name, [fn, user, copy = std::string(name)](benchmark::State &st) {
        ProgressNote(user, st);
        current = copy.c_str();
        marked = finished = nullptr;
        fn(reinterpret_cast<bench_state *>(&st), user);
        if (marked == &st && finished != &st)
          EndMarked(&st); // the body left its loop after marking
        marked = nullptr;
      });
  return reinterpret_cast<bench_def *>(b);
}

void bench_arg(bench_def *b, int64_t value) {
  if (b)
    B(b)->Arg(value);
}

void bench_args(bench_def *b, const int64_t *values, size_t n) {
  if (b && values)
    B(b)->Args(std::vector<int64_t>(values, values + n));
}

void bench_arg_names(bench_def *b, const char *const *names, size_t n) {
  if (!b || !names)
    return;
  std::vector<std::string> v;
  for (size_t i = 0; i < n; i++)
    v.emplace_back(names[i] ? names[i] : "");
  B(b)->ArgNames(v);
}

void bench_args_product(bench_def *b, const int64_t *const *lists,
                        const size_t *lens, size_t n) {
  if (!b || !lists || !lens)
    return;
  std::vector<std::vector<int64_t>> product;
  for (size_t i = 0; i < n; i++)
    product.emplace_back(lists[i], lists[i] + lens[i]);
  B(b)->ArgsProduct(product);
}

void bench_threads(bench_def *b, int threads) {
  if (b && threads > 0)
    B(b)->Threads(threads);
}
void bench_use_real_time(bench_def *b) {
  if (b)
    B(b)->UseRealTime();
}
void bench_use_manual_time(bench_def *b) {
  if (b)
    B(b)->UseManualTime();
}
void bench_min_time(bench_def *b, double seconds) {
  if (b && seconds > 0)
    B(b)->MinTime(seconds);
}
void bench_repetitions(bench_def *b, int n) {
  if (b && n > 0)
    B(b)->Repetitions(n);
}
void bench_iterations(bench_def *b, int64_t n) {
  if (b && n > 0)
    B(b)->Iterations(n);
}

void bench_unit(bench_def *b, enum bench_unit unit) {
  if (!b)
    return;
  static const benchmark::TimeUnit units[] = {
      benchmark::kNanosecond, benchmark::kMicrosecond, benchmark::kMillisecond,
      benchmark::kSecond};
  if (unit >= BENCH_NS && unit <= BENCH_S)
    B(b)->Unit(units[unit]);
}

bool bench_keep_running(bench_state *st) {
  return bench_keep_running_batch(st, 1);
}

bool bench_keep_running_batch(bench_state *st, int64_t n) {
  if (marked == S(st))
    return EndMarked(S(st));
  bool more = S(st)->KeepRunningBatch(n > 0 ? n : 1);
  if (!more)
    finished = S(st);
  return more;
}

int64_t bench_range(const bench_state *st, size_t index) {
  return S(st)->range(index);
}
int bench_thread_index(const bench_state *st) {
  return S(st)->thread_index();
}
int bench_thread_count(const bench_state *st) {
  return S(st)->threads();
}
int64_t bench_iteration_count(const bench_state *st) {
  return S(st)->iterations();
}

int64_t bench_max_iterations(const bench_state *st) {
  return S(st)->max_iterations;
}

void bench_pause(bench_state *st) {
  S(st)->PauseTiming();
}
void bench_resume(bench_state *st) {
  S(st)->ResumeTiming();
}
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
  if (!name)
    return;
  int f = benchmark::Counter::kDefaults;
  if (flags & BENCH_COUNTER_RATE)
    f |= benchmark::Counter::kIsRate;
  if (flags & BENCH_COUNTER_AVG_THREADS)
    f |= benchmark::Counter::kAvgThreads;
  if (flags & BENCH_COUNTER_AVG_ITERATIONS)
    f |= benchmark::Counter::kAvgIterations;
  if (flags & BENCH_COUNTER_ITERATION_INVARIANT)
    f |= benchmark::Counter::kIsIterationInvariant;
  if (flags & BENCH_COUNTER_INVERT)
    f |= benchmark::Counter::kInvert;
  S(st)->counters[name] =
      benchmark::Counter(value, static_cast<benchmark::Counter::Flags>(f));
}

void bench_skip_with_error(bench_state *st, const char *msg) {
  S(st)->SkipWithError(msg ? msg : "error");
}
void bench_fail(bench_state *st, const char *why) {
  failures++;
  Mark(S(st), "failed", "error: ", why);
}

void bench_drop(bench_state *st, const char *why) {
  Mark(S(st), "dropped", "dropped: ", why);
}
bool bench_error_occurred(const bench_state *st) {
  return S(st)->error_occurred();
}

void bench_add_context(const char *key, const char *value) {
  if (key && value)
    benchmark::AddCustomContext(key, value);
}

void bench_progress(const char *prefix, int repetitions) {
  progress.on = prefix != nullptr;
  progress.prefix = prefix ? prefix : "";
  progress.repetitions = repetitions > 0 ? repetitions : 1;
}

int bench_errors(void) {
  return run_errors + failures;
}
size_t bench_matched(void) {
  return matched_count;
}

int bench_main(int argc, char **argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  // First pass: how many benchmarks match (nothing runs). Google Benchmark
  // would say "Failed to match" and go on with nothing; we stop with 2.
  CountOnly count;
  std::ostringstream sink;
  count.SetOutputStream(&sink);
  count.SetErrorStream(&sink);
  size_t matched = benchmark::RunSpecifiedBenchmarks(&count);
  matched_count = matched;
  if (matched == 0) {
    std::fprintf(stderr, "no benchmark matches the filter '%s'\n",
                 benchmark::GetBenchmarkFilter().c_str());
    benchmark::Shutdown();
    return 2;
  }
  progress.total = matched * static_cast<size_t>(progress.repetitions);
  progress.t0 = progress.last_print = std::chrono::steady_clock::now();
  CountErrors display(benchmark::CreateDefaultDisplayReporter());
  benchmark::RunSpecifiedBenchmarks(&display);
  run_errors = display.errors;
  benchmark::Shutdown();
  return 0;
}

} // extern "C"
