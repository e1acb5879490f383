/*
 * load.h - a background CPU load for the loaded-machine scenario
 * (chanbench --background-load N; bench/go's gochan does the same).
 */
#ifndef CHAN_BENCH_LOAD_H
#define CHAN_BENCH_LOAD_H

#include <stddef.h>

/* Starts n hog processes, each spinning on one of the last n PUs this
 * process may use (the same PUs gochan picks), before any benchmark runs;
 * describes them in note. Returns 0, or -1 with the reason in note. */
int load_start(int n, char *note, size_t note_size);

/* Stops them (also safe when none was started). */
void load_stop(void);

#endif /* CHAN_BENCH_LOAD_H */
