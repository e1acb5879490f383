/*
 * flow.h - the producer/consumer round engine behind the conservation,
 * FIFO and oversubscription drivers.
 *
 * A round makes a fresh channel, starts P producers that each send
 * per_round tagged values (retrying a value until a send succeeds) and C
 * consumers that receive until the channel is closed; the last producer to
 * finish closes it. Every receive goes through the per-value ledger
 * (duplicates, phantoms and values delivered despite a failed send are
 * caught on the spot); after the round the ledger proves nothing sent was
 * lost, i.e. everything sent before the close was received.
 */
#ifndef CHAN_STRESS_FLOW_H
#define CHAN_STRESS_FLOW_H

#include "stress.h"

struct flow_config {
  const char *test;
  int producers, consumers;
  /* Capacities to cycle through, one per round (--capacity overrides). */
  const size_t *capacities;
  size_t ncapacities;
  uint32_t per_round;  /* values per producer per round */
  enum stress_ops ops; /* which operations the threads pick from */
  bool split_ops;      /* consumers pick from consumer_ops instead */
  enum stress_ops consumer_ops;
  bool check_fifo; /* each consumer sees each producer's seq increase */
  int pin_cpu;     /* >= 0: pin every thread to this CPU */
  /* Consumers stop after a fixed share of the values instead of at the
   * close, and the channel is closed only after everyone returned: no
   * close can rescue a consumer whose wake-up was lost. */
  bool quota_no_close;
};

struct flow_totals {
  uint64_t rounds, values, refused, closed_recvs;
};

/* Runs rounds until the deadline (at least one round) or a failure. */
void flow_run(const struct flow_config *cfg, int64_t deadline,
              struct flow_totals *totals);

#endif /* CHAN_STRESS_FLOW_H */
