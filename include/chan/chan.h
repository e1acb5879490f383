/*
 * chan.h - Go-style channels in C11, several implementations behind one API.
 *
 * A channel carries fixed-size values, copied in on send and out on receive.
 * Its implementation is chosen by name when it is made ("mutex", "ring",
 * "futex", ...; see chan_impl_names()), so the same program, test or benchmark
 * can run on every implementation. All implementations share Go's semantics:
 *
 *   - capacity 0 is an unbuffered rendezvous: a send completes only when a
 *     receiver takes the value, and a receive only when a sender gives one;
 *   - capacity > 0 is a FIFO buffer: send blocks only when it is full,
 *     receive only when it is empty;
 *   - after chan_close(), values buffered before the close are still received,
 *     in order; then every receive returns CHAN_CLOSED at once. Close wakes
 *     every blocked sender (they get CHAN_CLOSED; their value is not
 *     delivered) and receiver. Sending on a closed channel returns
 *     CHAN_CLOSED; closing twice returns CHAN_EALREADY_CLOSED.
 *   - chan_select() waits on several sends and receives at once; exactly one
 *     case proceeds, chosen uniformly at random among the ready ones.
 *
 * Memory model: Go's (go.dev/ref/mem, "Channel communication"), on every
 * implementation and for every way of sending and receiving (blocking, try,
 * timeout, select). With "happens before" as in C11:
 *   1. a send happens before the corresponding receive completes;
 *   2. the closing of a channel happens before a receive that returns
 *      CHAN_CLOSED because the channel is closed;
 *   3. a receive from an unbuffered channel happens before the
 *      corresponding send completes;
 *   4. the k-th receive on a channel of capacity C happens before the
 *      (k+C)-th send on it completes (so a buffered channel is a
 *      counting semaphore).
 * So plain (non-atomic) memory written before one of these operations may
 * be read after the other without a data race. Nothing else is promised:
 * an operation that returns CHAN_WOULD_BLOCK or CHAN_TIMEOUT, a send that
 * returns CHAN_CLOSED, chan_len and chan_cap order no memory.
 * (tests/core_memory_model.c checks each rule under ThreadSanitizer.)
 *
 * Order of service: threads blocked on a channel are queued in the order
 * they blocked and woken in that order. "futex", "mutex", and "ring" at
 * capacity 0 complete a queued thread's operation themselves (direct
 * handoff), so blocked senders, and blocked receivers, are served strictly
 * first come, first served. "ring" with a buffer wakes the first queued
 * thread to retry: it is served in its turn unless another thread (one
 * that never blocked, another woken one, or one queued but not yet asleep)
 * takes the value or slot first; a thread that loses queues again at the
 * back. So there, service is FIFO only while nothing else competes.
 * chan_debug_strict_fifo() (chan_debug.h) tells which a channel does.
 * (tests/core_fifo.c)
 *
 * Blocking: a blocked operation may first spin for about a microsecond
 * ("ring" also yields for up to 20 us), then sleeps on a futex or a
 * condition variable and uses no CPU until it is woken. (tests/core_idle.c)
 *
 * Threads, cancellation and signals (tests/core_cancel.c):
 *   - No function here is a cancellation point, on any implementation. A
 *     pthread_cancel() of a thread blocked in a send, receive or select,
 *     timed or not, stays pending while the operation runs to its normal
 *     end (a counterpart, a close, or its timeout) and returns its normal
 *     result; the thread is canceled at its next cancellation point after
 *     that, and pthread_join() then returns PTHREAD_CANCELED. A value
 *     handed to it moves exactly once and the channel stays usable. A
 *     thread blocked for good stays blocked: to release it, close the
 *     channel, or block in a select that also waits on a done channel.
 *     Asynchronous cancellation (PTHREAD_CANCEL_ASYNCHRONOUS) is not
 *     supported: like most of libc, these functions are not
 *     async-cancel-safe.
 *   - A signal handler that returns does not disturb a blocked operation:
 *     it stays blocked and then completes normally. Leaving a blocked
 *     operation any other way (pthread_exit, longjmp or a C++ exception
 *     from a handler) is NOT supported: the operation's waiter record lives
 *     on that thread's stack while it is queued on the channel, and the
 *     next counterpart would write into the abandoned stack. For the same
 *     reason, and because they take locks, these functions are not
 *     async-signal-safe: do not call them from a signal handler.
 *
 * Thread safety: every function may be called from any thread at any time,
 * except chan_destroy(), which REQUIRES that no other thread uses or will use
 * the channel (it reports CHAN_EBUSY if it sees a blocked thread).
 *
 * No function allocates memory except chan_make().
 */
#ifndef CHAN_CHAN_H
#define CHAN_CHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Result codes. Non-negative codes are outcomes; negative ones are errors
 * (bad input or resources). chan_last_error() explains the latest error. */
enum chan_status {
  CHAN_OK = 0,          /* the operation completed */
  CHAN_CLOSED = 1,      /* channel closed (receive: closed and drained) */
  CHAN_WOULD_BLOCK = 2, /* try/poll: the operation could not complete now */
  CHAN_TIMEOUT = 3,     /* deadline passed; the operation had no effect */

  CHAN_EINVAL = -1,          /* NULL channel/value, bad size, bad timeout */
  CHAN_EUNKNOWN_IMPL = -2,   /* no implementation registered by that name */
  CHAN_ENOMEM = -3,          /* allocation failed in chan_make() */
  CHAN_EALREADY_CLOSED = -4, /* chan_close() on a closed channel */
  CHAN_EBUSY = -5,           /* chan_destroy() while threads are blocked */
  CHAN_ESTOPPED = -6,        /* fiber.h: the runtime is stopped */
  CHAN_ENOTFIBER = -7,       /* fiber.h: a fiber-only call on a plain thread */
  CHAN_EIMPL_ABI = -8,       /* impl.h: built for another CHAN_IMPL_ABI_VERSION */
  CHAN_EIMPL_EXISTS = -9,    /* impl.h: that implementation name is taken */
  CHAN_EIMPL_LOAD = -10,     /* chan_impl_load(): dlopen failed */
  CHAN_EIMPL_SYMBOL = -11,   /* chan_impl_load(): no entry symbol in it */
  CHAN_ENOTSUP = -12,        /* fiber.h: libchan built without fibers (CHAN_FIBERS=OFF) */
};

/* An opaque channel. */
typedef struct chan chan_t;

/* Largest element size and capacity accepted by chan_make(). The product
 * elem_size * capacity must also fit in memory (checked for overflow). */
#define CHAN_MAX_ELEM_SIZE ((size_t)1 << 24)
#define CHAN_MAX_CAPACITY  ((size_t)1 << 30)

/* Makes a channel.
 *   impl:      implementation name; NULL or "default" picks the default.
 *   elem_size: bytes per value; 0 makes a signal-only channel (Go's
 *              chan struct{}), whose value pointers may be NULL.
 *   capacity:  0 for an unbuffered (rendezvous) channel, else buffer size.
 * Returns CHAN_OK and stores the channel in *out, or CHAN_EINVAL (out NULL,
 * size or capacity too large), CHAN_EUNKNOWN_IMPL (the message lists the
 * registered names) or CHAN_ENOMEM. Never blocks. */
int chan_make(chan_t **out, const char *impl, size_t elem_size,
              size_t capacity);

/* Frees a channel. REQUIRES no thread is blocked on or still using it.
 * Returns CHAN_OK, CHAN_EINVAL for NULL, or CHAN_EBUSY if it sees a blocked
 * thread (the channel is then left intact). */
int chan_destroy(chan_t *ch);

/* Sends the elem_size bytes at elem. May block.
 * Returns CHAN_OK once the value is delivered (unbuffered) or buffered,
 * CHAN_CLOSED if the channel is or becomes closed first (the value is not
 * delivered), CHAN_EINVAL if ch is NULL or elem is NULL with elem_size > 0. */
int chan_send(chan_t *ch, const void *elem);

/* Receives a value into elem (NULL discards it). May block.
 * Returns CHAN_OK with the value, CHAN_CLOSED once the channel is closed and
 * drained (elem is then zero-filled, like Go's zero value), CHAN_EINVAL. */
int chan_recv(chan_t *ch, void *elem);

/* Like chan_send/chan_recv, but never block: CHAN_WOULD_BLOCK when the
 * operation cannot complete now. An unbuffered try-send succeeds only if a
 * receiver is already waiting (and a try-receive only if a sender is). */
int chan_try_send(chan_t *ch, const void *elem);
int chan_try_recv(chan_t *ch, void *elem);

/* Like chan_send/chan_recv, but give up after timeout_ns nanoseconds
 * (CLOCK_MONOTONIC) with CHAN_TIMEOUT; the operation then had no effect.
 * timeout_ns == 0 polls (same as the try operations); negative is
 * CHAN_EINVAL. */
int chan_send_timeout(chan_t *ch, const void *elem, int64_t timeout_ns);
int chan_recv_timeout(chan_t *ch, void *elem, int64_t timeout_ns);

/* Closes the channel: wakes every blocked sender and receiver. Never blocks.
 * Returns CHAN_OK, CHAN_EALREADY_CLOSED, or CHAN_EINVAL for NULL. */
int chan_close(chan_t *ch);

/* Number of buffered values (a snapshot), and the capacity. 0 for NULL. */
size_t chan_len(const chan_t *ch);
size_t chan_cap(const chan_t *ch);
size_t chan_elem_size(const chan_t *ch);

/* The implementation's registered name ("" for NULL). */
const char *chan_impl_name(const chan_t *ch);

/* The registered implementation names, NULL-terminated; *count (if not NULL)
 * receives how many. The first one is the default. */
const char *const *chan_impl_names(size_t *count);

/* A one-line description of the named implementation (NULL or "default":
 * the default one), for listings; NULL if no implementation has that name. */
const char *chan_impl_summary(const char *name);

/* Loads an implementation from a shared object and registers it (see
 * chan/impl.h for writing one): its name then works in chan_make() and is
 * listed by chan_impl_names(). Returns CHAN_OK or a negative code with
 * chan_last_error() saying why: CHAN_EIMPL_LOAD (dlopen failed),
 * CHAN_EIMPL_SYMBOL (no chan_impl_plugin entry), CHAN_EIMPL_ABI (built
 * against another chan/impl.h), CHAN_EIMPL_EXISTS (the name is taken),
 * CHAN_EINVAL (NULL path, or a definition missing its name, create or a
 * required operation). Nothing of a rejected object's implementation runs.
 *
 * Environment: the first time the registry is consulted (chan_make,
 * chan_impl_names, chan_impl_summary), every path in CHANLAB_IMPLS
 * (colon-separated) is loaded this way; one that fails is reported on
 * stderr and its name stays unknown to chan_make(). */
int chan_impl_load(const char *path);

/* ---- select ------------------------------------------------------------ */

enum chan_dir { CHAN_SEND = 1, CHAN_RECV = 2 };

/* One case of a select. A case whose chan is NULL is never ready (Go's nil
 * channel): use it to disable a case without rebuilding the array. */
struct chan_case {
  chan_t *chan;
  enum chan_dir dir;
  void *elem; /* send: the value to send; receive: where to store (or NULL) */
};

/* Timeouts for chan_select(). */
#define CHAN_FOREVER ((int64_t)-1) /* block until a case fires */
#define CHAN_POLL    ((int64_t)0)  /* Go's default: never block */

/* Most cases one select may hold (they live on the caller's stack). */
#define CHAN_SELECT_MAX_CASES 64

/* Waits until one case can proceed and performs exactly that one.
 *   timeout_ns: CHAN_FOREVER, CHAN_POLL, or a positive timeout.
 *   *chosen:    receives the index of the case that fired.
 * Returns CHAN_OK (the case completed), CHAN_CLOSED (the case fired because
 * its channel is closed: a receive got the zero value, a send delivered
 * nothing), CHAN_WOULD_BLOCK (CHAN_POLL and no case was ready),
 * CHAN_TIMEOUT, or CHAN_EINVAL (NULL cases/chosen, too many cases, a bad
 * direction, a NULL send value with elem_size > 0, or CHAN_FOREVER with no
 * non-NULL channel, which would block forever). Among ready cases the choice
 * is uniformly random. Cases may name the same channel more than once and
 * mix implementations. A select never pairs its own send with its own
 * receive. */
int chan_select(struct chan_case *cases, size_t ncases, int64_t timeout_ns,
                size_t *chosen);

/* Seeds this thread's select random choice (for reproducible runs). */
void chan_select_seed(uint64_t seed);

/* ---- errors ------------------------------------------------------------ */

/* A static description of a status code. */
const char *chan_strerror(int status);

/* The calling thread's message for its latest error (empty if none). */
const char *chan_last_error(void);

#ifdef __cplusplus
}
#endif

#endif /* CHAN_CHAN_H */
