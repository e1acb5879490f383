/*
 * queue_error.c - why a queue operation failed (queue.h: bq_fail,
 * bq_error), per thread. Its own small library, because both the queue
 * list (queue.c) and the peers' adapters (bench/peers) report through it.
 */
#include "queue.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char last_error[256];

int bq_fail(int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
  return status;
}

const char *bq_error(void) {
  return last_error;
}
