/*
 * load.c - background CPU hogs for the loaded-machine scenario.
 *
 * A hog is a child process, not a thread: a thread of ours would count in
 * this process's CPU clocks (the cost meters' cpu_ns_per_msg) and, in Go,
 * a spinning goroutine would hold one of the runtime's Ps, so the two
 * programs would be loaded differently. A process pinned to a PU competes
 * with whatever chanlab or Go runs there through the OS scheduler alone,
 * the same way in both programs (bench/go/load.go mirrors this file). The
 * noise meter counts it as another process's CPU, which it is.
 *
 * Each hog is pinned to one of the last n PUs of this process's affinity
 * set (the benchmarks and runtimes start from the first), and dies with
 * its parent (PR_SET_PDEATHSIG), so a crash leaves no spinner behind.
 */

#include "load.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define LOAD_MAX 256

static pid_t hogs[LOAD_MAX];
static int nhogs;

static _Noreturn void spin(void) {
  volatile unsigned long x = 0;
  for (;;)
    x++;
}

int load_start(int n, char *note, size_t note_size) {
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) {
    snprintf(note, note_size, "sched_getaffinity: %s", strerror(errno));
    return -1;
  }
  int pus[CPU_SETSIZE], npus = 0;
  for (int c = 0; c < CPU_SETSIZE; c++)
    if (CPU_ISSET(c, &allowed))
      pus[npus++] = c;
  if (n < 1 || n > npus || n > LOAD_MAX) {
    snprintf(note, note_size,
             "%d hogs asked for, but this process may use %d PUs (1 to %d)", n,
             npus, npus < LOAD_MAX ? npus : LOAD_MAX);
    return -1;
  }
  size_t len = (size_t)snprintf(note, note_size,
                                "%d spinning process%s, pinned to PU", n,
                                n == 1 ? "" : "es");
  pid_t parent = getpid();
  for (int i = 0; i < n; i++) {
    int pu = pus[npus - 1 - i];
    fflush(NULL); /* the child must not flush our buffers again */
    pid_t pid = fork();
    if (pid < 0) {
      snprintf(note, note_size, "fork: %s", strerror(errno));
      load_stop();
      return -1;
    }
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) /* the parent died before the prctl */
        _exit(0);
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(pu, &one);
      sched_setaffinity(0, sizeof one, &one);
      spin();
    }
    hogs[nhogs++] = pid;
    if (len < note_size)
      len += (size_t)snprintf(note + len, note_size - len, "%s %d",
                              i ? "," : "", pu);
  }
  return 0;
}

void load_stop(void) {
  for (int i = 0; i < nhogs; i++) {
    kill(hogs[i], SIGKILL);
    waitpid(hogs[i], NULL, 0);
  }
  nhogs = 0;
}
