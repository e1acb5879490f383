/*
 * harness.c - test_main(): the command line, the test loop, each test in
 * its own child process under a watchdog, seeds, replay lines and the
 * summary; and the helpers tests call (harness.h).
 *
 * Process model. The harness's process (the parent) parses the command
 * line, then for each test and implementation forks a child that runs the
 * test and exits: at once, with _exit(1), when the test failed (whatever
 * threads it left behind die with it; no atexit work runs beside them), or
 * with exit(0) when it passed (so LeakSanitizer and ThreadSanitizer's
 * at-exit checks judge each test by itself). The parent stays
 * single-threaded, so fork is safe and TSan accepts the children's
 * threads: it starts no thread, runs no test code, and waits for each
 * child with SIGCHLD blocked and sigtimedwait() as its watchdog. The
 * child's verdict comes back through a shared anonymous page (failures
 * counted by test_fail(), and whether the test function returned), its
 * exit status or the signal that killed it.
 *
 * Executors. Under "fiber" the child starts a fiber runtime (one worker per
 * PU), runs the test function on a fiber of it and joins it from its main
 * thread; test_spawn() then starts fibers, so every thread a test starts,
 * the test itself and whatever the code under test starts from them
 * (pattern components, timers) are fibers. After the test the runtime must
 * stop: fibers left blocked fail the test.
 */
#include "harness.h"

#include <chan/chan_debug.h>

#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_TESTS   512
#define MAX_OPTIONS 32

struct test_entry {
  const char *name;
  const char *file;
  test_fn fn;
};

static struct test_entry tests[MAX_TESTS];
static size_t ntests;

/* What a test's process reports to the parent; shared with the children
 * (MAP_SHARED) unless --no-fork. */
struct test_verdict {
  atomic_int failures; /* test_fail() calls */
  atomic_int returned; /* the test function returned */
};
static struct test_verdict local_verdict;
static struct test_verdict *verdict = &local_verdict;

static const char *current_impl = "";
static const char *current_executor = "thread";
static chan_rt *current_rt; /* the test's runtime under "fiber" */
static const char *current_test = "";

/* The executors, one list; a program may run on fewer (TEST_EXECUTORS). */
static const char *const executors[] = {"thread", "fiber"};
#define NEXECUTORS (sizeof executors / sizeof executors[0])
#ifdef CHAN_NO_FIBERS
/* A thread-only libchan (CHAN_FIBERS=OFF): there is no fiber executor. */
static bool program_runs_on[NEXECUTORS] = {true, false};
#else
static bool program_runs_on[NEXECUTORS] = {true, true};
#endif

void test_set_executors(const char *list) {
  for (size_t i = 0; i < NEXECUTORS; i++)
    program_runs_on[i] = strstr(list, executors[i]) != NULL;
#ifdef CHAN_NO_FIBERS
  program_runs_on[1] = false;
#endif
}
static uint64_t current_seed;
static int64_t watchdog_deadline_ns;

static char replay_prefix[1024]; /* "[CHAN_CHAOS_SEED=s ]prog [--opt v]..." */
static char replay_line[1536];   /* replay_prefix + this test's flags */
static uint64_t base_seed;

void test_register(const char *name, test_fn fn, const char *file) {
  if (ntests == MAX_TESTS) {
    fprintf(stderr, "harness: more than %d tests\n", MAX_TESTS);
    exit(2);
  }
  tests[ntests++] = (struct test_entry){name, file, fn};
}

void test_fail(const char *file, int line, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fprintf(stderr, "  FAIL %s:%d: %s [test %s, impl %s, seed %" PRIu64 "]\n",
          file, line, msg, current_test, current_impl, current_seed);
  atomic_fetch_add(&verdict->failures, 1);
}

const char *test_impl(void) {
  return current_impl;
}

const char *test_executor(void) {
  return current_executor;
}

bool test_on_fibers(void) {
  return current_rt != NULL;
}

chan_rt *test_runtime(void) {
  return current_rt;
}

uint64_t test_seed(void) {
  return current_seed;
}

const char *test_replay(void) {
  return replay_line;
}

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

test_rng test_rng_make(uint64_t stream) {
  uint64_t x = current_seed ^ (stream * 0xd1b54a32d192ed03ull);
  return (test_rng){splitmix64(&x) | 1};
}

uint64_t test_rng_next(test_rng *r) {
  return splitmix64(&r->s);
}

uint64_t test_rng_below(test_rng *r, uint64_t bound) {
  return bound ? test_rng_next(r) % bound : 0;
}

bool test_sanitized(void) {
#ifdef CHAN_SANITIZER_BUILD
  return true;
#else
  return false;
#endif
}

bool test_chaos(void) {
#ifdef CHAN_CHAOS
  return true;
#else
  return false;
#endif
}

uint64_t test_scale(uint64_t iterations) {
  if (!test_sanitized())
    return iterations;
  return iterations / 10 ? iterations / 10 : 1;
}

chan_t *test_chan(size_t elem_size, size_t capacity) {
  chan_t *ch = NULL;
  int rc = chan_make(&ch, current_impl, elem_size, capacity);
  if (rc != CHAN_OK)
    test_fail(__FILE__, __LINE__, "chan_make(%s, %zu, %zu): %s", current_impl,
              elem_size, capacity, chan_last_error());
  return ch;
}

test_task test_spawn(void *(*fn)(void *), void *arg) {
  test_task t = {0};
  if (!current_rt) {
    t.thread = test_thread_start(fn, arg);
    return t;
  }
  int rc = chan_fiber_spawn(current_rt, &t.fiber, fn, arg);
  if (rc != CHAN_OK) {
    fprintf(stderr, "harness: chan_fiber_spawn: %s\n", chan_last_error());
    exit(2); /* cannot continue meaningfully */
  }
  return t;
}

void *test_join(test_task t) {
  if (!t.fiber)
    return test_thread_join(t.thread);
  void *ret = NULL;
  int rc = chan_fiber_join(t.fiber, &ret);
  if (rc != CHAN_OK)
    test_fail(__FILE__, __LINE__, "chan_fiber_join: %s", chan_last_error());
  return ret;
}

void test_yield(void) {
  if (chan_fiber_yield() != CHAN_OK) /* a thread (or no fibers at all) */
    sched_yield();
}

pthread_t test_thread_start(void *(*fn)(void *), void *arg) {
  pthread_t t;
  int rc = pthread_create(&t, NULL, fn, arg);
  if (rc != 0) {
    fprintf(stderr, "harness: pthread_create: %s\n", strerror(rc));
    exit(2); /* cannot continue meaningfully */
  }
  return t;
}

void *test_thread_join(pthread_t t) {
  void *ret = NULL;
  int rc = pthread_join(t, &ret);
  if (rc != 0)
    test_fail(__FILE__, __LINE__, "pthread_join: %s", strerror(rc));
  return ret;
}

int test_thread_count(void) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f)
    return -1;
  char line[256];
  int n = -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "Threads: %d", &n) == 1)
      break;
  fclose(f);
  return n;
}

int test_goroutines(void) {
  if (!current_rt)
    return test_thread_count();
  struct chan_debug_rt_stats s;
  chan_debug_rt_stats(current_rt, &s);
  return (int)s.live;
}

int64_t test_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Waiting loops give up a little before the watchdog so the failure names
 * what was awaited. */
static bool before_watchdog(void) {
  return test_now_ns() < watchdog_deadline_ns - 500000000;
}

static bool wait_count(chan_t *ch, enum chan_dir dir, size_t n,
                       size_t (*count)(const chan_t *, enum chan_dir),
                       const char *what) {
  while (count(ch, dir) < n) {
    if (!before_watchdog()) {
      test_fail(__FILE__, __LINE__, "never saw %zu %s %s (saw %zu)", n,
                dir == CHAN_SEND ? "send" : "recv", what, count(ch, dir));
      return false;
    }
    test_yield();
  }
  return true;
}

bool test_wait_waiters(chan_t *ch, enum chan_dir dir, size_t n) {
  return wait_count(ch, dir, n, chan_debug_waiters, "waiters");
}

bool test_wait_sleepers(chan_t *ch, enum chan_dir dir, size_t n) {
  return wait_count(ch, dir, n, chan_debug_sleepers, "sleeping waiters");
}

/* ---- command line ------------------------------------------------------ */

static void appendf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void appendf(char *buf, size_t size, const char *fmt, ...) {
  size_t len = strlen(buf);
  if (len >= size)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf + len, size - len, fmt, ap);
  va_end(ap);
}

/* The harness's own options (in the order of harness_options[]); a
 * program's come after them. */
enum {
  OPT_IMPL = 0x100,
  OPT_EXECUTOR,
  OPT_FILTER,
  OPT_SEED,
  OPT_TIMEOUT,
  OPT_LIST,
  OPT_NO_FORK,
  OPT_FAIL_FAST,
  OPT_IMPL_LIB,
  OPT_LIST_IMPLS,
  OPT_EXTRA = 0x200, /* + index into program->options */
};

static const struct test_option harness_options[] = {
    {"impl", "NAME|all", "the implementation to run on (default: all)", NULL},
    {"executor", "thread|fiber|all",
     "run the tests on threads or on fibers (default: all)", NULL},
    {"filter", "SUBSTR", "only the tests whose name contains SUBSTR", NULL},
    {"seed", "N", "base seed; test i runs with N+i (default: the clock)", NULL},
    {"timeout", "SEC", NULL, NULL}, /* help written in usage() */
    {"list", NULL, "list the tests and exit", NULL},
    {"no-fork", NULL,
     "run the tests in this process (for gdb; a hang ends the run)", NULL},
    {"fail-fast", NULL, "stop at the first test that fails", NULL},
    {"impl-lib", "PATH",
     "load an implementation from a shared object first (repeatable; "
     "chan/impl.h)",
     NULL},
    {"list-impls", NULL,
     "list the registered implementations, one per line, and exit (with "
     "--impl-lib: the loaded ones too)",
     NULL},
    {NULL, NULL, NULL, NULL},
};

static void usage_line(FILE *to, const char *name, const char *value,
                       const char *help) {
  char flag[64];
  snprintf(flag, sizeof flag, "--%s%s%s", name, value ? " " : "",
           value ? value : "");
  fprintf(to, "  %-20s %s\n", flag, help);
}

static void usage(FILE *to, const char *prog,
                  const struct test_program *program) {
  fprintf(to, "usage: %s [options]\n", prog);
  for (const struct test_option *o = harness_options; o->name; o++) {
    if (strcmp(o->name, "timeout") == 0) {
      char help[256];
      snprintf(help, sizeof help, "watchdog per test, seconds (default: %s)",
               program && program->timeout_default
                   ? program->timeout_default
                   : "120, 240 under sanitizers");
      usage_line(to, o->name, o->value, help);
    } else {
      usage_line(to, o->name, o->value, o->help);
    }
  }
  for (const struct test_option *o = program ? program->options : NULL;
       o && o->name; o++)
    usage_line(to, o->name, o->value, o->help);
  fprintf(to, "  %-20s %s\n", "-h, --help", "this help");
}

bool test_parse_u64(const char *s, uint64_t *out) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 0);
  if (errno || end == s || *end || s[0] == '-')
    return false;
  *out = v;
  return true;
}

/* --impl-lib paths, kept for test_impl_libs(). */
#define MAX_IMPL_LIBS 8
static const char *impl_libs[MAX_IMPL_LIBS + 1];
static size_t nimpl_libs;

const char *const *test_impl_libs(void) {
  return impl_libs;
}

static bool impl_known(const char *name) {
  size_t n;
  const char *const *all = chan_impl_names(&n);
  for (size_t i = 0; i < n; i++)
    if (strcmp(all[i], name) == 0)
      return true;
  return false;
}

/* ---- running one test -------------------------------------------------- */

enum test_end {
  END_RETURNED, /* the test function returned; exit status 0 */
  END_HUNG,     /* killed by the watchdog */
  END_SIGNAL,   /* killed by a signal (status holds which) */
  END_STATUS,   /* exited with a status that says something went wrong */
};

static sigset_t chld_only, saved_mask;

static void *fiber_body(void *arg) {
  (*(test_fn *)arg)();
  return NULL;
}

/* Runs the test function on the current executor. Under "fiber": on a
 * fiber of a runtime started for this test, which must stop afterwards
 * (a failed test's fibers may stay blocked: its process ends anyway). */
static void run_body(test_fn fn, bool on_fibers) {
  if (!on_fibers) {
    fn();
    return;
  }
  int rc = chan_rt_start(&current_rt, NULL);
  if (rc != CHAN_OK) {
    test_fail(__FILE__, __LINE__, "chan_rt_start: %s", chan_last_error());
    return;
  }
  chan_fiber *body = NULL;
  rc = chan_fiber_spawn(current_rt, &body, fiber_body, &fn);
  if (rc != CHAN_OK) {
    test_fail(__FILE__, __LINE__, "chan_fiber_spawn: %s", chan_last_error());
    return;
  }
  chan_fiber_join(body, NULL);
  if (atomic_load(&verdict->failures))
    return;
  /* Whatever the test left running gets a moment to finish. */
  rc = chan_rt_stop(current_rt,
                    (test_sanitized() ? 5 : 2) * (int64_t)1000000000);
  if (rc != CHAN_OK) {
    test_fail(__FILE__, __LINE__, "the test left fibers behind: %s",
              chan_last_error());
    return;
  }
  chan_rt_free(current_rt);
  current_rt = NULL;
}

static void *settle_thread(void *arg) {
  return arg;
}

/* Forks the test's child and waits for it, killing it at the deadline. */
static enum test_end run_forked(test_fn fn, bool on_fibers, int *status) {
  fflush(stdout); /* else the child would print our buffer again */
  fflush(stderr);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    fprintf(stderr, "harness: fork: %s\n", strerror(errno));
    exit(2);
  }
  if (pid == 0) {
    /* If the harness dies (ctest's timeout, ^C), so does the test. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
      _exit(2);
    sigprocmask(SIG_SETMASK, &saved_mask, NULL);
    /* A runtime may start helper threads at a process's first
     * pthread_create (TSan starts its background thread then, on top of
     * the one it starts in a forked child): start one thread first, so
     * that the test's thread counts see a settled baseline. */
    test_thread_join(test_thread_start(settle_thread, NULL));
    run_body(fn, on_fibers);
    int failures = atomic_load(&verdict->failures);
    atomic_store(&verdict->returned, 1);
    fflush(stdout);
    fflush(stderr);
    /* A failed test ends its process at once, whatever its threads are
     * doing: exit_group, not _exit, which TSan intercepts to wait a
     * second for stray threads to show their races. */
    if (failures)
      syscall(SYS_exit_group, 1);
    exit(0); /* at-exit checks: LeakSanitizer, TSan's thread leaks */
  }
  for (;;) {
    pid_t got = waitpid(pid, status, WNOHANG);
    if (got == pid)
      break;
    if (got < 0 && errno != EINTR) {
      fprintf(stderr, "harness: waitpid: %s\n", strerror(errno));
      exit(2);
    }
    int64_t left = watchdog_deadline_ns - test_now_ns();
    if (left <= 0) {
      kill(pid, SIGKILL);
      while (waitpid(pid, status, 0) < 0 && errno == EINTR) {
      }
      return END_HUNG;
    }
    /* SIGCHLD is blocked, so an exit between waitpid and here stays
     * pending and ends this wait at once. */
    struct timespec ts = {(time_t)(left / 1000000000),
                          (long)(left % 1000000000)};
    sigtimedwait(&chld_only, NULL, &ts);
  }
  if (WIFSIGNALED(*status))
    return END_SIGNAL;
  if (WEXITSTATUS(*status) != 0 || !atomic_load(&verdict->returned))
    return END_STATUS;
  return END_RETURNED;
}

/* --no-fork: the test runs here; the watchdog is an alarm whose handler
 * writes the line prepared before the test and ends the program. */
static char alarm_message[2048];
static size_t alarm_message_len;

static void alarm_handler(int sig) {
  (void)sig;
  ssize_t n = write(STDERR_FILENO, alarm_message, alarm_message_len);
  (void)n;
  _exit(3);
}

static void watchdog_message(char *buf, size_t size, int timeout_s) {
  snprintf(
      buf, size,
      "WATCHDOG: test %s on impl %s executor %s hung for %d s (seed %" PRIu64
      "); replay: %s\n",
      current_test, current_impl, current_executor, timeout_s, current_seed,
      replay_line);
}

static enum test_end run_here(test_fn fn, bool on_fibers, int timeout_s) {
  watchdog_message(alarm_message, sizeof alarm_message, timeout_s);
  alarm_message_len = strlen(alarm_message);
  alarm((unsigned)timeout_s);
  run_body(fn, on_fibers);
  alarm(0);
  atomic_store(&verdict->returned, 1);
  return END_RETURNED;
}

/* Runs one test on one implementation and executor and says how it went;
 * true if it passed. */
static bool run_test(const struct test_entry *t, size_t index, const char *impl,
                     const char *executor, int timeout_s, bool fork_each) {
  current_impl = impl;
  current_executor = executor;
  bool on_fibers = strcmp(executor, "fiber") == 0;
  current_test = t->name;
  current_seed = base_seed + index;
  chan_select_seed(current_seed);
  atomic_store(&verdict->failures, 0);
  atomic_store(&verdict->returned, 0);
  snprintf(replay_line, sizeof replay_line,
           "%s --impl %s --executor %s --filter %s --seed %" PRIu64,
           replay_prefix, impl, executor, t->name, base_seed);
  printf("[ RUN  ] %s/%s/%s (seed %" PRIu64 ")\n", t->name, impl, executor,
         current_seed);
  fflush(stdout);

  int64_t start = test_now_ns();
  watchdog_deadline_ns = start + (int64_t)timeout_s * 1000000000;
  int status = 0;
  enum test_end end = fork_each ? run_forked(t->fn, on_fibers, &status)
                                : run_here(t->fn, on_fibers, timeout_s);
  double ms = (double)(test_now_ns() - start) / 1e6;

  switch (end) {
  case END_RETURNED:
    break;
  case END_HUNG: {
    char line[2048];
    watchdog_message(line, sizeof line, timeout_s);
    fputs(line, stderr);
    break;
  }
  case END_SIGNAL:
    fprintf(stderr,
            "CRASH: test %s on impl %s executor %s died of signal %d (%s)%s "
            "(seed %" PRIu64 "); replay: %s\n",
            t->name, impl, executor, WTERMSIG(status),
            strsignal(WTERMSIG(status)),
            atomic_load(&verdict->returned) ? " after it returned" : "",
            current_seed, replay_line);
    break;
  case END_STATUS:
    /* A failed test that returned exits with 1 on purpose; anything else
     * is news. */
    if (!atomic_load(&verdict->returned) ||
        atomic_load(&verdict->failures) == 0)
      fprintf(stderr,
              "EXIT: test %s on impl %s executor %s: its process exited with "
              "status %d %s (a sanitizer report above?) (seed %" PRIu64
              "); replay: %s\n",
              t->name, impl, executor, WEXITSTATUS(status),
              atomic_load(&verdict->returned) ? "after the test returned"
                                              : "before the test returned",
              current_seed, replay_line);
    break;
  }
  fflush(stderr);
  bool passed = end == END_RETURNED && atomic_load(&verdict->failures) == 0;
  if (passed)
    printf("[   OK ] %s/%s/%s (%.1f ms)\n", t->name, impl, executor, ms);
  else
    printf("[ FAIL ] %s/%s/%s (%.1f ms); replay: %s\n", t->name, impl, executor,
           ms, replay_line);
  fflush(stdout);
  return passed;
}

/* ---- test_main --------------------------------------------------------- */

int test_main(int argc, char **argv, const struct test_program *program) {
  const char *prog = argv[0];
  const struct test_option *extra = program ? program->options : NULL;
  size_t nextra = 0;
  while (extra && extra[nextra].name)
    nextra++;
  if (nextra > MAX_OPTIONS) {
    fprintf(stderr, "harness: more than %d program options\n", MAX_OPTIONS);
    return 2;
  }

  struct option longopts[16 + MAX_OPTIONS];
  size_t nlong = 0;
  for (size_t i = 0; harness_options[i].name; i++)
    longopts[nlong++] = (struct option){
        harness_options[i].name,
        harness_options[i].value ? required_argument : no_argument, NULL,
        OPT_IMPL + (int)i};
  for (size_t i = 0; i < nextra; i++)
    longopts[nlong++] = (struct option){
        extra[i].name, extra[i].value ? required_argument : no_argument, NULL,
        OPT_EXTRA + (int)i};
  longopts[nlong++] = (struct option){"help", no_argument, NULL, 'h'};
  longopts[nlong] = (struct option){NULL, 0, NULL, 0};

  struct test_config cfg = {.impl = "all",
                            .executor = "all",
                            .timeout_s = test_sanitized() ? 240 : 120};
  const char *filter = NULL;
  bool list = false, list_impls = false, fork_each = true, fail_fast = false;
  char given[512] = ""; /* the program's options as given, for replays */

  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
    uint64_t n;
    switch (c) {
    case OPT_IMPL: /* checked after every --impl-lib is loaded */
      cfg.impl = optarg;
      break;
    case OPT_IMPL_LIB:
      if (nimpl_libs == MAX_IMPL_LIBS) {
        fprintf(stderr, "%s: at most %d --impl-lib\n", prog, MAX_IMPL_LIBS);
        return 2;
      }
      impl_libs[nimpl_libs++] = optarg;
      if (chan_impl_load(optarg) != CHAN_OK) {
        fprintf(stderr, "%s: --impl-lib: %s\n", prog, chan_last_error());
        return 2;
      }
      /* A replay must load it too. */
      appendf(given, sizeof given, " --impl-lib %s", optarg);
      break;
    case OPT_EXECUTOR: {
      bool known = strcmp(optarg, "all") == 0;
      for (size_t i = 0; i < NEXECUTORS; i++)
        known |= strcmp(optarg, executors[i]) == 0;
      if (!known) {
        fprintf(stderr, "%s: unknown executor '%s' (thread, fiber or all)\n",
                prog, optarg);
        return 2;
      }
#ifdef CHAN_NO_FIBERS
      if (strcmp(optarg, "fiber") == 0) {
        fprintf(stderr,
                "%s: --executor fiber: this libchan was built without the "
                "fiber runtime (CHAN_FIBERS=OFF); only 'thread' runs\n",
                prog);
        return 2;
      }
#endif
      cfg.executor = optarg;
      break;
    }
    case OPT_FILTER:
      filter = optarg;
      break;
    case OPT_SEED:
      if (!test_parse_u64(optarg, &cfg.seed)) {
        fprintf(stderr, "%s: --seed needs a number, not '%s'\n", prog, optarg);
        return 2;
      }
      cfg.seed_given = true;
      break;
    case OPT_TIMEOUT:
      if (!test_parse_u64(optarg, &n) || n == 0 || n > 86400) {
        fprintf(stderr, "%s: --timeout needs seconds in 1..86400, not '%s'\n",
                prog, optarg);
        return 2;
      }
      cfg.timeout_s = (int)n;
      cfg.timeout_given = true;
      break;
    case OPT_LIST:
      list = true;
      break;
    case OPT_LIST_IMPLS:
      list_impls = true;
      break;
    case OPT_NO_FORK:
      fork_each = false;
      break;
    case OPT_FAIL_FAST:
      fail_fast = true;
      break;
    case 'h':
      usage(stdout, prog, program);
      return 0;
    case ':':
      fprintf(stderr, "%s: %s needs a value\n", prog, argv[optind - 1]);
      usage(stderr, prog, program);
      return 2;
    case '?':
      fprintf(stderr, "%s: unknown or malformed option '%s'\n", prog,
              argv[optind - 1]);
      usage(stderr, prog, program);
      return 2;
    default: {
      const struct test_option *o = &extra[c - OPT_EXTRA];
      const char *err = o->set(optarg);
      if (err) {
        fprintf(stderr, "%s: --%s %s, not '%s'\n", prog, o->name, err,
                optarg ? optarg : "");
        return 2;
      }
      appendf(given, sizeof given, " --%s%s%s", o->name, optarg ? " " : "",
              optarg ? optarg : "");
    }
    }
  }
  if (optind < argc) {
    fprintf(stderr, "%s: unexpected argument '%s'\n", prog, argv[optind]);
    usage(stderr, prog, program);
    return 2;
  }
  if (list_impls) {
    size_t count;
    const char *const *all = chan_impl_names(&count);
    for (size_t i = 0; i < count; i++)
      printf("%s\n", all[i]);
    return 0;
  }
  if (strcmp(cfg.impl, "all") != 0 && !impl_known(cfg.impl)) {
    size_t count;
    const char *const *all = chan_impl_names(&count);
    fprintf(stderr, "%s: unknown implementation '%s' (registered:", prog,
            cfg.impl);
    for (size_t i = 0; i < count; i++)
      fprintf(stderr, " %s", all[i]);
    fprintf(stderr, ")\n");
    return 2;
  }

  if (!cfg.seed_given)
    cfg.seed = (uint64_t)test_now_ns() ^ ((uint64_t)getpid() << 32);
#ifdef CHAN_CHAOS
  /* Chaos injections follow the run's seed unless one is forced; each
   * test's child starts the injection streams afresh, so a replay of one
   * test sees the same injections. */
  if (!getenv("CHAN_CHAOS_SEED")) {
    char s[32];
    snprintf(s, sizeof s, "%" PRIu64, cfg.seed);
    setenv("CHAN_CHAOS_SEED", s, 1);
  }
  appendf(replay_prefix, sizeof replay_prefix, "CHAN_CHAOS_SEED=%s ",
          getenv("CHAN_CHAOS_SEED"));
#endif
  appendf(replay_prefix, sizeof replay_prefix, "%s%s", prog, given);

  if (program && program->setup) {
    int rc = program->setup(&cfg);
    if (rc >= 0)
      return rc;
  }
  base_seed = cfg.seed;

  if (list) {
    for (size_t t = 0; t < ntests; t++)
      if (!filter || strstr(tests[t].name, filter))
        printf("%s\n", tests[t].name);
    return 0;
  }

  size_t nimpls;
  const char *const *all = chan_impl_names(&nimpls);
  const char *one[2] = {cfg.impl, NULL};
  const char *const *impls = strcmp(cfg.impl, "all") == 0 ? all : one;

  setvbuf(stdout, NULL, _IOLBF, 0);
  if (fork_each) {
    void *page = mmap(NULL, sizeof(struct test_verdict), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) {
      fprintf(stderr, "harness: mmap: %s\n", strerror(errno));
      return 2;
    }
    verdict = page;
    sigemptyset(&chld_only);
    sigaddset(&chld_only, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld_only, &saved_mask);
  } else {
    signal(SIGALRM, alarm_handler);
  }

  printf("harness: seed %" PRIu64 " (replay with --seed %" PRIu64 ")%s%s\n",
         base_seed, base_seed,
         test_sanitized() ? ", sanitizer build: scaled down" : "",
         fork_each ? "" : ", --no-fork: tests share this process");
#ifdef CHAN_CHAOS
  printf("harness: chaos build, CHAN_CHAOS_SEED=%s\n",
         getenv("CHAN_CHAOS_SEED"));
#endif

  int passed = 0, failed = 0;
  for (size_t e = 0; e < NEXECUTORS && !(fail_fast && failed); e++) {
    if (!program_runs_on[e] || (strcmp(cfg.executor, "all") != 0 &&
                                strcmp(cfg.executor, executors[e]) != 0))
      continue;
    for (const char *const *impl = impls; *impl && !(fail_fast && failed);
         impl++)
      for (size_t t = 0; t < ntests && !(fail_fast && failed); t++) {
        if (filter && !strstr(tests[t].name, filter))
          continue;
        if (run_test(&tests[t], t, *impl, executors[e], cfg.timeout_s,
                     fork_each))
          passed++;
        else
          failed++;
      }
  }
  printf("%d passed, %d failed\n", passed, failed);
  if (passed + failed == 0) {
    fprintf(stderr, "%s: no test matched\n", prog);
    return 2;
  }
  return failed ? 1 : 0;
}
