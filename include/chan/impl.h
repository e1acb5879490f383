/*
 * impl.h - the implementation interface: how to write a channel
 * implementation that chan.h's functions dispatch to, in this tree or out of
 * it (a program that links one in, or a shared object loaded at run time).
 *
 * C11 (it uses <stdatomic.h> for the parker's claim); a C++ program uses
 * chan.h, and writes its implementation's table in a C file.
 *
 * Versioned: CHAN_IMPL_ABI_VERSION changes whenever a structure below
 * changes layout or an operation's contract changes. A definition built
 * against another version is refused (CHAN_EIMPL_ABI).
 *
 * The in-tree implementations (impls/) use exactly these definitions:
 * impls/common/impl.h includes this header and only gives the types their
 * internal cl_ names, so what is documented here is what runs.
 *
 * ---- What an implementation provides ------------------------------------
 *
 * A struct chan_impl_def (below): its name, a create() that makes a channel,
 * and the table of operations (struct chan_ops) every channel of it uses.
 * Register it with chan_impl_register() (a program that links it in), or
 * build it as a shared object exporting CHAN_IMPL_ENTRY_SYMBOL and load it
 * with chan_impl_load() or the CHANLAB_IMPLS environment variable (chan.h).
 *
 * A channel is a structure whose FIRST member is struct chan (the header
 * below); create() allocates it (the only allocation: no operation may
 * allocate, lock a global lock or do I/O) and fills park_kind and
 * park_spin. For a registered implementation chan_make() then fills ops,
 * impl, elem_size and capacity itself, so every channel dispatches to the
 * table that was validated at registration. The public functions call the
 * table directly (one indirect call, as for the in-tree implementations).
 *
 * ---- What the core checked before calling an operation ------------------
 *
 *   - ch is a channel create() returned and destroy() has not been called
 *     on (the core cannot check use after destroy: that is the caller's
 *     contract in chan.h); NULL channels never reach an operation (the
 *     public functions reject them, select skips them: Go's nil channel);
 *   - send: elem is non-NULL whenever elem_size > 0; recv: elem may be NULL
 *     (discard the value);
 *   - deadlines are absolute CLOCK_MONOTONIC nanoseconds, already computed
 *     from the caller's relative timeout, or CHAN_DEADLINE_POLL (try once,
 *     never block) or CHAN_DEADLINE_NONE (block until done); a deadline in
 *     the past is valid and means "time out unless it completes now";
 *   - elem_size <= CHAN_MAX_ELEM_SIZE, capacity <= CHAN_MAX_CAPACITY and
 *     elem_size * capacity does not overflow, when create() is called;
 *   - close: not already reported closed by the core (the operation itself
 *     decides: it returns CHAN_EALREADY_CLOSED for a second close and the
 *     core writes the message);
 *   - destroy: waiters(SEND) + waiters(RECV) was 0 just before.
 *
 * ---- What every operation must guarantee --------------------------------
 *
 * Go's semantics and memory model exactly as chan.h states them (the four
 * happens-before rules; FIFO buffer; close drains then reports CHAN_CLOSED
 * and wakes every blocked sender and receiver; a timed-out or would-block
 * operation has no effect). Thread safety: any operation from any thread
 * at any time except destroy. No allocation, no cancellation point, no
 * unbounded spinning without parking. What the core cannot check, because
 * it only sees return codes: the semantics, the memory ordering, that
 * nothing allocates, and that blocked callers really sleep. Run the core
 * tests on a new implementation (README, "Your own implementation").
 *
 * Blocking must go through struct chan_parker (below) so that select works
 * across implementations and fibers park in user space: a blocked thread
 * or fiber is a struct chan_waiter queued on the channel, pointing at a
 * parker on the blocked caller's stack.
 */
#ifndef CHAN_IMPL_H
#define CHAN_IMPL_H

#include <chan/chan.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CHAN_IMPL_ABI_VERSION 1

/* The symbol a shared object exports for chan_impl_load(): a function
 * `const struct chan_impl_def *chan_impl_plugin(void)` returning a
 * definition that lives as long as the process (a registered object is
 * never unloaded). It is the only code of a plugin that runs before the
 * definition is accepted, so it must do nothing but return it: in
 * particular it must not call chan_ functions (it may be running inside
 * the registry's first consultation, CHANLAB_IMPLS). */
#define CHAN_IMPL_ENTRY_SYMBOL "chan_impl_plugin"
typedef const struct chan_impl_def *(*chan_impl_entry_fn)(void);
const struct chan_impl_def *chan_impl_plugin(void); /* a plugin defines it */

/* Deadlines are absolute CLOCK_MONOTONIC nanoseconds, or one of these. */
#define CHAN_DEADLINE_NONE INT64_MAX /* block until done */
#define CHAN_DEADLINE_POLL INT64_MIN /* never block */

/* ---- parking: where a blocked waiter sleeps ------------------------------
 *
 * The claim protocol (the in-tree one, checked by stress/model/):
 *   1. The blocked caller initializes a parker on its own stack
 *      (chan_parker_init) and queues one waiter per operation pointing at it
 *      (a plain send/receive: one; a select: one per case, on each
 *      channel, all sharing the parker).
 *   2. Whoever wants to act on a queued waiter (a counterpart operation, a
 *      close, or the owner itself) must first win chan_parker_claim(p,
 *      w->case_index + 1): exactly one party wins, so exactly one case of a
 *      select fires. A waiter whose parker someone else claimed is stale:
 *      drop it from the queue and look at the next one.
 *   3. The winner (if not the owner) moves the value (send: read w->elem;
 *      receive: write w->elem unless NULL; close: zero w->elem for a
 *      receiver) under the channel's own synchronization, removes w from
 *      the queue, and calls chan_parker_wake(p, outcome) as its LAST touch
 *      of w and p (outcome CHAN_OK or CHAN_CLOSED; CHAN_PARKER_NOTIFIED to
 *      wake it to retry, which then requires the renotify operation): the
 *      owner may return and reuse its stack at once. Wake after releasing
 *      any lock of the channel's if possible.
 *   4. The owner waits with chan_parker_wait(p, deadline); true means it
 *      was woken (p->outcome holds the outcome), false that it timed out
 *      and then nobody else can claim it. Before returning it removes its
 *      waiters that are still queued, under the channel's synchronization.
 *
 * A waiter's fields other than the queue links are constant while queued;
 * the queue links (next, prev, queued) are the channel's to use, under its
 * own lock. chan_parker_wake publishes (release) what the winner wrote;
 * chan_parker_wait acquires it.
 */

/* How a blocked thread sleeps (struct chan.park_kind asks for one; a fiber
 * always parks in user space whatever it says). */
enum chan_park_kind {
  CHAN_PARK_FUTEX,   /* spin park_spin times, then futex-wait */
  CHAN_PARK_CONDVAR, /* a private mutex + CLOCK_MONOTONIC condvar */
  CHAN_PARK_FIBER,   /* set by chan_parker_init on a fiber; not a choice */
};

/* claim values: 0 open; 1 + case index when a case fired; or this. */
#define CHAN_PARKER_TIMED_OUT UINT32_MAX

/* Outcomes beyond CHAN_OK / CHAN_CLOSED, set by the claimer. */
enum {
  CHAN_PARKER_NOTIFIED = 100, /* woken to retry (no value was moved) */
  CHAN_PARKER_RETRY = 101,    /* owner claimed itself; readiness vanished */
};

/* Values of state (the futex word). */
enum {
  CHAN_PARKER_RUNNING = 0,
  CHAN_PARKER_SLEEPING = 1,
  CHAN_PARKER_WOKEN = 2
};

struct chan_fiber;

/* Treat as opaque except claim (chan_parker_claim), state (read only:
 * CHAN_PARKER_SLEEPING means the owner committed to sleep, for
 * waiters(asleep)) and outcome (the owner reads it after waking; a select's
 * owner-claimed case sets it: see select_enqueue). */
struct chan_parker {
  _Atomic uint32_t claim;
  _Atomic uint32_t state;
  int outcome;
  enum chan_park_kind kind;
  unsigned spin;
  struct chan_fiber *fiber;
  pthread_mutex_t mu; /* CHAN_PARK_CONDVAR only */
  pthread_cond_t cv;
};

/* One blocked operation (Go's sudog), on the blocked caller's stack. */
struct chan_waiter {
  struct chan_waiter *next, *prev; /* queue links: the channel's */
  struct chan_parker *parker;      /* shared by a select's cases */
  void *elem;          /* send: the value; receive: destination or NULL */
  uint32_t case_index; /* its claim value is case_index + 1 */
  enum chan_dir dir;
  bool queued; /* the channel's: true while on one of its queues */
};

void chan_parker_init(struct chan_parker *p, enum chan_park_kind kind,
                      unsigned spin);
void chan_parker_destroy(struct chan_parker *p);

/* Wins the right to complete this parker's operation (step 2). */
static inline bool chan_parker_claim(struct chan_parker *p, uint32_t value) {
  uint32_t open = 0;
  return atomic_compare_exchange_strong_explicit(
      &p->claim, &open, value, memory_order_acq_rel, memory_order_acquire);
}

/* The winner's last touch: publishes outcome and wakes the owner. */
void chan_parker_wake(struct chan_parker *p, int outcome);

/* Sleeps until woken (true) or the deadline passes and the owner won the
 * claim for CHAN_PARKER_TIMED_OUT (false). */
bool chan_parker_wait(struct chan_parker *p, int64_t deadline);

/* ---- the operations table ---------------------------------------------- */

/* What select_enqueue() did with a waiter. */
enum chan_enqueue_result {
  CHAN_ENQ_QUEUED,      /* queued; a counterpart or close will claim it */
  CHAN_ENQ_SELF_FIRED,  /* claimed its own parker: outcome is set */
  CHAN_ENQ_OTHER_FIRED, /* another case claimed the parker first */
};

struct chan;

/* Every operation is required (non-NULL) except renotify. */
struct chan_ops {
  /* Send/receive with a deadline (CHAN_DEADLINE_POLL: try only). Return
   * CHAN_OK, CHAN_CLOSED (send: closed, value not delivered; receive:
   * closed and drained, elem zero-filled), CHAN_WOULD_BLOCK (poll only) or
   * CHAN_TIMEOUT (no effect). */
  int (*send)(struct chan *ch, const void *elem, int64_t deadline);
  int (*recv)(struct chan *ch, void *elem, int64_t deadline);
  /* CHAN_OK, or CHAN_EALREADY_CLOSED (and no other effect) the second
   * time. Claims and wakes every queued waiter: receivers CHAN_CLOSED with
   * the zero value, senders CHAN_CLOSED. */
  int (*close)(struct chan *ch);
  size_t (*len)(const struct chan *ch); /* buffered values */
  /* A counter that changes whenever the channel may have become ready for
   * some operation (a value or waiter arrived, or a close). A non-blocking
   * select that saw no case ready and no counter change across its scan
   * concludes that no case was ready at one instant. An implementation
   * that cannot tell may return a value that changes on every call: select
   * then retries its poll a bounded number of times. */
  uint64_t (*change_count)(const struct chan *ch);
  /* Waiters queued in dir; with asleep, only those whose parker state is
   * CHAN_PARKER_SLEEPING (chan_debug_waiters / chan_debug_sleepers, and
   * chan_destroy's CHAN_EBUSY check). */
  size_t (*waiters)(const struct chan *ch, enum chan_dir dir, bool asleep);
  void (*destroy)(struct chan *ch); /* frees what create() allocated */

  /* Select (chan_select, any mix of implementations). select_enqueue gets
   * a waiter of a select whose poll pass found no case ready. Atomically
   * with respect to the channel's other operations it must either queue w
   * (CHAN_ENQ_QUEUED: a counterpart or close will claim it later), or, if
   * the operation can proceed now (a value, a slot, a waiter of ANOTHER
   * parker, or a close), first claim w->parker itself with case_index + 1:
   * if that fails return CHAN_ENQ_OTHER_FIRED having consumed nothing;
   * else perform the operation and set w->parker->outcome to its result
   * (CHAN_OK / CHAN_CLOSED) or to CHAN_PARKER_RETRY if the readiness
   * vanished (every counterpart was stale), returning CHAN_ENQ_SELF_FIRED.
   * Never pair w with a waiter of the same parker (a select must not send
   * to itself). select_dequeue removes w if it is still queued (called for
   * every enqueued case after the select woke, whatever fired). */
  enum chan_enqueue_result (*select_enqueue)(struct chan *ch,
                                             struct chan_waiter *w);
  void (*select_dequeue)(struct chan *ch, struct chan_waiter *w);

  /* Only for implementations that wake waiters to retry instead of
   * completing their operation (outcome CHAN_PARKER_NOTIFIED): a woken
   * select that did not take this channel passes the wake-up on. NULL
   * otherwise; a NULL renotify also tells chan_debug_strict_fifo() that
   * the channel serves blocked callers strictly first come, first served. */
  void (*renotify)(struct chan *ch, enum chan_dir dir);
};

/* Every channel starts with this. */
struct chan {
  const struct chan_ops *ops;
  const struct chan_impl *impl;
  size_t elem_size;
  size_t capacity;
  enum chan_park_kind park_kind; /* how its blocked threads sleep */
  unsigned park_spin;            /* spin iterations before sleeping */
};

/* An implementation as the registry holds it (create's first argument). */
struct chan_impl {
  const char *name;    /* as passed to chan_make() */
  const char *summary; /* one line, for chan_impl_summary() and listings */
  /* Returns a new channel, or NULL when out of memory. */
  struct chan *(*create)(const struct chan_impl *impl, size_t elem_size,
                         size_t capacity);
  const void *config; /* the implementation's own settings */
};

/* What an implementation hands to chan_impl_register(). It and the strings
 * and tables it points to must live as long as the process. */
struct chan_impl_def {
  /* CHAN_IMPL_ABI_VERSION. The first member in every version, so that a
   * definition of any version can be told apart before anything else of
   * it is read. */
  int abi_version;
  const char *name;    /* [a-z0-9_-], 1..31 chars, not "all"/"default" */
  const char *summary;        /* may be NULL */
  /* Allocates a channel (NULL: out of memory) and sets its park_kind and
   * park_spin; chan_make then sets ops, impl, elem_size and capacity. */
  struct chan *(*create)(const struct chan_impl *impl, size_t elem_size,
                         size_t capacity);
  const struct chan_ops *ops; /* the table all its channels use */
  const void *config;         /* passed back as impl->config; may be NULL */
};

/* Registers an implementation: afterwards chan_make(def->name) uses it and
 * chan_impl_names() lists it (after the in-tree ones). Checks, in this
 * order, calling nothing of def's: def not NULL (CHAN_EINVAL); abi_version
 * (CHAN_EIMPL_ABI); name present and well-formed, create, ops and every
 * required operation present (CHAN_EINVAL, naming the missing one); the
 * name not already registered, in-tree or not (CHAN_EIMPL_EXISTS); room
 * in the registry, 16 run-time registrations (CHAN_ENOMEM). A rejected
 * definition leaves the registry unchanged; chan_last_error() says what
 * was wrong. Safe to call from any thread; registrations are serialized.
 * The names array chan_impl_names() returned earlier stays valid and
 * grows in place: register before other threads iterate it. */
int chan_impl_register(const struct chan_impl_def *def);

/* chan_impl_load() (chan.h) loads a shared object, calls its
 * CHAN_IMPL_ENTRY_SYMBOL and passes what it returns to
 * chan_impl_register(); a rejected object is closed again. The object may
 * call the chan_ functions of the program that loads it (chan_parker_*):
 * that program must export them (-rdynamic; CMake's ENABLE_EXPORTS). */

#ifdef __cplusplus
}
#endif

#endif /* CHAN_IMPL_H */
