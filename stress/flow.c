/* flow.c - the producer/consumer round engine; see flow.h. */
#include "flow.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>

struct flow_round {
  const struct flow_config *cfg;
  chan_t *ch, *never;
  struct stress_ledger *ledger;
  atomic_int producers_left;
  atomic_ullong values, refused, closed_recvs;
  uint64_t round;
};

struct flow_thread {
  struct flow_round *round;
  uint32_t id;
  int64_t *last_seq; /* consumers with check_fifo: per producer */
  uint64_t quota;    /* consumers with quota_no_close: values to take */
};

static void pin(int cpu) {
  if (cpu < 0)
    return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static void *producer_main(void *arg) {
  struct flow_thread *t = arg;
  struct flow_round *rd = t->round;
  const struct flow_config *cfg = rd->cfg;
  pin(cfg->pin_cpu);
  test_rng r = test_rng_make(rd->round * 1000 + t->id);
  chan_select_seed(test_seed() + rd->round * 1000 + t->id);
  uint64_t refused = 0;
  for (uint32_t s = 0; s < cfg->per_round && !stress_failing(); s++) {
    struct stress_msg m = stress_msg_make(rd->ledger->salt, t->id, s);
    for (;;) {
      stress_ledger_offer(rd->ledger, t->id, s);
      int rc = stress_send_any(rd->ch, &m, rd->never, &r, cfg->ops);
      stress_ledger_sent(rd->ledger, t->id, s, rc);
      if (rc == CHAN_OK)
        break;
      if (rc != CHAN_TIMEOUT && rc != CHAN_WOULD_BLOCK) {
        STRESS_FAIL("producer %u: send of seq %u returned %s before the "
                    "close",
                    t->id, s, chan_strerror(rc));
        break;
      }
      refused++;
      if (stress_failing())
        break;
      if (refused % 64 == 0)
        test_yield(); /* polling senders must let receivers run */
    }
  }
  atomic_fetch_add(&rd->refused, refused);
  if (atomic_fetch_sub(&rd->producers_left, 1) == 1 && !cfg->quota_no_close) {
    int rc = chan_close(rd->ch);
    if (rc != CHAN_OK)
      STRESS_FAIL("chan_close by the last producer returned %s",
                  chan_strerror(rc));
  }
  return NULL;
}

static void *consumer_main(void *arg) {
  struct flow_thread *t = arg;
  struct flow_round *rd = t->round;
  const struct flow_config *cfg = rd->cfg;
  pin(cfg->pin_cpu);
  test_rng r = test_rng_make(rd->round * 1000 + 500 + t->id);
  chan_select_seed(test_seed() + rd->round * 1000 + 500 + t->id);
  uint64_t got = 0, polls = 0;
  for (;;) {
    if (cfg->quota_no_close && got == t->quota) {
      atomic_fetch_add(&rd->closed_recvs, 1); /* counts finished consumers */
      break;
    }
    struct stress_msg m;
    memset(&m, 0xa5, sizeof m);
    int rc = stress_recv_any(rd->ch, &m, rd->never, &r,
                             cfg->split_ops ? cfg->consumer_ops : cfg->ops);
    if (rc == CHAN_OK) {
      got++;
      if (!stress_ledger_received(rd->ledger, &m) || !t->last_seq)
        continue;
      int64_t last = t->last_seq[m.producer];
      if ((int64_t)m.seq <= last)
        STRESS_FAIL("FIFO: consumer %u got producer %u's seq %u after seq "
                    "%lld",
                    t->id, m.producer, m.seq, (long long)last);
      else if (cfg->consumers == 1 && (int64_t)m.seq != last + 1)
        STRESS_FAIL("FIFO: the only consumer got producer %u's seq %u right "
                    "after seq %lld (skipped or reordered)",
                    m.producer, m.seq, (long long)last);
      t->last_seq[m.producer] = m.seq;
    } else if (rc == CHAN_CLOSED) {
      static const struct stress_msg zero;
      if (memcmp(&m, &zero, sizeof m) != 0)
        STRESS_FAIL("receive returned CHAN_CLOSED without zero-filling the "
                    "value");
      atomic_fetch_add(&rd->closed_recvs, 1);
      break;
    } else if (rc != CHAN_TIMEOUT && rc != CHAN_WOULD_BLOCK) {
      STRESS_FAIL("consumer %u: receive returned %s", t->id, chan_strerror(rc));
      break;
    } else if (++polls % 64 == 0) {
      test_yield();
    }
  }
  atomic_fetch_add(&rd->values, got);
  return NULL;
}

void flow_run(const struct flow_config *cfg, int64_t deadline,
              struct flow_totals *totals) {
  int np = cfg->producers, nc = cfg->consumers;
  struct stress_ledger ledger;
  stress_ledger_init(&ledger, (uint32_t)np, cfg->per_round, 0);
  chan_t *never = test_chan(sizeof(struct stress_msg), 0);
  struct flow_thread *threads = calloc((size_t)(np + nc), sizeof *threads);
  test_task *tids = calloc((size_t)(np + nc), sizeof *tids);
  int64_t *last = calloc((size_t)nc * (size_t)np, sizeof *last);
  if (!never || !threads || !tids || !last) {
    STRESS_FAIL("setup failed");
    goto out;
  }
  memset(totals, 0, sizeof *totals);
  do {
    uint64_t round = totals->rounds;
    size_t cap = stress_capacity_or(
        cfg->capacities[round % (cfg->ncapacities ? cfg->ncapacities : 1)]);
    stress_ledger_reset(&ledger, stress_mix(test_seed(), round, 77));
    struct flow_round rd = {
        .cfg = cfg, .never = never, .ledger = &ledger, .round = round};
    atomic_init(&rd.producers_left, np);
    rd.ch = test_chan(sizeof(struct stress_msg), cap);
    if (!rd.ch)
      break;
    for (int i = 0; i < nc * np; i++)
      last[i] = -1;
    /* Start consumers and producers interleaved, so the first sends meet
     * both parked and not-yet-arrived receivers. */
    uint64_t total = (uint64_t)np * cfg->per_round;
    for (int i = 0; i < np || i < nc; i++) {
      if (i < nc) {
        threads[np + i] = (struct flow_thread){
            &rd, (uint32_t)i, cfg->check_fifo ? &last[(size_t)i * np] : NULL,
            total / (uint64_t)nc + ((uint64_t)i < total % (uint64_t)nc)};
        tids[np + i] = test_spawn(consumer_main, &threads[np + i]);
      }
      if (i < np) {
        threads[i] = (struct flow_thread){&rd, (uint32_t)i, NULL, 0};
        tids[i] = test_spawn(producer_main, &threads[i]);
      }
    }
    stress_join_all(tids, (size_t)(np + nc));
    if (cfg->quota_no_close)
      chan_close(rd.ch);
    char what[96];
    snprintf(what, sizeof what, "round %llu, capacity %zu",
             (unsigned long long)round, cap);
    if (!stress_failing())
      stress_ledger_verify(&ledger, what);
    if ((int)atomic_load(&rd.closed_recvs) != nc)
      STRESS_FAIL("%llu of %d consumers saw CHAN_CLOSED (%s)",
                  (unsigned long long)atomic_load(&rd.closed_recvs), nc, what);
    /* Every waiter, timed-out and select ones included, must be unlinked
     * once all threads have returned. */
    size_t ws = chan_debug_waiters(rd.ch, CHAN_SEND),
           wr = chan_debug_waiters(rd.ch, CHAN_RECV),
           wn = chan_debug_waiters(never, CHAN_RECV);
    if (ws || wr || wn)
      STRESS_FAIL("waiters left registered after every thread returned: %zu "
                  "send, %zu recv, %zu on the never-ready channel (%s)",
                  ws, wr, wn, what);
    size_t len = chan_len(rd.ch);
    if (len != 0)
      STRESS_FAIL("chan_len is %zu after the channel was drained (%s)", len,
                  what);
    int rc = chan_destroy(rd.ch);
    if (rc != CHAN_OK)
      STRESS_FAIL("chan_destroy after the round returned %s",
                  chan_strerror(rc));
    totals->rounds++;
    totals->values += atomic_load(&rd.values);
    totals->refused += atomic_load(&rd.refused);
    totals->closed_recvs += atomic_load(&rd.closed_recvs);
  } while (stress_before(deadline));
out:
  if (never)
    chan_destroy(never);
  free(threads);
  free(tids);
  free(last);
  stress_ledger_free(&ledger);
}
