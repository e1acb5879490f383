/*
 * harness.h - the test harness shared by tests/, patterns/, bench/ and
 * stress/.
 *
 * A test program defines tests with TEST(name) { ... } and gets its main()
 * from tests/main.c, which hands the command line to test_main():
 *
 *   prog [--impl NAME|all] [--executor thread|fiber|all] [--filter SUBSTR]
 *        [--seed N] [--timeout SEC] [--list] [--no-fork] [--fail-fast]
 *        [--impl-lib PATH]... [-h|--help]
 *
 * (getopt_long: --x=v and --x v both work.) A program with options of its
 * own (the stress drivers) writes its own main() and passes them, with a
 * setup hook, to test_main() in a struct test_program.
 *
 * Every test runs once per selected implementation (test_impl() names it)
 * and executor (test_executor(): "thread", or "fiber": the test function
 * then runs on a fiber of a runtime the harness starts for the test, and
 * test_spawn() starts fibers on it), each run in a child process forked
 * from the harness, which stays
 * single-threaded and is the watchdog: a child that runs past its timeout
 * is killed and reported (WATCHDOG: naming the test, the implementation, the
 * seed and the replay command); a child killed by a signal is reported as a
 * crash (CRASH: naming the signal); either way the run goes on with the
 * next test. So a failing test cannot leave threads behind that disturb
 * the tests after it, and LeakSanitizer checks each test at its child's
 * exit. --no-fork runs the tests in the harness's own process instead (for
 * a debugger; the watchdog then ends the program). Each test prints its
 * seed; --seed replays it. The run ends with the line "N passed, N failed".
 *
 * CHECK* record a failure and continue; REQUIRE* also return from the test
 * function (use them only on the test's own thread). A test that returns
 * with a failure ends its child at once, taking its threads with it.
 */
#ifndef CHAN_TEST_HARNESS_H
#define CHAN_TEST_HARNESS_H

#include <chan/chan.h>
#include <chan/fiber.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* ---- the entry point --------------------------------------------------- */

/* An option a program adds to the harness's own. */
struct test_option {
  const char *name;  /* the long name: --name */
  const char *value; /* the value's name in --help ("S"); NULL: takes none */
  const char *help;  /* one line for --help */
  /* Takes the value (NULL if the option takes none). Returns NULL when it
   * is accepted, else what is wrong with it ("needs a number, not 'x'"). */
  const char *(*set)(const char *value);
};

/* What test_main() parsed, for a program's setup hook to read or adjust. */
struct test_config {
  const char *impl;     /* --impl: a registered name, or "all" */
  const char *executor; /* --executor: "thread", "fiber" or "all" */
  uint64_t seed;        /* --seed, else one drawn from the clock */
  bool seed_given;
  int timeout_s; /* --timeout, else the harness's default */
  bool timeout_given;
};

struct test_program {
  const struct test_option *options; /* ends with {NULL}; NULL: none */
  /* What --help says the default --timeout is, if the program's setup
   * changes it; NULL: the harness's default. */
  const char *timeout_default;
  /* Called once after the command line is parsed, before any test runs,
   * in the harness's process (which must stay single-threaded: start no
   * thread here). Returns -1 to run the tests, or the exit status to end
   * the program with instead. NULL: nothing to do. */
  int (*setup)(struct test_config *cfg);
};

/* Runs (or lists) the program's tests as the command line asks; returns
 * the exit status: 0 all passed, 1 a test failed, 2 a usage error.
 * program may be NULL (tests/main.c: the harness's options only). */
int test_main(int argc, char **argv, const struct test_program *program);

/* Parses a whole non-negative number (decimal, 0x hex or 0 octal) for an
 * option's set(); false if s is anything else. */
bool test_parse_u64(const char *s, uint64_t *out);

/* The command that replays the current test: the environment that matters
 * (CHAN_CHAOS_SEED in chaos builds), the program with the extra options it
 * was given, --impl, --filter and --seed. */
const char *test_replay(void);

/* ---- tests -------------------------------------------------------------- */

typedef void (*test_fn)(void);

void test_register(const char *name, test_fn fn, const char *file);

#define TEST(name)                                                             \
  static void test_##name(void);                                               \
  __attribute__((constructor)) static void test_register_##name(void) {        \
    test_register(#name, test_##name, __FILE__);                               \
  }                                                                            \
  static void test_##name(void)

/* A program whose tests are about OS threads themselves (cancellation,
 * signals) or manage runtimes of their own declares the executors it runs
 * on, once: TEST_EXECUTORS("thread"). Default: thread and fiber. */
#define TEST_EXECUTORS(list)                                                   \
  __attribute__((constructor)) static void test_executors_(void) {             \
    test_set_executors(list);                                                  \
  }
void test_set_executors(const char *list);

/* Records a failure (thread-safe) with its location and a message. */
void test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define CHECK(cond)                                                            \
  ((cond) ? (void)0 : test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond))

#define CHECK_EQ(a, b)                                                         \
  do {                                                                         \
    long long check_a_ = (long long)(a), check_b_ = (long long)(b);            \
    if (check_a_ != check_b_)                                                  \
      test_fail(__FILE__, __LINE__, "CHECK_EQ(%s, %s): %lld != %lld", #a, #b,  \
                check_a_, check_b_);                                           \
  } while (0)

/* Status codes are compared by name so failures read well. */
#define CHECK_STATUS(got, want)                                                \
  do {                                                                         \
    int check_got_ = (got), check_want_ = (want);                              \
    if (check_got_ != check_want_)                                             \
      test_fail(__FILE__, __LINE__, "%s returned %s (%d), expected %s (%d)",   \
                #got, chan_strerror(check_got_), check_got_,                   \
                chan_strerror(check_want_), check_want_);                      \
  } while (0)

#define REQUIRE(cond)                                                          \
  do {                                                                         \
    if (!(cond)) {                                                             \
      test_fail(__FILE__, __LINE__, "REQUIRE(%s)", #cond);                     \
      return;                                                                  \
    }                                                                          \
  } while (0)

#define REQUIRE_STATUS(got, want)                                              \
  do {                                                                         \
    int require_got_ = (got), require_want_ = (want);                          \
    if (require_got_ != require_want_) {                                       \
      test_fail(__FILE__, __LINE__, "%s returned %s (%d), expected %s (%d)",   \
                #got, chan_strerror(require_got_), require_got_,               \
                chan_strerror(require_want_), require_want_);                  \
      return;                                                                  \
    }                                                                          \
  } while (0)

/* The implementation the current test runs on. */
const char *test_impl(void);

/* The shared objects --impl-lib loaded (in order; NULL-terminated), for a
 * program that re-executes itself and must load them again (stress/). */
const char *const *test_impl_libs(void);

/* The current test's seed (printed before it runs; --seed replays it). */
uint64_t test_seed(void);

/* A deterministic generator: seed it from test_seed() plus a stream id so
 * each thread of a test has its own reproducible sequence. */
typedef struct {
  uint64_t s;
} test_rng;
test_rng test_rng_make(uint64_t stream);
uint64_t test_rng_next(test_rng *r);
uint64_t test_rng_below(test_rng *r, uint64_t bound); /* [0, bound) */

/* Scales an iteration count down under sanitizers (by 10, at least 1). */
uint64_t test_scale(uint64_t iterations);
bool test_sanitized(void);
/* True in a chaos build (-DCHAN_CHAOS=ON): its injected pauses change
 * timing on purpose, so timing-shaped checks (who sleeps in the kernel)
 * do not apply there. */
bool test_chaos(void);

/* Makes a channel on the current implementation or fails the test. */
chan_t *test_chan(size_t elem_size, size_t capacity);

/* ---- executors ---------------------------------------------------------- */

/* The executor the current test runs on: "thread" or "fiber". */
const char *test_executor(void);
bool test_on_fibers(void);
/* The test's fiber runtime (one worker per PU), NULL under "thread". */
chan_rt *test_runtime(void);

/* One of the test's goroutines: a thread, or a fiber under "fiber". */
typedef struct {
  pthread_t thread;
  chan_fiber *fiber;
} test_task;

/* Starts fn(arg) on the test's executor and joins it, failing the test (not
 * crashing) on error. */
test_task test_spawn(void *(*fn)(void *), void *arg);
void *test_join(test_task t);

/* Lets others run while the test waits for something: yields the fiber, or
 * the thread. */
void test_yield(void);

/* An OS thread whatever the executor, for tests of what threads do
 * (cancellation, signals, a thread's own CPU clock). */
pthread_t test_thread_start(void *(*fn)(void *), void *arg);
void *test_thread_join(pthread_t t);

/* The process's live thread count (from /proc/self/status). */
int test_thread_count(void);

/* The test's live goroutines: the process's threads under "thread", the
 * runtime's live fibers under "fiber" (the test's own included). What a
 * no-leak check counts. */
int test_goroutines(void);

/* Monotonic clock in nanoseconds. */
int64_t test_now_ns(void);

/* Waits (yielding) until at least n threads are blocked in dir on ch, as
 * chan_debug_waiters() counts them; orders "the waiter is parked" before an
 * action without sleeping. Fails the test if the watchdog would fire. */
bool test_wait_waiters(chan_t *ch, enum chan_dir dir, size_t n);

/* The same for waiters that have committed to sleep (chan_debug_sleepers):
 * where a channel wakes waiters to retry, a registered waiter that is not
 * yet asleep may still take a value itself. */
bool test_wait_sleepers(chan_t *ch, enum chan_dir dir, size_t n);

#endif /* CHAN_TEST_HARNESS_H */
