/* core_threads.c - many producers and consumers: conservation and order. */
#include "core_util.h"

#include <stdatomic.h>
#include <stdlib.h>

enum { MAX_PRODUCERS = 8 };

/* A value carries its producer and that producer's sequence number. */
static int64_t tag(int producer, int64_t seq) {
  return ((int64_t)producer << 40) | seq;
}

struct conservation {
  chan_t *ch;
  int producers;
  int64_t per_producer;
  /* received[p][seq]: how many times that value was received. */
  _Atomic uint8_t *received[MAX_PRODUCERS];
};

struct producer_arg {
  struct conservation *c;
  int id;
};

static void *producer_main(void *arg) {
  struct producer_arg *p = arg;
  for (int64_t s = 0; s < p->c->per_producer; s++) {
    int64_t v = tag(p->id, s);
    CHECK_STATUS(chan_send(p->c->ch, &v), CHAN_OK);
  }
  return NULL;
}

static void *consumer_main(void *arg) {
  struct conservation *c = arg;
  int64_t last[MAX_PRODUCERS];
  for (int p = 0; p < MAX_PRODUCERS; p++)
    last[p] = -1;
  int64_t v;
  int rc;
  while ((rc = chan_recv(c->ch, &v)) == CHAN_OK) {
    int p = (int)(v >> 40);
    int64_t seq = v & ((1LL << 40) - 1);
    if (p < 0 || p >= c->producers || seq >= c->per_producer) {
      test_fail(__FILE__, __LINE__, "phantom value %lld", (long long)v);
      continue;
    }
    /* Per-producer FIFO: each consumer sees a producer's values in order. */
    if (seq <= last[p])
      test_fail(__FILE__, __LINE__,
                "producer %d: seq %lld after %lld (FIFO broken)", p,
                (long long)seq, (long long)last[p]);
    last[p] = seq;
    if (atomic_fetch_add(&c->received[p][seq], 1) != 0)
      test_fail(__FILE__, __LINE__, "value %d/%lld received twice", p,
                (long long)seq);
  }
  CHECK_STATUS(rc, CHAN_CLOSED);
  return NULL;
}

/* P producers x C consumers at several capacities: each value received
 * exactly once, each producer's values in order at every consumer. */
TEST(every_value_is_received_exactly_once_in_producer_order) {
  const size_t caps[] = {0, 1, 16, 1024};
  const int shapes[][2] = {{1, 1}, {3, 1}, {1, 3}, {3, 3}, {6, 2}};
  for (size_t c = 0; c < sizeof caps / sizeof *caps; c++) {
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
      int np = shapes[s][0], nc = shapes[s][1];
      struct conservation cons = {.ch = test_chan(sizeof(int64_t), caps[c]),
                                  .producers = np,
                                  .per_producer = (int64_t)test_scale(20000)};
      REQUIRE(cons.ch);
      for (int p = 0; p < np; p++)
        cons.received[p] = calloc((size_t)cons.per_producer, 1);
      test_task consumers[8], producers[MAX_PRODUCERS];
      struct producer_arg args[MAX_PRODUCERS];
      for (int i = 0; i < nc; i++)
        consumers[i] = test_spawn(consumer_main, &cons);
      for (int p = 0; p < np; p++) {
        args[p] = (struct producer_arg){&cons, p};
        producers[p] = test_spawn(producer_main, &args[p]);
      }
      for (int p = 0; p < np; p++)
        test_join(producers[p]);
      CHECK_STATUS(chan_close(cons.ch), CHAN_OK);
      for (int i = 0; i < nc; i++)
        test_join(consumers[i]);
      for (int p = 0; p < np; p++) {
        for (int64_t q = 0; q < cons.per_producer; q++)
          if (atomic_load(&cons.received[p][q]) != 1) {
            test_fail(__FILE__, __LINE__,
                      "cap %zu, %dx%d: value %d/%lld received %d times",
                      caps[c], np, nc, p, (long long)q,
                      (int)atomic_load(&cons.received[p][q]));
            break;
          }
        free(cons.received[p]);
      }
      CHECK_STATUS(chan_destroy(cons.ch), CHAN_OK);
    }
  }
}

struct closer_race {
  chan_t *ch;
  int64_t sent, sum_sent;
};

static void *send_until_closed(void *arg) {
  struct closer_race *r = arg;
  for (int64_t v = 1;; v++) {
    int rc = chan_send(r->ch, &v);
    if (rc == CHAN_CLOSED)
      return NULL;
    CHECK_STATUS(rc, CHAN_OK);
    r->sent++;
    r->sum_sent += v;
  }
}

/* Close racing busy senders: whatever a send reported delivered is
 * received; nothing else is. */
TEST(close_racing_senders_loses_nothing_sent) {
  const size_t caps[] = {0, 8};
  for (size_t c = 0; c < 2; c++) {
    for (int round = 0; round < (int)test_scale(50); round++) {
      chan_t *ch = test_chan(sizeof(int64_t), caps[c]);
      REQUIRE(ch);
      struct closer_race r[2] = {{ch, 0, 0}, {ch, 0, 0}};
      test_task t[2];
      for (int i = 0; i < 2; i++)
        t[i] = test_spawn(send_until_closed, &r[i]);
      int64_t received = 0, sum = 0, v;
      test_rng rng = test_rng_make((uint64_t)round);
      int64_t before_close = (int64_t)test_rng_below(&rng, 200);
      for (int64_t i = 0; i < before_close; i++) {
        CHECK_STATUS(chan_recv(ch, &v), CHAN_OK);
        received++;
        sum += v;
      }
      CHECK_STATUS(chan_close(ch), CHAN_OK);
      while (chan_recv(ch, &v) == CHAN_OK) {
        received++;
        sum += v;
      }
      for (int i = 0; i < 2; i++)
        test_join(t[i]);
      CHECK_EQ(received, r[0].sent + r[1].sent);
      CHECK_EQ(sum, r[0].sum_sent + r[1].sum_sent);
      CHECK_STATUS(chan_destroy(ch), CHAN_OK);
    }
  }
}
