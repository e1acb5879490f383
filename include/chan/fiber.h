/*
 * fiber.h - goroutines in C: an M:N runtime of fibers under the channels of
 * chan.h.
 *
 * A runtime (chan_rt) runs fibers on a few worker threads, one per PU by
 * default. A fiber is a function with its own small stack, started by
 * chan_fiber_spawn() (Go's `go` statement). When a fiber blocks in any
 * channel operation of chan.h (send, receive, select, their timed and try
 * forms) it parks in user space and its worker runs other fibers; waking it
 * makes it runnable again, next on the waker's worker (Go's runnext), so a
 * ping-pong or a pipeline of fibers stays on one core without a system call.
 * Every channel implementation works from fibers, and threads and fibers may
 * use the same channel at the same time, in both directions.
 *
 * Scheduling: each worker has a local run queue; an idle worker steals half
 * of another's queue, nearest PUs first (hwloc), then sleeps on a futex
 * (a bounded number of workers spin looking for work first; an idle runtime
 * uses no CPU). Timers (channel and select timeouts, chan_fiber_sleep) live
 * in a heap per worker, not in threads.
 *
 * Cooperative: a fiber runs until it blocks in a channel operation, sleeps,
 * yields, joins or returns. A fiber that blocks its worker thread instead (a
 * long computation, a blocking system call, sleep(3), pthread_mutex_lock
 * held for long, chan_rt_stop) stalls the fibers queued behind it on that
 * worker; other workers steal them. Thread cancellation and signal handlers
 * that leave a fiber's stack are not supported on worker threads.
 *
 * Stacks: each fiber gets a stack of chan_rt_options.stack_size bytes
 * (default CHAN_FIBER_STACK_DEFAULT), mmap'd with an inaccessible guard page
 * below it, so an overflow faults (SIGSEGV) at once instead of corrupting
 * memory; stacks of finished fibers are reused. Each guarded stack costs two
 * kernel memory mappings, and Linux allows about 65530 per process
 * (vm.max_map_count): beyond about 30000 live fibers, start the runtime with
 * .unguarded = true (stacks carved from large mappings, no guard page) or
 * raise vm.max_map_count; spawning past the limit fails with CHAN_ENOMEM.
 *
 * Errors use chan.h's codes and chan_last_error().
 *
 * A thread-only libchan (configured with -DCHAN_FIBERS=OFF: no fiber
 * runtime, no Boost.Context or hwloc) still has every function below:
 * chan_rt_start, chan_rt_stop, chan_rt_free, chan_fiber_spawn,
 * chan_fiber_join, chan_fiber_yield and chan_fiber_exit return CHAN_ENOTSUP
 * and chan_last_error() says the library was built without the fiber
 * runtime; chan_fiber_self and chan_fiber_runtime return NULL,
 * chan_rt_workers and chan_fiber_id 0, and chan_fiber_sleep sleeps the
 * calling thread, as on a plain thread of a fiber build.
 */
#ifndef CHAN_FIBER_H
#define CHAN_FIBER_H

#include <chan/chan.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct chan_rt chan_rt;       /* a runtime: workers and their fibers */
typedef struct chan_fiber chan_fiber; /* a joinable fiber */

typedef void *(*chan_fiber_fn)(void *arg);

#define CHAN_FIBER_STACK_DEFAULT ((size_t)256 << 10)
#define CHAN_FIBER_STACK_MIN     ((size_t)16 << 10)
#define CHAN_FIBER_STACK_MAX     ((size_t)1 << 30)
#define CHAN_RT_MAX_WORKERS      256

/* Zero-initialized options are the defaults. */
struct chan_rt_options {
  unsigned workers;  /* worker threads; 0: one per PU this process may use */
  size_t stack_size; /* bytes per fiber stack; 0: CHAN_FIBER_STACK_DEFAULT */
  bool unguarded;    /* no guard page below each stack (see above) */
  bool unpinned;     /* do not pin worker i to the i-th usable PU */
};

/* Starts a runtime. Returns CHAN_OK and stores it in *out, CHAN_EINVAL (out
 * NULL, workers above CHAN_RT_MAX_WORKERS, a stack size outside
 * [CHAN_FIBER_STACK_MIN, CHAN_FIBER_STACK_MAX]) or CHAN_ENOMEM (threads or
 * memory). */
int chan_rt_start(chan_rt **out, const struct chan_rt_options *options);

/* Waits up to timeout_ns (CHAN_FOREVER, CHAN_POLL, or ns) for every fiber of
 * rt to finish, then stops its workers. Returns CHAN_OK when stopped;
 * CHAN_EBUSY when fibers are still running or blocked at the timeout (the
 * runtime keeps running, nothing is lost: release them, e.g. by closing
 * their channels, and call again); CHAN_EINVAL for NULL or when called from
 * one of rt's own fibers (it would wait for itself). Fibers may spawn
 * fibers while it waits. Stopping a stopped runtime returns CHAN_OK. */
int chan_rt_stop(chan_rt *rt, int64_t timeout_ns);

/* Frees a stopped runtime. CHAN_EBUSY (and nothing freed) if it is not
 * stopped; CHAN_EINVAL for NULL. */
int chan_rt_free(chan_rt *rt);

/* Worker threads of rt (0 for NULL). */
unsigned chan_rt_workers(const chan_rt *rt);

/* Starts fn(arg) on a new fiber of rt (Go's `go fn(arg)`). With out NULL the
 * fiber is detached; otherwise *out receives a handle that must be joined
 * exactly once. A fiber spawned from a fiber of rt runs next on the
 * spawner's worker. Returns CHAN_OK, CHAN_EINVAL (rt or fn NULL),
 * CHAN_ESTOPPED (rt is stopped) or CHAN_ENOMEM (stack or memory; the message
 * says which limit). */
int chan_fiber_spawn(chan_rt *rt, chan_fiber **out, chan_fiber_fn fn,
                     void *arg);

/* Waits for f to finish, stores fn's return value in *ret (if ret is not
 * NULL) and frees the handle. Callable from a thread or a fiber (a fiber
 * parks). CHAN_EINVAL for NULL or for a fiber joining itself. */
int chan_fiber_join(chan_fiber *f, void **ret);

/* The calling fiber, or NULL on a plain thread. */
chan_fiber *chan_fiber_self(void);

/* The calling fiber's runtime, or NULL on a plain thread. */
chan_rt *chan_fiber_runtime(void);

/* A fiber's number, unique within the process, from 1; 0 for NULL. */
uint64_t chan_fiber_id(const chan_fiber *f);

/* Lets the other runnable fibers of this worker run first. CHAN_OK, or
 * CHAN_ENOTFIBER on a plain thread (nothing happens). */
int chan_fiber_yield(void);

/* Sleeps for ns nanoseconds (CLOCK_MONOTONIC): a fiber parks on its
 * worker's timer heap, a plain thread sleeps. CHAN_OK, or CHAN_EINVAL for a
 * negative ns. */
int chan_fiber_sleep(int64_t ns);

/* Ends the calling fiber as if its function returned ret. Does not return
 * on a fiber; returns CHAN_ENOTFIBER on a plain thread. Nothing is unwound:
 * the fiber's own resources (locks, memory) are its own to release first. */
int chan_fiber_exit(void *ret);

#ifdef __cplusplus
}
#endif

#endif /* CHAN_FIBER_H */
