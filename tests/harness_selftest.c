/*
 * harness_selftest.c - a test program whose tests misbehave on purpose, to
 * show that the harness contains them (tests/harness_selftest.sh runs it
 * and checks what the harness reports). In order:
 *
 *   fails_while_its_thread_runs  fails (REQUIRE returns) while a thread it
 *                                started runs on and would abort the
 *                                process a little later;
 *   hangs                        blocks for good on a channel nobody uses;
 *   crashes                      dies of SIGABRT;
 *   runs_after_the_others        must still run, and pass, after all that
 *                                (and after the stray thread's deadline);
 *   leaves_a_fiber_blocked       on fibers: returns while a fiber it
 *                                started stays blocked (on threads it does
 *                                nothing and passes).
 *
 * The harness must report the failure at once, the hang through its
 * watchdog, the crash naming the signal, and end with "2 passed, 3 failed"
 * and a non-zero status, long before the stray thread could have struck
 * and without the stray thread's message ever appearing.
 */
#include "harness.h"

#include <stdatomic.h>
#include <stdlib.h>

/* How long the stray thread waits before it aborts the process: past the
 * end of the failed test, well inside the tests that follow it. */
#define STRAY_DELAY_NS ((int64_t)300000000)

static atomic_int test_returned;

static void *stray_main(void *arg) {
  int *on_dead_stack = arg;
  while (!atomic_load(&test_returned))
    sched_yield();
  /* Simulates what a stray thread of a failed test does later on: it
   * touches the failed test's stack and brings the process down. Waiting
   * out a delay here is the point, not an ordering of events. */
  int64_t until = test_now_ns() + STRAY_DELAY_NS;
  while (test_now_ns() < until)
    sched_yield();
  fprintf(stderr, "harness_selftest: STRAY THREAD of a failed test "
                  "still running: aborting the process\n");
  *on_dead_stack = 0;
  abort();
}

TEST(fails_while_its_thread_runs) {
  int on_stack = 1;
  pthread_t t = test_thread_start(stray_main, &on_stack);
  pthread_detach(t);
  atomic_store(&test_returned, 1); /* about to return (REQUIRE below) */
  REQUIRE(on_stack == 0);          /* fails on purpose */
}

TEST(hangs) {
  chan_t *ch = test_chan(sizeof(int), 0);
  REQUIRE(ch);
  int v;
  chan_recv(ch, &v); /* nobody sends: blocks for good */
  test_fail(__FILE__, __LINE__, "chan_recv on an idle channel returned");
}

TEST(crashes) {
  abort();
}

static void *block_for_good(void *ch) {
  chan_recv(ch, NULL); /* nobody sends */
  return NULL;
}

TEST(leaves_a_fiber_blocked) {
  if (!test_on_fibers())
    return;
  chan_t *ch = test_chan(0, 0);
  REQUIRE(ch);
  test_spawn(block_for_good, ch); /* never joined: the runtime cannot stop */
  test_wait_waiters(ch, CHAN_RECV, 1);
}

TEST(runs_after_the_others) {
  chan_t *ch = test_chan(sizeof(int), 1);
  REQUIRE(ch);
  int v = 42, got = 0;
  CHECK_STATUS(chan_send(ch, &v), CHAN_OK);
  CHECK_STATUS(chan_recv(ch, &got), CHAN_OK);
  CHECK_EQ(got, 42);
  CHECK_EQ(chan_destroy(ch), CHAN_OK);
}
