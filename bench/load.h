/*
 * load.h - background load for chanbench: spinning hogs that occupy PUs
 * while the benchmarks run (--background-load N), the loaded-machine
 * scenario. gochan (bench/go/load.go) does the same the same way, so a
 * slowdown under load compares between the two programs.
 *
 * Each hog is a child process with one thread spinning on a volatile
 * counter, pinned to one PU: the last N PUs of the set this process may run
 * on (sched_getaffinity), the last one first. A child process rather than a
 * thread of chanbench because a thread would be counted by the process-wide
 * meters (the fiber rows' CPU per message is the process's CPU clock); a
 * child's CPU shows where any other process's does, in the noise figures.
 * A hog dies with chanbench (PR_SET_PDEATHSIG) if it is not stopped.
 */
#ifndef CHANLAB_BENCH_LOAD_H
#define CHANLAB_BENCH_LOAD_H

#include <stddef.h>

/* The most hogs: the PUs this process may run on (at least 1). */
int load_max_hogs(void);

/* Starts n hogs (0: none) and waits until each is pinned and spinning.
 * Writes the PUs they run on, comma-separated, into pus. Returns 0, or -1
 * with a message in err (and no hog left running). */
int load_start(int n, char *pus, size_t pus_size, char *err, size_t err_size);

/* Stops every hog load_start started and reaps it. */
void load_stop(void);

#endif
