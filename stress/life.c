/*
 * life.c - a stress test's life: it starts by printing the exact command
 * that replays it and takes its deadline from --seconds; it runs until the
 * deadline or its first failure (which stops its loops early and prints
 * only the first few messages); it joins what it started and ends with a
 * line saying what it did. See stress.h ("a test's life").
 */
#include "stress.h"

#include <stdarg.h>

static atomic_bool failing;
static atomic_int fail_messages;

int64_t stress_begin(const char *test) {
  atomic_store(&failing, false);
  atomic_store(&fail_messages, 0);
  printf("stress: %s/%s replay: %s\n", test, test_impl(), test_replay());
  fflush(stdout);
  return test_now_ns() + (int64_t)(stress_seconds() * 1e9);
}

bool stress_before(int64_t deadline_ns) {
  return !atomic_load_explicit(&failing, memory_order_relaxed) &&
         test_now_ns() < deadline_ns;
}

void stress_report(const char *test, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  printf("stress: %s/%s: %s\n", test, test_impl(), msg);
  fflush(stdout);
}

bool stress_failing(void) {
  return atomic_load_explicit(&failing, memory_order_relaxed);
}

void stress_failf(const char *file, int line, const char *fmt, ...) {
  atomic_store(&failing, true);
  int n = atomic_fetch_add(&fail_messages, 1);
  if (n > 8)
    return; /* the first few say it; the test already failed */
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  test_fail(file, line, "%s%s", msg,
            n == 8 ? " (further failures of this test not shown)" : "");
}

void stress_join_all(test_task *threads, size_t n) {
  for (size_t i = 0; i < n; i++)
    test_join(threads[i]);
}
