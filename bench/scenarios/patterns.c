/*
 * patterns.c - the Go concurrency patterns, measured (needs chan_patterns).
 *
 * Built with CHAN_BENCH_HAVE_PATTERNS when the patterns library exists;
 * otherwise the scenario says so in the output instead of vanishing.
 */
#include "../bench_common.h"

#include <stdio.h>

#ifndef CHAN_BENCH_HAVE_PATTERNS
void register_patterns(void) {
  if (!g_suite.scenario_filter || !suite_wants("patterns")) {
    bench_add_context("patterns", "not measured: the chan_patterns library "
                                  "was not built");
    return;
  }
  fprintf(stderr, "chanbench: scenario 'patterns' needs the chan_patterns "
                  "library, which this build lacks\n");
  bench_add_context("patterns", "not measured: no chan_patterns library");
}
#endif
