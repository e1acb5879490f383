/*
 * stress.h - what every stress driver shares, on top of tests/harness.h.
 *
 * A stress driver is a harness test program (TEST, CHECK, the per-test
 * child processes, the watchdog, the seeds and the "N passed, N failed"
 * line all come from tests/harness.c) whose tests run for a wall-clock
 * budget instead of a fixed count, so that the same binary serves a
 * one-second CI pass and a ten-minute soak. Its main() (options.c) passes
 * the stress options to the harness's entry point, test_main():
 *
 *   stress_X [--impl NAME|all] [--seconds S] [--threads N] [--capacity C]
 *            [--seed N] [--filter SUBSTR] [--timeout SEC] [--list]
 *            [--no-fork] [--fail-fast]
 *
 * --seconds is the budget of each test (per implementation), --threads and
 * --capacity override a test's own choice. The harness's replay lines and
 * each test's "replay:" line print the whole command, stress options and
 * CHAN_CHAOS_SEED included.
 *
 * One file per job: options.c (options, main), life.c (a test's life:
 * replay line, deadline, failures, report), ledger.c (values and the
 * per-value ledger), ops.c (operations with a random flavour), child.c
 * (child processes), heap.c (heap accounting); flow.c is the
 * producer/consumer round engine of three drivers (flow.h).
 */
#ifndef CHAN_STRESS_H
#define CHAN_STRESS_H

#include "harness.h"

#include <chan/chan_debug.h>

#include <stdatomic.h>

/* ---- options (options.c) ---------------------------------------------- */

double stress_seconds(void);
/* --threads if given, else the test's own default. */
int stress_threads_or(int fallback);
/* --capacity if given, else the test's own default. */
size_t stress_capacity_or(size_t fallback);
bool stress_capacity_given(void);

/* ---- a test's life (life.c) ------------------------------------------- */

/* Call first in every stress test: prints the exact replay command and
 * returns the deadline (now + --seconds) for the test's main loop. */
int64_t stress_begin(const char *test);
bool stress_before(int64_t deadline_ns);
/* Prints what the test did ("N rounds, M values ...") for the report. */
void stress_report(const char *test, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Joins a batch of threads the test started (test_thread_start). */
void stress_join_all(test_task *threads, size_t n);

/* Set by stress_failf(); long loops check it to stop early. */
bool stress_failing(void);
/* test_fail() plus the early-stop flag; prints at most a few messages per
 * test so one broken invariant does not drown the log. */
void stress_failf(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define STRESS_FAIL(...) stress_failf(__FILE__, __LINE__, __VA_ARGS__)

/* ---- values (ledger.c) ------------------------------------------------ */

/* A tagged value: who sent it, its per-sender sequence number, and a check
 * word that a phantom or torn copy cannot fake. */
struct stress_msg {
  uint32_t producer;
  uint32_t seq;
  uint64_t check;
};
uint64_t stress_mix(uint64_t a, uint64_t b, uint64_t c);
struct stress_msg stress_msg_make(uint64_t salt, uint32_t producer,
                                  uint32_t seq);
bool stress_msg_valid(const struct stress_msg *m, uint64_t salt);

/* ---- the per-value ledger (ledger.c) ----------------------------------- */

/* One state per (producer, seq), so a duplicate, a phantom or a value
 * delivered despite a failed send is caught on the receive that shows it;
 * a value whose send succeeded but that nobody received is caught by
 * stress_ledger_verify() at the end of the round. */
enum stress_value_state {
  STRESS_UNSENT = 0,   /* not offered yet */
  STRESS_SENDING = 1,  /* inside a send call */
  STRESS_SENT = 2,     /* the send returned CHAN_OK */
  STRESS_RECEIVED = 3, /* a receive returned it */
  STRESS_REFUSED = 4,  /* the send returned without delivering it */
};

struct stress_ledger {
  uint32_t producers, per_producer;
  uint64_t salt;
  _Atomic uint8_t *state;
};

void stress_ledger_init(struct stress_ledger *l, uint32_t producers,
                        uint32_t per_producer, uint64_t salt);
void stress_ledger_reset(struct stress_ledger *l, uint64_t salt);
void stress_ledger_free(struct stress_ledger *l);
/* The sender's side: before the call, and after it with its status
 * (CHAN_OK: delivered; anything else: not delivered). A value may be
 * offered again after a refusal. */
void stress_ledger_offer(struct stress_ledger *l, uint32_t p, uint32_t s);
void stress_ledger_sent(struct stress_ledger *l, uint32_t p, uint32_t s,
                        int status);
/* The receiver's side, with the bytes it got. False on a violation. */
bool stress_ledger_received(struct stress_ledger *l,
                            const struct stress_msg *m);
/* End of round: every value whose send succeeded was received. Returns the
 * number of lost values (each reported). */
uint64_t stress_ledger_verify(struct stress_ledger *l, const char *what);

/* ---- operations with a random flavour (ops.c) -------------------------- */

/* Which operations stress_send_any/stress_recv_any choose from. */
enum stress_ops {
  STRESS_OPS_ANY,      /* blocking, timed, try and select, at random */
  STRESS_OPS_BLOCKING, /* the blocking call or a blocking select */
  STRESS_OPS_TIMED,    /* timed calls and timed selects, short timeouts */
};

/* Sends (or receives) once with an operation picked at random from `ops`;
 * a select hides the real case among a disabled (NULL) case and a case on
 * `never`, a channel nobody uses (may be NULL), and fails the test if a
 * case other than the real one fires. Timeouts are short (0 to ~260 us) so
 * they often expire while a counterpart is arriving. Returns the status
 * (CHAN_OK, CHAN_CLOSED, CHAN_TIMEOUT or CHAN_WOULD_BLOCK). */
int stress_send_any(chan_t *ch, const void *elem, chan_t *never, test_rng *r,
                    enum stress_ops ops);
int stress_recv_any(chan_t *ch, void *elem, chan_t *never, test_rng *r,
                    enum stress_ops ops);

/* ---- children (child.c) ------------------------------------------------ */

/* Work that must leave a thread blocked on purpose runs in a child process
 * (a fresh exec of this driver with --child NAME), so the parent's leak and
 * thread checks stay meaningful. The child function gets the implementation
 * and seed and returns the child's exit status (0: property held). */
typedef int (*stress_child_fn)(const char *impl, uint64_t seed);
void stress_child_register(const char *name, stress_child_fn fn);
#define STRESS_CHILD(name)                                                     \
  static int child_##name(const char *impl, uint64_t seed);                    \
  __attribute__((constructor)) static void child_register_##name(void) {       \
    stress_child_register(#name, child_##name);                                \
  }                                                                            \
  static int child_##name(const char *impl, uint64_t seed)
/* Runs the child for the current implementation and seed; fails the test
 * if it exits non-zero, crashes, or runs past timeout_s (then kills it). */
void stress_run_child(const char *name, double timeout_s);
/* The --child entry (options.c calls it): runs the child function named
 * name; returns the process's exit status. */
int stress_child_main(const char *name, const char *impl, uint64_t seed);

/* ---- heap (heap.c) ----------------------------------------------------- */

/* Bytes currently allocated by malloc (the sanitizer allocator's count
 * under ASan/TSan, glibc's mallinfo2 otherwise). */
size_t stress_heap_in_use(void);
/* Called once before the tests (options.c): makes stress_heap_in_use()
 * see every thread's allocations. */
void stress_heap_setup(void);

#endif /* CHAN_STRESS_H */
