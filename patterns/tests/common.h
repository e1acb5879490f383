/*
 * common.h - helpers shared by the pattern tests: item channels, counting
 * generators, draining, and the no-thread-leak check.
 */
#ifndef PATTERNS_TESTS_COMMON_H
#define PATTERNS_TESTS_COMMON_H

#include "harness.h"

#include <chan/chan_debug.h>
#include <chan/patterns.h>

#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Polls (yielding, never sleeping) until the test is back to its baseline
 * of goroutines (threads, or fibers: test_goroutines): joined threads can
 * linger a moment in /proc after the join. */
static inline void check_threads_back(int baseline, const char *file,
                                      int line) {
  int64_t deadline = test_now_ns() + 10 * (int64_t)1000000000;
  int n;
  while ((n = test_goroutines()) != baseline && test_now_ns() < deadline)
    test_yield();
  if (n != baseline)
    test_fail(file, line, "%d %ss alive, baseline %d: one leaked", n,
              test_executor(), baseline);
}
#define CHECK_THREADS_BACK(b) check_threads_back((b), __FILE__, __LINE__)

/* Cancellation must be prompt: far below the watchdog, generous for
 * sanitizers on a loaded 2-core machine. */
#define PROMPT_NS ((int64_t)(test_sanitized() ? 5000000000 : 2000000000))
#define CHECK_PROMPT(start_ns)                                                 \
  do {                                                                         \
    int64_t took_ = test_now_ns() - (start_ns);                                \
    if (took_ > PROMPT_NS)                                                     \
      test_fail(__FILE__, __LINE__, "took %.1f ms: not prompt",                \
                (double)took_ / 1e6);                                          \
  } while (0)

/* Waits (yielding) until *counter reaches n, failing before the watchdog. */
static inline bool wait_count(atomic_int *counter, int n, const char *file,
                              int line) {
  int64_t deadline = test_now_ns() + 60 * (int64_t)1000000000;
  while (atomic_load(counter) < n) {
    if (test_now_ns() > deadline) {
      test_fail(file, line, "counter stuck at %d, wanted %d",
                atomic_load(counter), n);
      return false;
    }
    test_yield();
  }
  return true;
}
#define WAIT_COUNT(c, n) wait_count((c), (n), __FILE__, __LINE__)

static inline chan_t *item_chan(size_t cap) {
  return test_chan(sizeof(pat_item), cap);
}

/* Generator: 0, 1, 2, ... up to *(uint64_t *)arg values (NULL: forever). */
static inline int gen_count(pat_ctx *ctx, void *arg, uint64_t i, void *out) {
  (void)ctx;
  if (arg && i >= *(uint64_t *)arg)
    return PAT_STOP;
  pat_item v = (pat_item)i;
  memcpy(out, &v, sizeof v);
  return PAT_OK;
}

/* Receives until closed; returns how many (at most max stored). */
static inline size_t drain(chan_t *ch, pat_item *buf, size_t max) {
  size_t n = 0;
  pat_item v;
  while (chan_recv(ch, &v) == CHAN_OK) {
    if (buf && n < max)
      buf[n] = v;
    n++;
  }
  return n;
}

static inline int cmp_item(const void *a, const void *b) {
  pat_item x = *(const pat_item *)a, y = *(const pat_item *)b;
  return (x > y) - (x < y);
}

/* received == sent + filtered + failed + dropped + canceled */
static inline void check_accounted(pat_proc *p, const char *file, int line) {
  struct pat_stats s;
  pat_proc_stats(p, &s);
  uint64_t out = s.sent + s.filtered + s.failed + s.dropped + s.canceled;
  if (s.received != out)
    test_fail(file, line,
              "lost values: received %llu != sent %llu + filtered %llu + "
              "failed %llu + dropped %llu + canceled %llu",
              (unsigned long long)s.received, (unsigned long long)s.sent,
              (unsigned long long)s.filtered, (unsigned long long)s.failed,
              (unsigned long long)s.dropped, (unsigned long long)s.canceled);
}
#define CHECK_ACCOUNTED(p) check_accounted((p), __FILE__, __LINE__)

#endif
