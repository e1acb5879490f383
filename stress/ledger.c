/*
 * ledger.c - the identity of every value a stress test sends and the
 * per-value ledger that catches a duplicate, a phantom or a value delivered
 * despite a failed send on the receive that shows it, and a lost value at
 * the end of its round. See stress.h ("values", "the per-value ledger").
 */
#include "stress.h"

#include <inttypes.h>
#include <stdlib.h>

/* ---- values ------------------------------------------------------------ */

uint64_t stress_mix(uint64_t a, uint64_t b, uint64_t c) {
  uint64_t z = a * 0x9e3779b97f4a7c15ull ^ (b + 0x632be59bd9b4e019ull) ^
               (c * 0xd1b54a32d192ed03ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

struct stress_msg stress_msg_make(uint64_t salt, uint32_t producer,
                                  uint32_t seq) {
  return (struct stress_msg){producer, seq, stress_mix(salt, producer, seq)};
}

bool stress_msg_valid(const struct stress_msg *m, uint64_t salt) {
  return m->check == stress_mix(salt, m->producer, m->seq);
}

/* ---- ledger ------------------------------------------------------------ */

void stress_ledger_init(struct stress_ledger *l, uint32_t producers,
                        uint32_t per_producer, uint64_t salt) {
  l->producers = producers;
  l->per_producer = per_producer;
  l->state = calloc((size_t)producers * per_producer, 1);
  if (!l->state) {
    fprintf(stderr, "stress: out of memory for the ledger\n");
    exit(2);
  }
  l->salt = salt;
}

void stress_ledger_reset(struct stress_ledger *l, uint64_t salt) {
  size_t n = (size_t)l->producers * l->per_producer;
  for (size_t i = 0; i < n; i++)
    atomic_store_explicit(&l->state[i], STRESS_UNSENT, memory_order_relaxed);
  l->salt = salt;
}

void stress_ledger_free(struct stress_ledger *l) {
  free(l->state);
  l->state = NULL;
}

static const char *state_name(unsigned s) {
  static const char *names[] = {"unsent", "being sent", "sent", "received",
                                "refused"};
  return s < 5 ? names[s] : "corrupt";
}

static _Atomic uint8_t *slot(struct stress_ledger *l, uint32_t p, uint32_t s) {
  return &l->state[(size_t)p * l->per_producer + s];
}

void stress_ledger_offer(struct stress_ledger *l, uint32_t p, uint32_t s) {
  uint8_t old = atomic_exchange(slot(l, p, s), STRESS_SENDING);
  if (old != STRESS_UNSENT && old != STRESS_REFUSED)
    STRESS_FAIL("value (%u,%u) offered while %s (test bug)", p, s,
                state_name(old));
}

void stress_ledger_sent(struct stress_ledger *l, uint32_t p, uint32_t s,
                        int status) {
  uint8_t expect = STRESS_SENDING;
  uint8_t next = status == CHAN_OK ? STRESS_SENT : STRESS_REFUSED;
  if (atomic_compare_exchange_strong(slot(l, p, s), &expect, next))
    return;
  /* Only a receiver can have moved it, to RECEIVED: fine after CHAN_OK
   * (it got there first), a violation after a failed send. */
  if (expect == STRESS_RECEIVED && status == CHAN_OK)
    return;
  STRESS_FAIL("value (%u,%u): send returned %s but the value was %s", p, s,
              chan_strerror(status), state_name(expect));
}

bool stress_ledger_received(struct stress_ledger *l,
                            const struct stress_msg *m) {
  if (m->producer >= l->producers || m->seq >= l->per_producer ||
      !stress_msg_valid(m, l->salt)) {
    STRESS_FAIL("phantom value received: producer %u seq %u check %016" PRIx64
                " (not a value any producer sent in this round)",
                m->producer, m->seq, m->check);
    return false;
  }
  uint8_t old = atomic_exchange(slot(l, m->producer, m->seq), STRESS_RECEIVED);
  switch (old) {
  case STRESS_SENDING:
  case STRESS_SENT:
    return true;
  case STRESS_RECEIVED:
    STRESS_FAIL("duplicate: value (%u,%u) received twice", m->producer, m->seq);
    return false;
  case STRESS_REFUSED:
    STRESS_FAIL("value (%u,%u) received although its send reported failure",
                m->producer, m->seq);
    return false;
  default:
    STRESS_FAIL("phantom: value (%u,%u) received before it was sent (%s)",
                m->producer, m->seq, state_name(old));
    return false;
  }
}

uint64_t stress_ledger_verify(struct stress_ledger *l, const char *what) {
  uint64_t lost = 0;
  for (uint32_t p = 0; p < l->producers; p++)
    for (uint32_t s = 0; s < l->per_producer; s++) {
      uint8_t st = atomic_load(slot(l, p, s));
      if (st == STRESS_SENT) {
        if (lost++ < 4)
          STRESS_FAIL("lost: value (%u,%u) was sent successfully but never "
                      "received (%s)",
                      p, s, what);
      } else if (st == STRESS_SENDING) {
        STRESS_FAIL("value (%u,%u) still being sent at the end (%s)", p, s,
                    what);
      }
    }
  if (lost > 4)
    STRESS_FAIL("lost %" PRIu64 " values in all (%s)", lost, what);
  return lost;
}
