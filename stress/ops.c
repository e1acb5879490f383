/*
 * ops.c - operations with a random flavour: one send or receive done by a
 * blocking, timed, try or select call picked at random, the select hiding
 * the real case among a disabled one and a never-ready one. See stress.h
 * ("operations with a random flavour").
 */
#include "stress.h"

#include <stdint.h>

static int64_t short_timeout(test_rng *r) {
  /* 0 polls; otherwise 1 us .. ~260 us, often shorter than a handoff. */
  uint64_t x = test_rng_below(r, 9);
  return x == 0 ? 0 : (int64_t)1000 << test_rng_below(r, 9);
}

static int select_one(chan_t *ch, enum chan_dir dir, void *elem, chan_t *never,
                      int64_t timeout, test_rng *r) {
  /* The real case sits at a random index among a disabled (NULL) case and
   * a case on a channel nobody uses, which must never fire. */
  char dummy[64];
  struct chan_case cases[3];
  size_t real = test_rng_below(r, 3);
  size_t other = 0;
  for (size_t i = 0; i < 3; i++) {
    if (i == real) {
      cases[i] = (struct chan_case){ch, dir, elem};
    } else if (other++ == 0) {
      cases[i] = (struct chan_case){NULL, CHAN_RECV, dummy};
    } else {
      cases[i] = (struct chan_case){never, CHAN_RECV, dummy};
    }
  }
  size_t chosen = SIZE_MAX;
  int rc = chan_select(cases, 3, timeout, &chosen);
  if ((rc == CHAN_OK || rc == CHAN_CLOSED) && chosen != real)
    STRESS_FAIL("select fired case %zu (%s), but only case %zu could be "
                "ready",
                chosen,
                cases[chosen < 3 ? chosen : 0].chan ? "never-ready" : "NULL",
                real);
  return rc;
}

/* Picks the operation: 0 blocking call, 1 timed call, 2 try call, 3 select
 * with a short timeout, 4 blocking select. */
static int pick_op(test_rng *r, enum stress_ops ops) {
  uint64_t x = test_rng_below(r, 20);
  switch (ops) {
  case STRESS_OPS_BLOCKING:
    return x < 14 ? 0 : 4;
  case STRESS_OPS_TIMED:
    return x < 12 ? 1 : 3;
  default:
    return x < 8 ? 0 : x < 13 ? 1 : x < 16 ? 2 : x < 19 ? 3 : 4;
  }
}

int stress_send_any(chan_t *ch, const void *elem, chan_t *never, test_rng *r,
                    enum stress_ops ops) {
  switch (pick_op(r, ops)) {
  case 0:
    return chan_send(ch, elem);
  case 1:
    return chan_send_timeout(ch, elem, short_timeout(r));
  case 2:
    return chan_try_send(ch, elem);
  case 3:
    return select_one(ch, CHAN_SEND, (void *)elem, never, short_timeout(r), r);
  default:
    return select_one(ch, CHAN_SEND, (void *)elem, never, CHAN_FOREVER, r);
  }
}

int stress_recv_any(chan_t *ch, void *elem, chan_t *never, test_rng *r,
                    enum stress_ops ops) {
  switch (pick_op(r, ops)) {
  case 0:
    return chan_recv(ch, elem);
  case 1:
    return chan_recv_timeout(ch, elem, short_timeout(r));
  case 2:
    return chan_try_recv(ch, elem);
  case 3:
    return select_one(ch, CHAN_RECV, elem, never, short_timeout(r), r);
  default:
    return select_one(ch, CHAN_RECV, elem, never, CHAN_FOREVER, r);
  }
}
