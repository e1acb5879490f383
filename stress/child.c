/*
 * child.c - child processes for work that must leave a thread blocked on
 * purpose: a driver runs such work as a fresh exec of itself with --child
 * NAME, so the test's own process keeps its thread and leak checks
 * meaningful. See stress.h ("children").
 */
#include "stress.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_CHILDREN 32
static struct {
  const char *name;
  stress_child_fn fn;
} children[MAX_CHILDREN];
static size_t nchildren;

void stress_child_register(const char *name, stress_child_fn fn) {
  if (nchildren == MAX_CHILDREN) {
    fprintf(stderr, "stress: too many child functions\n");
    exit(2);
  }
  children[nchildren].name = name;
  children[nchildren].fn = fn;
  nchildren++;
}

void stress_run_child(const char *name, double timeout_s) {
  char seed[32];
  snprintf(seed, sizeof seed, "%" PRIu64, test_seed());
  /* The child is a fresh process: it must load what this one loaded
   * (--impl-lib) before its --impl can name a loaded implementation. */
  char *argv[32] = {"stress-child",      "--child", (char *)name, "--impl",
                    (char *)test_impl(), "--seed",  seed};
  int argc = 7;
  for (const char *const *lib = test_impl_libs(); *lib && argc < 30; lib++) {
    argv[argc++] = "--impl-lib";
    argv[argc++] = (char *)*lib;
  }
  argv[argc] = NULL;
  pid_t pid;
  int rc = posix_spawn(&pid, "/proc/self/exe", NULL, NULL, argv, environ);
  if (rc != 0) {
    STRESS_FAIL("cannot start child %s: %s", name, strerror(rc));
    return;
  }
  int64_t deadline = test_now_ns() + (int64_t)(timeout_s * 1e9);
  int status = 0;
  for (;;) {
    pid_t got = waitpid(pid, &status, WNOHANG);
    if (got == pid)
      break;
    if (got < 0 && errno != EINTR) {
      STRESS_FAIL("waitpid(child %s): %s", name, strerror(errno));
      return;
    }
    if (test_now_ns() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      STRESS_FAIL("child %s hung for %.0f s (killed)", name, timeout_s);
      return;
    }
    /* Polling a process's exit, not ordering events between threads. */
    nanosleep(&(struct timespec){0, 2000000}, NULL);
  }
  if (WIFSIGNALED(status))
    STRESS_FAIL("child %s died of signal %d", name, WTERMSIG(status));
  else if (WEXITSTATUS(status) != 0)
    STRESS_FAIL("child %s failed (exit status %d; its messages are above)",
                name, WEXITSTATUS(status));
}

int stress_child_main(const char *name, const char *impl, uint64_t seed) {
  /* Die with the test's process (killed by its watchdog, say) instead of
   * living on with a thread blocked for good; the work a child does is
   * bounded anyway, so the moment before this call does not matter. */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  for (size_t i = 0; i < nchildren; i++)
    if (!strcmp(children[i].name, name))
      return children[i].fn(impl, seed);
  fprintf(stderr, "stress: no child function named '%s'\n", name);
  return 2;
}
