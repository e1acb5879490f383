/*
 * options.c - the stress drivers' own options and their main(): --seconds,
 * --threads, --capacity and --child go to the harness's entry point
 * (test_main, tests/harness.h) beside its own options; the setup hook
 * turns --child into a run of one child function instead of the tests and
 * derives the default watchdog from --seconds. See stress.h ("options").
 * The harness's own options come too, --impl-lib PATH among them (a
 * loaded implementation, chan/impl.h): it is loaded before --impl is
 * checked, and stress_run_child passes it on to the child it executes.
 */
#include "stress.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double opt_seconds = 2.0;
static int opt_threads; /* 0: the test's default */
static size_t opt_capacity;
static bool opt_capacity_given;
static const char *opt_child;

double stress_seconds(void) {
  return opt_seconds;
}

int stress_threads_or(int fallback) {
  return opt_threads > 0 ? opt_threads : fallback;
}

size_t stress_capacity_or(size_t fallback) {
  return opt_capacity_given ? opt_capacity : fallback;
}

bool stress_capacity_given(void) {
  return opt_capacity_given;
}

static const char *set_seconds(const char *v) {
  char *end;
  double s = strtod(v, &end);
  if (end == v || *end || !(s > 0) || s > 1e6)
    return "needs a positive number of seconds";
  opt_seconds = s;
  return NULL;
}

static const char *set_threads(const char *v) {
  uint64_t n;
  if (!test_parse_u64(v, &n) || n < 2 || n > 1024)
    return "needs a number in 2..1024";
  opt_threads = (int)n;
  return NULL;
}

static const char *set_capacity(const char *v) {
  uint64_t n;
  if (!test_parse_u64(v, &n) || n > (1u << 20))
    return "needs a number in 0..1048576";
  opt_capacity = (size_t)n;
  opt_capacity_given = true;
  return NULL;
}

static const char *set_child(const char *v) {
  opt_child = v;
  return NULL;
}

static int setup(struct test_config *cfg) {
  if (opt_child) {
    if (strcmp(cfg->impl, "all") == 0 || !cfg->seed_given) {
      fprintf(stderr, "stress: --child needs --impl NAME and --seed\n");
      return 2;
    }
    return stress_child_main(opt_child, cfg->impl, cfg->seed);
  }
  if (!cfg->timeout_given)
    cfg->timeout_s = (int)ceil(3 * opt_seconds + (test_sanitized() ? 120 : 30));
  stress_heap_setup();
  return -1;
}

static const struct test_option options[] = {
    {"seconds", "S", "wall-clock budget of each test (default 2)", set_seconds},
    {"threads", "N", "thread count, instead of each test's default",
     set_threads},
    {"capacity", "C", "channel capacity, instead of each test's mix",
     set_capacity},
    {"child", "NAME", "run child function NAME (internal: stress_run_child)",
     set_child},
    {NULL, NULL, NULL, NULL},
};

static const struct test_program program = {
    .options = options,
    .timeout_default = "3*S + 30, + 120 under sanitizers",
    .setup = setup,
};

int main(int argc, char **argv) {
  return test_main(argc, argv, &program);
}
