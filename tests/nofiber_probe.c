/*
 * nofiber_probe.c - built only in a thread-only libchan (CHAN_FIBERS=OFF):
 * the fiber entry points link and say CHAN_ENOTSUP with a message naming
 * the build option, and channels still block and wake threads (their
 * parkers never see a fiber). Run by tests/thread_only_build.cmake.
 */
#include <chan/chan.h>
#include <chan/chan_debug.h>
#include <chan/fiber.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

static void expect_enotsup(const char *call, int rc) {
  const char *msg = chan_last_error();
  if (rc != CHAN_ENOTSUP || !strstr(msg, "built without the fiber runtime") ||
      !strstr(msg, "CHAN_FIBERS=OFF")) {
    fprintf(stderr, "FAIL %s: returned %d (%s), message '%s'\n", call, rc,
            chan_strerror(rc), msg);
    failures++;
  } else {
    printf("ok   %s: %s: %s\n", call, chan_strerror(rc), msg);
  }
}

static void *fiber_fn(void *arg) {
  return arg;
}

static void *receiver(void *arg) {
  int v = 0;
  if (chan_recv(arg, &v) != CHAN_OK || v != 42)
    return (void *)1;
  return NULL;
}

int main(void) {
  chan_rt *rt = (chan_rt *)&failures; /* must be overwritten with NULL */
  expect_enotsup("chan_rt_start", chan_rt_start(&rt, NULL));
  if (rt) {
    fprintf(stderr, "FAIL chan_rt_start: *out not NULL\n");
    failures++;
  }
  chan_fiber *f = NULL;
  expect_enotsup("chan_fiber_spawn",
                 chan_fiber_spawn(rt, &f, fiber_fn, NULL));
  expect_enotsup("chan_fiber_join", chan_fiber_join(f, NULL));
  expect_enotsup("chan_fiber_yield", chan_fiber_yield());
  expect_enotsup("chan_fiber_exit", chan_fiber_exit(NULL));
  expect_enotsup("chan_rt_stop", chan_rt_stop(rt, CHAN_FOREVER));
  expect_enotsup("chan_rt_free", chan_rt_free(rt));
  if (chan_fiber_self() || chan_fiber_runtime() || chan_rt_workers(NULL) ||
      chan_fiber_sleep(1000) != CHAN_OK) {
    fprintf(stderr, "FAIL self/runtime/workers/sleep\n");
    failures++;
  }

  /* A blocked thread still parks and is woken (futex and condvar). */
  const char *impls[] = {"futex", "mutex", "ring"};
  for (size_t i = 0; i < 3; i++) {
    chan_t *c;
    if (chan_make(&c, impls[i], sizeof(int), 0) != CHAN_OK) {
      fprintf(stderr, "FAIL chan_make %s: %s\n", impls[i], chan_last_error());
      return 1;
    }
    pthread_t t;
    pthread_create(&t, NULL, receiver, c);
    int v = 42;
    void *ret;
    if (chan_send(c, &v) != CHAN_OK || pthread_join(t, &ret) != 0 || ret) {
      fprintf(stderr, "FAIL hand-off on %s\n", impls[i]);
      failures++;
    }
    chan_destroy(c);
  }
  printf("%s\n", failures ? "FAILED" : "nofiber_probe: all passed");
  return failures != 0;
}
