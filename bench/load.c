/*
 * load.c - background load: spinning hog processes pinned to the last PUs
 * (see load.h for why processes, and which PUs).
 */
#include "load.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t hogs[CPU_SETSIZE];
static int nhogs;

/* The PUs this process may run on, in increasing order; their count. */
static int allowed_pus(int *pus) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) != 0)
    return 0;
  int n = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
    if (CPU_ISSET(cpu, &set))
      pus[n++] = cpu;
  return n;
}

int load_max_hogs(void) {
  static int pus[CPU_SETSIZE];
  int n = allowed_pus(pus);
  return n > 0 ? n : 1;
}

/* The hog itself: pin, report, spin until killed. Only async-signal-safe
 * calls: the parent may have threads. */
static void hog(int cpu, int report_fd, pid_t parent) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  int status = 0;
  if (getppid() != parent) {
    _exit(0); /* chanbench is already gone */
  }
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  if (sched_setaffinity(0, sizeof one, &one) != 0)
    status = errno;
  (void)!write(report_fd, &status, sizeof status);
  close(report_fd);
  if (status != 0)
    _exit(1);
  /* volatile: every increment is a store the compiler keeps, so the loop
   * is real work on the PU rather than an empty loop it may remove. */
  volatile unsigned long spins = 0;
  for (;;)
    spins++;
}

int load_start(int n, char *pus_out, size_t pus_size, char *err,
               size_t err_size) {
  static int pus[CPU_SETSIZE];
  int npus = allowed_pus(pus);
  if (pus_size)
    pus_out[0] = '\0';
  if (n < 0 || n > npus) {
    snprintf(err, err_size,
             "--background-load %d: wants 0 to %d (the PUs this process may "
             "run on)",
             n, npus);
    return -1;
  }
  size_t used = 0;
  for (int i = 0; i < n; i++) {
    int cpu = pus[npus - 1 - i];
    int fds[2];
    if (pipe(fds) != 0) {
      snprintf(err, err_size, "background load: pipe: %s", strerror(errno));
      load_stop();
      return -1;
    }
    pid_t parent = getpid();
    fflush(NULL); /* nothing buffered is written twice */
    pid_t pid = fork();
    if (pid == 0) {
      close(fds[0]);
      hog(cpu, fds[1], parent);
    }
    close(fds[1]);
    if (pid < 0) {
      close(fds[0]);
      snprintf(err, err_size, "background load: fork: %s", strerror(errno));
      load_stop();
      return -1;
    }
    hogs[nhogs++] = pid;
    int status = -1;
    ssize_t got = read(fds[0], &status, sizeof status);
    close(fds[0]);
    if (got != (ssize_t)sizeof status || status != 0) {
      snprintf(err, err_size,
               "background load: cannot pin a hog to PU %d: %s", cpu,
               got == (ssize_t)sizeof status ? strerror(status)
                                             : "it exited at once");
      load_stop();
      return -1;
    }
    if (used < pus_size)
      used += (size_t)snprintf(pus_out + used, pus_size - used, "%s%d",
                               i ? "," : "", cpu);
  }
  return 0;
}

void load_stop(void) {
  for (int i = 0; i < nhogs; i++) {
    kill(hogs[i], SIGKILL);
    while (waitpid(hogs[i], NULL, 0) < 0 && errno == EINTR) {
    }
  }
  nhogs = 0;
}
