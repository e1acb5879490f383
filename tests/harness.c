/* harness.c - main(), watchdog, seeds and summary for the test programs. */
#include "harness.h"

#include <chan/chan_debug.h>

#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_TESTS 512

struct test_entry {
  const char *name;
  const char *file;
  test_fn fn;
};

static struct test_entry tests[MAX_TESTS];
static size_t ntests;

static const char *current_impl = "";
static const char *current_test = "";
static uint64_t current_seed;
static atomic_int current_failures;
static int64_t watchdog_deadline_ns;

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
  atomic_fetch_add(&current_failures, 1);
}

const char *test_impl(void) {
  return current_impl;
}

uint64_t test_seed(void) {
  return current_seed;
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

bool test_wait_waiters(chan_t *ch, enum chan_dir dir, size_t n) {
  while (chan_debug_waiters(ch, dir) < n) {
    if (!before_watchdog()) {
      test_fail(__FILE__, __LINE__, "never saw %zu %s waiters (saw %zu)", n,
                dir == CHAN_SEND ? "send" : "recv",
                chan_debug_waiters(ch, dir));
      return false;
    }
    sched_yield();
  }
  return true;
}

/* ---- watchdog ---------------------------------------------------------- */

static pthread_mutex_t watchdog_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t watchdog_cv;
static bool watchdog_armed;
static unsigned watchdog_generation;

static void *watchdog_main(void *arg) {
  (void)arg;
  pthread_mutex_lock(&watchdog_mu);
  for (;;) {
    while (!watchdog_armed)
      pthread_cond_wait(&watchdog_cv, &watchdog_mu);
    unsigned gen = watchdog_generation;
    struct timespec deadline = {
        .tv_sec = (time_t)(watchdog_deadline_ns / 1000000000),
        .tv_nsec = (long)(watchdog_deadline_ns % 1000000000)};
    int rc = 0;
    while (watchdog_armed && gen == watchdog_generation && rc != ETIMEDOUT)
      rc = pthread_cond_timedwait(&watchdog_cv, &watchdog_mu, &deadline);
    if (rc == ETIMEDOUT && watchdog_armed && gen == watchdog_generation) {
      fprintf(stderr,
              "WATCHDOG: test %s on impl %s hung (seed %" PRIu64
              "); replay with --impl %s --filter %s --seed %" PRIu64 "\n",
              current_test, current_impl, current_seed, current_impl,
              current_test, current_seed);
      fflush(stderr);
      _exit(3);
    }
  }
  return NULL;
}

static void watchdog_arm(int seconds) {
  pthread_mutex_lock(&watchdog_mu);
  watchdog_deadline_ns = test_now_ns() + (int64_t)seconds * 1000000000;
  watchdog_armed = true;
  watchdog_generation++;
  pthread_cond_broadcast(&watchdog_cv);
  pthread_mutex_unlock(&watchdog_mu);
}

static void watchdog_disarm(void) {
  pthread_mutex_lock(&watchdog_mu);
  watchdog_armed = false;
  watchdog_generation++;
  pthread_cond_broadcast(&watchdog_cv);
  pthread_mutex_unlock(&watchdog_mu);
}

/* ---- main -------------------------------------------------------------- */

static void usage(FILE *to, const char *prog) {
  fprintf(to,
          "usage: %s [--impl NAME|all] [--filter SUBSTR] [--seed N]\n"
          "          [--timeout SECONDS] [--list]\n",
          prog);
}

int main(int argc, char **argv) {
  const char *impl_arg = "all", *filter = NULL;
  bool list = false, seed_given = false;
  uint64_t seed = 0;
  int timeout = test_sanitized() ? 240 : 120;

  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    bool has_value = i + 1 < argc;
    if (!strcmp(a, "--impl") && has_value) {
      impl_arg = argv[++i];
    } else if (!strcmp(a, "--filter") && has_value) {
      filter = argv[++i];
    } else if (!strcmp(a, "--seed") && has_value) {
      char *end;
      seed = strtoull(argv[++i], &end, 0);
      if (*end) {
        fprintf(stderr, "%s: --seed needs a number, not '%s'\n", argv[0],
                argv[i]);
        return 2;
      }
      seed_given = true;
    } else if (!strcmp(a, "--timeout") && has_value) {
      timeout = atoi(argv[++i]);
      if (timeout <= 0) {
        fprintf(stderr, "%s: --timeout needs a positive number\n", argv[0]);
        return 2;
      }
    } else if (!strcmp(a, "--list")) {
      list = true;
    } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout, argv[0]);
      return 0;
    } else {
      fprintf(stderr, "%s: unknown or incomplete argument '%s'\n", argv[0], a);
      usage(stderr, argv[0]);
      return 2;
    }
  }

  size_t nimpls;
  const char *const *all = chan_impl_names(&nimpls);
  const char *one[2] = {impl_arg, NULL};
  const char *const *impls = all;
  if (strcmp(impl_arg, "all") != 0) {
    bool known = false;
    for (size_t i = 0; i < nimpls; i++)
      known |= !strcmp(all[i], impl_arg);
    if (!known) {
      fprintf(stderr, "%s: unknown implementation '%s' (registered:", argv[0],
              impl_arg);
      for (size_t i = 0; i < nimpls; i++)
        fprintf(stderr, " %s", all[i]);
      fprintf(stderr, ")\n");
      return 2;
    }
    impls = one;
  }

  if (list) {
    for (size_t t = 0; t < ntests; t++)
      if (!filter || strstr(tests[t].name, filter))
        printf("%s\n", tests[t].name);
    return 0;
  }

  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&watchdog_cv, &attr);
  pthread_condattr_destroy(&attr);
  pthread_t watchdog;
  pthread_create(&watchdog, NULL, watchdog_main, NULL);
  pthread_detach(watchdog);

  if (!seed_given)
    seed = (uint64_t)test_now_ns() ^ ((uint64_t)getpid() << 32);
  printf("harness: seed %" PRIu64 " (replay with --seed %" PRIu64 ")%s\n", seed,
         seed, test_sanitized() ? ", sanitizer build: scaled down" : "");

  int passed = 0, failed = 0;
  for (const char *const *impl = impls; *impl; impl++) {
    for (size_t t = 0; t < ntests; t++) {
      if (filter && !strstr(tests[t].name, filter))
        continue;
      current_impl = *impl;
      current_test = tests[t].name;
      current_seed = seed + t;
      chan_select_seed(current_seed);
      atomic_store(&current_failures, 0);
      printf("[ RUN  ] %s/%s (seed %" PRIu64 ")\n", tests[t].name, *impl,
             current_seed);
      fflush(stdout);
      int64_t start = test_now_ns();
      watchdog_arm(timeout);
      tests[t].fn();
      watchdog_disarm();
      double ms = (double)(test_now_ns() - start) / 1e6;
      if (atomic_load(&current_failures) == 0) {
        passed++;
        printf("[   OK ] %s/%s (%.1f ms)\n", tests[t].name, *impl, ms);
      } else {
        failed++;
        printf("[ FAIL ] %s/%s (%.1f ms); replay: %s --impl %s --filter %s "
               "--seed %" PRIu64 "\n",
               tests[t].name, *impl, ms, argv[0], *impl, tests[t].name, seed);
      }
      fflush(stdout);
    }
  }
  printf("%d passed, %d failed\n", passed, failed);
  if (passed + failed == 0) {
    fprintf(stderr, "%s: no test matched\n", argv[0]);
    return 2;
  }
  return failed ? 1 : 0;
}
