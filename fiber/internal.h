/*
 * internal.h - the fiber runtime's own structures, shared by its files.
 * The channels meet the runtime only at the park seam
 * (impls/common/park_seam.h), which fiber.c implements; the runtime needs
 * nothing else of the channel core. Not public: the API is
 * include/chan/fiber.h.
 *
 * Files: runtime.c (start/stop, workers, the scheduling loop, idle and
 * wake-up), fiber.c (spawn, join, switching, parking), runq.c (run queues),
 * timer.c (per-worker timer heaps), stack.c (stacks and their pool),
 * switch.h (the context switch and the sanitizers' fiber annotations).
 */
#ifndef CL_FIBER_INTERNAL_H
#define CL_FIBER_INTERNAL_H

#include <chan/chan_debug.h>
#include <chan/fiber.h>

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/park_seam.h"
#include "common/sync.h"

struct cl_worker;

/* Boost.Context's fcontext (C linkage in libboost_context): a saved
 * context is an opaque pointer into the stack it was saved on. */
typedef void *cl_fcontext;

/* ---- fibers ------------------------------------------------------------ */

/* A fiber's descriptor lives at the top of its own stack mapping, so a
 * pooled stack comes with its descriptor and spawning allocates nothing
 * once the pool is warm. */
struct chan_fiber {
  cl_fcontext ctx;       /* saved context while not running */
  cl_fcontext sched_ctx; /* the scheduler to return to (set on each resume) */
  struct chan_rt *rt;
  struct cl_worker *worker; /* the worker running it; set before resume */
  chan_fiber_fn fn;
  void *arg, *ret;
  uint64_t id;
  struct chan_fiber *link; /* global run queue, stack pool */
  /* 1 while a worker runs it: resuming a running fiber (made runnable
   * twice) would run one stack on two threads, so it is checked. */
  _Atomic bool on_cpu;

  /* Joining: 0, the joiner's parker, or CL_FIBER_JOIN_DONE. */
  _Atomic uintptr_t joiner;
  /* References: the running fiber holds one, a join handle another; the
   * last to let go returns the stack to the pool. */
  _Atomic int refs;

  /* Timer (timer.c): a node of the pairing heap of the worker it was armed
   * on, guarded by that heap's lock. */
  struct cl_worker *timer_heap; /* NULL when not armed */
  int64_t deadline;
  struct cl_parker *timer_parker;
  struct chan_fiber *timer_child, *timer_next, *timer_prev;

  /* Stack (stack.c). */
  unsigned char *map;   /* the whole mapping, guard page included */
  size_t map_size;      /* 0 for a stack carved from a shared mapping */
  unsigned char *stack; /* lowest usable byte */
  size_t stack_size;    /* usable bytes below the descriptor */

  /* Sanitizers (switch.h). */
  void *asan_fake_stack;
  void *tsan_fiber;
};

#define CL_FIBER_JOIN_DONE ((uintptr_t)1)

/* ---- workers and the runtime ------------------------------------------- */

#define CL_RUNQ_SIZE 256 /* a power of two */

/* Counters (chan_debug.h's list), each written by its worker only
 * (relaxed), summed on read. */
struct cl_worker_stats {
#define CL_STAT_FIELD(name, what) _Atomic uint64_t name;
  CHAN_DEBUG_RT_COUNTERS(CL_STAT_FIELD)
#undef CL_STAT_FIELD
};

struct cl_worker {
  struct chan_rt *rt;
  unsigned index;
  pthread_t thread;
  int pu; /* OS index of the PU it is pinned to, or -1 */

  /* Local run queue (runq.c): the owner puts at tail, the owner and
   * thieves take from head. runnext is the fiber to run next. */
  alignas(64) _Atomic uint32_t head;
  _Atomic uint32_t tail;
  _Atomic(struct chan_fiber *) slots[CL_RUNQ_SIZE];
  alignas(64) _Atomic(struct chan_fiber *) runnext;
  _Atomic(struct chan_fiber *) current; /* running fiber, NULL in the loop */

  /* Owner-only scheduling state. */
  unsigned runnext_streak;
  uint32_t tick;
  uint64_t rng;
  bool spinning;
  int64_t watch_ns;  /* how long an idle sleep lasts at most (runtime.c) */
  unsigned *victims; /* other workers, nearest first */

  /* Timers (timer.c): a pairing heap of armed fibers. */
  alignas(64) struct cl_futex_lock timer_lock;
  struct chan_fiber *timer_root;
  _Atomic int64_t timer_next; /* root's deadline, or CL_DEADLINE_NONE */

  /* Idle (runtime.c): the futex word the worker sleeps on (CL_AWAKE,
   * CL_IDLE_SPINNING or CL_IDLE_SLEEPING), and until when it sleeps. */
  alignas(64) _Atomic uint32_t sleep_word;
  _Atomic int64_t sleep_until;
  struct cl_worker *idle_next; /* rt->idle_lock */
  bool idle;                   /* on the idle list; rt->idle_lock */

  /* The scheduler's own stack, for the sanitizers' switch annotations. */
  const void *stack_bottom;
  size_t stack_size;
  void *asan_fake_stack;
  void *tsan_fiber;

  struct cl_worker_stats stats;
};

struct chan_rt {
  unsigned nworkers;
  struct cl_worker *workers;
  size_t stack_size;
  bool guarded;

  /* Global run queue: fibers made ready by plain threads, and overflow. */
  alignas(64) struct cl_futex_lock global_lock;
  struct chan_fiber *global_head, *global_tail;
  _Atomic size_t global_len;

  /* Idle workers and the spinning count (runtime.c). */
  alignas(64) struct cl_futex_lock idle_lock;
  struct cl_worker *idle_list;
  _Atomic unsigned nidle, nspinning;

  /* Lifecycle: live counts fibers spawned and not yet finished. */
  alignas(64) _Atomic size_t live;
  _Atomic bool stopped;    /* no more spawns; workers exit */
  pthread_mutex_t life_mu; /* guards the stop/spawn decision */
  pthread_cond_t life_cv;  /* signalled when live reaches 0 */

  /* Stack pool (stack.c). */
  struct cl_futex_lock pool_lock;
  struct chan_fiber *pool;
  size_t pooled;
  unsigned char *carve, *carve_end; /* unguarded: the current big mapping */
  _Atomic unsigned stack_colour;     /* the next slot's colour (stack.c) */
  void **maps;                      /* unguarded: every big mapping */
  size_t nmaps, cap_maps;

  _Atomic size_t handles; /* join handles not yet joined */
  _Atomic uint64_t spawned;
};

enum { CL_AWAKE = 0, CL_IDLE_SPINNING = 1, CL_IDLE_SLEEPING = 2 };

/* runtime.c */
void cl_rt_wakep(struct chan_rt *rt);
/* A timer at deadline was armed: wakes a sleeping worker that would sleep
 * past it, so a busy worker cannot hold the timer up. */
void cl_rt_timer_armed(struct chan_rt *rt, int64_t deadline);
void cl_rt_fiber_finished(struct chan_rt *rt);

/* runq.c */
void cl_runq_put(struct cl_worker *w, struct chan_fiber *f);
/* Returns true if it displaced a fiber into the queue. */
bool cl_runq_put_next(struct cl_worker *w, struct chan_fiber *f);
struct chan_fiber *cl_runq_get(struct cl_worker *w);
struct chan_fiber *cl_runq_steal(struct cl_worker *thief,
                                 struct cl_worker *victim, bool take_next);
bool cl_runq_empty(struct cl_worker *w);
/* Fibers in w's queue (runnext not counted); for its owner. */
uint32_t cl_runq_len(struct cl_worker *w);
void cl_global_put(struct chan_rt *rt, struct chan_fiber *f);
struct chan_fiber *cl_global_get(struct cl_worker *w, bool batch);

/* timer.c */
void cl_timer_arm(struct cl_worker *w, struct chan_fiber *f,
                  struct cl_parker *p, int64_t deadline);
void cl_timer_disarm(struct cl_worker *w, struct chan_fiber *f);
/* Fires w's due timers; returns how many fibers it woke. */
unsigned cl_timer_run(struct cl_worker *w, int64_t now);
/* The same at the clock's now, read only if w has a timer armed. */
unsigned cl_timer_run_due(struct cl_worker *w);
int64_t cl_timer_next(struct cl_worker *w);

/* stack.c */
struct chan_fiber *cl_stack_get(struct chan_rt *rt);
void cl_stack_put(struct chan_rt *rt, struct chan_fiber *f);
void cl_stack_free_all(struct chan_rt *rt);

/* Relaxed counter bump by the counter's only writer. */
static inline void cl_stat_inc(_Atomic uint64_t *c) {
  atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
                        memory_order_relaxed);
}

#endif /* CL_FIBER_INTERNAL_H */
