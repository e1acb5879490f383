/* core_util.h - helpers shared by the channel core's tests. */
#ifndef CHAN_TESTS_CORE_UTIL_H
#define CHAN_TESTS_CORE_UTIL_H

#include "harness.h"

#include <chan/chan_debug.h>

#include <sched.h>
#include <unistd.h>

/* One operation run on its own thread, so the test can observe it blocked
 * (test_wait_waiters) and then release it. */
struct op_thread {
  chan_t *ch;
  enum chan_dir dir;
  int64_t value;      /* sent, or received into */
  int64_t timeout_ns; /* < 0: block (chan_send/chan_recv) */
  bool select;        /* made as a chan_select case (with timeout_ns) */
  chan_t *idle;       /* select: a second case, a receive from idle */
  int *served;        /* if set, the next ticket: see `ticket` */
  int ticket;         /* the order in which such operations returned */
  int result;
  int tid;  /* the thread's kernel id (for /proc, signals) */
  int done; /* set (release) when the operation returned */
  test_task task;
};

/* Not inlined, so that op_thread_main's frame holds no stack variables: a
 * canceled thread unwinds that frame without returning through it, and
 * ASan would then find its redzones still poisoned (a false report). */
__attribute__((noinline, unused)) static int
op_thread_run(struct op_thread *op) {
  if (op->select) {
    struct chan_case cases[2] = {{op->ch, op->dir, &op->value},
                                 {op->idle, CHAN_RECV, NULL}};
    size_t chosen = 99;
    int rc = chan_select(
        cases, 2, op->timeout_ns < 0 ? CHAN_FOREVER : op->timeout_ns, &chosen);
    if ((rc == CHAN_OK || rc == CHAN_CLOSED) && chosen != 0)
      test_fail(__FILE__, __LINE__, "select fired case %zu, the idle channel",
                chosen);
    return rc;
  }
  if (op->dir == CHAN_SEND)
    return op->timeout_ns < 0
               ? chan_send(op->ch, &op->value)
               : chan_send_timeout(op->ch, &op->value, op->timeout_ns);
  return op->timeout_ns < 0
             ? chan_recv(op->ch, &op->value)
             : chan_recv_timeout(op->ch, &op->value, op->timeout_ns);
}

static inline void *op_thread_main(void *arg) {
  struct op_thread *op = arg;
  __atomic_store_n(&op->tid, (int)gettid(), __ATOMIC_RELEASE);
  op->result = op_thread_run(op);
  if (op->served)
    op->ticket = __atomic_fetch_add(op->served, 1, __ATOMIC_RELAXED);
  __atomic_store_n(&op->done, 1, __ATOMIC_RELEASE);
  /* The thread's first cancellation point after the operation: a thread
   * canceled while blocked exits here (chan.h; core_cancel.c). */
  pthread_testcancel();
  return NULL;
}

static inline void op_start(struct op_thread *op, chan_t *ch, enum chan_dir dir,
                            int64_t value) {
  *op = (struct op_thread){
      .ch = ch, .dir = dir, .value = value, .timeout_ns = -1};
  op->task = test_spawn(op_thread_main, op);
}

/* The ways a thread blocks; the tests of blocked threads run them all. */
enum block_kind {
  BLOCK_PLAIN,        /* chan_send / chan_recv */
  BLOCK_TIMED,        /* chan_send_timeout / chan_recv_timeout */
  BLOCK_SELECT,       /* chan_select, CHAN_FOREVER, beside an idle case */
  BLOCK_SELECT_TIMED, /* chan_select with a timeout */
  BLOCK_KINDS
};

static inline const char *block_kind_name(enum block_kind kind) {
  static const char *const names[BLOCK_KINDS] = {"plain", "timed", "select",
                                                 "timed select"};
  return names[kind];
}

/* The timed kinds' timeout: never expires in a passing test. */
#define BLOCK_TIMEOUT_NS ((int64_t)120 * 1000000000)

/* Starts a thread that blocks `kind`-wise in direction dir on ch (idle: the
 * select's second channel); served, if not NULL, numbers the returns. */
static inline void op_start_blocking(struct op_thread *op, chan_t *ch,
                                     chan_t *idle, enum chan_dir dir,
                                     enum block_kind kind, int64_t value,
                                     int *served) {
  bool timed = kind == BLOCK_TIMED || kind == BLOCK_SELECT_TIMED;
  *op = (struct op_thread){.ch = ch,
                           .dir = dir,
                           .value = value,
                           .timeout_ns = timed ? BLOCK_TIMEOUT_NS : -1,
                           .select = kind == BLOCK_SELECT ||
                                     kind == BLOCK_SELECT_TIMED,
                           .idle = idle,
                           .served = served};
  op->task = test_spawn(op_thread_main, op);
}

static inline bool op_done(const struct op_thread *op) {
  return __atomic_load_n(&op->done, __ATOMIC_ACQUIRE);
}

/* Waits (yielding) until op returned; fails the test if it never does. */
static inline bool op_wait_done(const struct op_thread *op) {
  int64_t deadline = test_now_ns() + 60 * (int64_t)1000000000;
  while (!op_done(op)) {
    if (test_now_ns() > deadline) {
      test_fail(__FILE__, __LINE__, "a released operation never returned");
      return false;
    }
    test_yield();
  }
  return true;
}

static inline void op_join(struct op_thread *op) {
  test_join(op->task);
}

/* ---- every way to send or receive -------------------------------------- */

/* The ways an operation can be made; tests of a rule run each of them. The
 * non-blocking and timed ways retry until the operation completes (a timed
 * one with a short timeout, so that timeouts expire on the way), so every
 * way ends with CHAN_OK or CHAN_CLOSED, like the blocking call. A select
 * case sits beside a receive from `idle`, a channel nobody uses, so the
 * select really waits on two channels. */
enum op_way {
  WAY_BLOCKING,       /* chan_send / chan_recv */
  WAY_TRY,            /* chan_try_send / chan_try_recv */
  WAY_TIMEOUT,        /* chan_send_timeout / chan_recv_timeout */
  WAY_SELECT,         /* chan_select, CHAN_FOREVER */
  WAY_SELECT_TIMEOUT, /* chan_select with a timeout */
  WAY_SELECT_POLL,    /* chan_select, CHAN_POLL (Go's default case) */
  WAY_COUNT
};

static inline const char *way_name(enum op_way way, enum chan_dir dir) {
  static const char *const send[WAY_COUNT] = {"chan_send",
                                              "chan_try_send",
                                              "chan_send_timeout",
                                              "chan_select(send, forever)",
                                              "chan_select(send, timeout)",
                                              "chan_select(send, poll)"};
  static const char *const recv[WAY_COUNT] = {"chan_recv",
                                              "chan_try_recv",
                                              "chan_recv_timeout",
                                              "chan_select(recv, forever)",
                                              "chan_select(recv, timeout)",
                                              "chan_select(recv, poll)"};
  return dir == CHAN_SEND ? send[way] : recv[way];
}

/* The timeout of the timed ways: short, so some expire and are retried. */
#define WAY_TIMEOUT_NS ((int64_t)200000)

/* One operation made `way`; returns CHAN_OK or CHAN_CLOSED (or an error). */
static inline int way_op(enum op_way way, enum chan_dir dir, chan_t *ch,
                         chan_t *idle, void *elem) {
  for (;;) {
    int rc;
    switch (way) {
    case WAY_BLOCKING:
      return dir == CHAN_SEND ? chan_send(ch, elem) : chan_recv(ch, elem);
    case WAY_TRY:
      rc = dir == CHAN_SEND ? chan_try_send(ch, elem) : chan_try_recv(ch, elem);
      break;
    case WAY_TIMEOUT:
      rc = dir == CHAN_SEND ? chan_send_timeout(ch, elem, WAY_TIMEOUT_NS)
                            : chan_recv_timeout(ch, elem, WAY_TIMEOUT_NS);
      break;
    default: {
      struct chan_case cases[2] = {{ch, dir, elem}, {idle, CHAN_RECV, NULL}};
      int64_t timeout = way == WAY_SELECT           ? CHAN_FOREVER
                        : way == WAY_SELECT_TIMEOUT ? WAY_TIMEOUT_NS
                                                    : CHAN_POLL;
      size_t chosen = 99;
      rc = chan_select(cases, 2, timeout, &chosen);
      if ((rc == CHAN_OK || rc == CHAN_CLOSED) && chosen != 0)
        test_fail(__FILE__, __LINE__, "%s fired case %zu, the idle channel",
                  way_name(way, dir), chosen);
      break;
    }
    }
    if (rc != CHAN_WOULD_BLOCK && rc != CHAN_TIMEOUT)
      return rc;
    test_yield();
  }
}

#endif /* CHAN_TESTS_CORE_UTIL_H */
