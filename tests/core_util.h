/* core_util.h - helpers shared by the channel core's tests. */
#ifndef CHAN_TESTS_CORE_UTIL_H
#define CHAN_TESTS_CORE_UTIL_H

#include "harness.h"

#include <chan/chan_debug.h>

/* One operation run on its own thread, so the test can observe it blocked
 * (test_wait_waiters) and then release it. */
struct op_thread {
  chan_t *ch;
  enum chan_dir dir;
  int64_t value;      /* sent, or received into */
  int64_t timeout_ns; /* < 0: block (chan_send/chan_recv) */
  int result;
  int done; /* set (release) when the operation returned */
  pthread_t thread;
};

static inline void *op_thread_main(void *arg) {
  struct op_thread *op = arg;
  if (op->dir == CHAN_SEND)
    op->result = op->timeout_ns < 0
                     ? chan_send(op->ch, &op->value)
                     : chan_send_timeout(op->ch, &op->value, op->timeout_ns);
  else
    op->result = op->timeout_ns < 0
                     ? chan_recv(op->ch, &op->value)
                     : chan_recv_timeout(op->ch, &op->value, op->timeout_ns);
  __atomic_store_n(&op->done, 1, __ATOMIC_RELEASE);
  return NULL;
}

static inline void op_start(struct op_thread *op, chan_t *ch, enum chan_dir dir,
                            int64_t value) {
  *op = (struct op_thread){
      .ch = ch, .dir = dir, .value = value, .timeout_ns = -1};
  op->thread = test_thread_start(op_thread_main, op);
}

static inline bool op_done(const struct op_thread *op) {
  return __atomic_load_n(&op->done, __ATOMIC_ACQUIRE);
}

static inline void op_join(struct op_thread *op) {
  test_thread_join(op->thread);
}

#endif /* CHAN_TESTS_CORE_UTIL_H */
