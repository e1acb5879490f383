/*
 * queue.h - what a benchmark role needs from a queue under test.
 *
 * The peers' copy of the interface agreed for issue 11 (bench/queue.h will
 * replace it when the bench refactor and the peers are merged). A queue is
 * one row, struct bq_ops: chanlab's implementations are rows whose
 * functions call chan_*, and every other library's queue is one small
 * adapter in bench/peers/ (listed in bench/peers/peers.def). Scenario code
 * asks a row for its features and does not run what does not apply; the
 * reason goes into the results, never a faked row.
 *
 * Status codes are chanlab's (include/chan/chan.h): CHAN_OK, CHAN_CLOSED,
 * CHAN_WOULD_BLOCK, and negative errors with the reason in bq_error().
 */
#ifndef CHAN_BENCH_QUEUE_H
#define CHAN_BENCH_QUEUE_H

#include <chan/chan.h>

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum bq_feature { /* what a queue can do; rows lacking one are absent,
                     with the reason recorded */
                  BQ_CLOSE = 1 << 0, /* close that wakes blocked receivers */
                  BQ_RENDEZVOUS = 1 << 1, /* capacity 0 is a true rendezvous */
                  BQ_BOUNDED =
                      1 << 2, /* a capacity > 0 is honoured (else unbounded) */
                  BQ_TRY = 1 << 3, /* non-blocking try_send/try_recv */
                  BQ_MULTI_PRODUCER = 1 << 4, /* more than one sender at once */
                  BQ_MULTI_CONSUMER = 1
                                      << 5, /* more than one receiver at once */
                  BQ_BLOCKING = 1 << 6,     /* send/recv park when they cannot
                                               proceed (else they     spin) */
                  BQ_PAYLOAD =
                      1 << 7, /* any element size (else 8-byte values only) */
};

struct bq_ops {
  const char *name;    /* impl:<name> in benchmark names: "futex", "tbb",
                          "boost_fiber", ... */
  const char *library; /* "chanlab", "oneTBB 2021.8", ... (for the report) */
  unsigned features;   /* enum bq_feature bits */
  /* 0, or an error (reason via bq_error) */
  int (*make)(void **q, size_t elem_size, size_t capacity);
  int (*send)(void *q, const void *elem); /* CHAN_OK or CHAN_CLOSED */
  int (*recv)(void *q, void *elem);       /* CHAN_OK or CHAN_CLOSED */
  /* NULL without BQ_TRY; CHAN_OK / CHAN_WOULD_BLOCK */
  int (*try_send)(void *q, const void *elem);
  int (*try_recv)(void *q, void *elem);
  int (*close)(void *q); /* NULL without BQ_CLOSE */
  void (*destroy)(void *q);
};

/* Why the calling thread's last failed make (or other operation) failed. */
const char *bq_error(void);

#ifdef __cplusplus
}
#endif

#endif /* CHAN_BENCH_QUEUE_H */
