/*
 * park_common.pml - the parker of impls/common/parker.{h,c} in its two
 * flavours, a thread on a futex and a fiber parked in user space
 * (fiber/fiber.c, fiber/timer.c), shared by the models of the ring, of the
 * hchan (futex) channels and of fiber join.
 *
 * One parker per waiter (NW of them). Waiter w is a fiber if bit w of
 * FIBERS is set (spin -DFIBERS=...; default 0: every waiter is a thread).
 * Common to both, as in parker.c:
 *   claim   written once by CAS from OPEN: FIRED (a case fired) or
 *           TIMED_OUT;
 *   state   RUNNING -> SLEEPING (the sleeper commits, CAS) -> WOKEN (the
 *           claimer's exchange, its last touch of the parker).
 *
 * Thread (cl_parker_wait, futex flavour): FUTEX_WAIT sleeps only while
 * state == SLEEPING (checked atomically with going to sleep); FUTEX_WAKE
 * ends the sleep. The owner's deadline may pass at any moment of a timed
 * wait (a nondeterministic branch); then the owner claims TIMED_OUT itself.
 * Spurious futex wake-ups are left out: they only add retries, and keeping
 * them would hide a lost wake-up behind an endless series of spurious ones.
 *
 * Fiber (cl_fiber_wait, cl_fiber_run, cl_parker_wake, timer.c):
 *   wait    the fiber does not commit its own sleep: it switches to its
 *           scheduler (where = F_OFF), and the scheduler, off the fiber's
 *           stack, CASes state RUNNING -> SLEEPING (where = F_PARKED) or,
 *           if that fails (WOKEN: a waker came first), runs the fiber again
 *           at once. A parked fiber waits until a worker pops it from a run
 *           queue (where F_QUEUED -> F_RUN).
 *   wake    claim, outcome, exchange state to WOKEN, and only if it was
 *           SLEEPING ready the fiber (where F_PARKED -> F_QUEUED: a push
 *           on a run queue).
 *   timer   a timed fiber arms a timer on its worker's heap before parking
 *           (or, if its deadline has already passed, claims TIMED_OUT
 *           itself and returns). A Timer process (one per timed fiber: any
 *           worker that fires that heap) fires when the deadline passes,
 *           at any moment the timer is armed: under the heap's lock it
 *           cuts the node and claims the parker for TIMED_OUT, and after
 *           unlocking it wakes the fiber if it won. The woken fiber
 *           disarms (under the same lock) before its wait returns, so the
 *           timer never touches a parker whose wait has returned.
 * A waiter's process stands for the fiber and, while it is switched away,
 * for the scheduler of the worker it ran on (the commit) and for whichever
 * worker resumes it: each fiber's commit interleaves freely with every
 * other step, as on its own worker. Which worker resumes a fiber, and how
 * idle workers are woken to do it (runtime.c's handshake), is not modelled:
 * "readied" means "will run".
 *
 * Steps are as coarse as is sound, to keep the search small: a lock's
 * critical section that makes at most one access visible outside the lock
 * (the timer's claim) is one atomic step (Lipton's reduction: the acquire
 * moves right, the release left, lock-protected accesses both ways), and a
 * winner's outcome write joins its exchange (nobody reads the outcome
 * before seeing WOKEN).
 *
 * Checked everywhere the parker is used:
 *   - a waker (and the timer's claim) touches only the parker incarnation
 *     it claimed: gen[w] counts incarnations, bumped by parker_init and by
 *     parker_retire, which a model calls when the operation that owns the
 *     parker returns (its stack is then reused);
 *   - no fiber is made runnable twice: fiber_ready asserts that the fiber
 *     is parked (committed and not yet readied), so a second ready, or a
 *     ready of a fiber still running or switching out, fails;
 *   - a woken owner has an outcome; and, as spin's invalid end state, no
 *     waiter sleeps or stays parked forever (a lost wake-up).
 *
 * Bugs that a model can be built with (check.sh runs each; each must fail):
 *   BUG_PARK_COMMIT_NOT_ATOMIC  the planted fiber.park_commit_not_atomic:
 *                               the scheduler commits with a load and a
 *                               store, so a wake-up between them is lost;
 *   BUG_READY_TWICE             the planted fiber.ready_twice: a waker
 *                               readies the fiber whenever it did not see
 *                               WOKEN (also when it saw RUNNING);
 *   BUG_TIMER_CLAIMS_UNLOCKED   the timer unlocks its heap before claiming,
 *                               so the fiber may disarm nothing, return,
 *                               and leave the timer's claim to a dead
 *                               parker.
 *
 * Memory model: Promela interleaves whole statements, i.e. sequential
 * consistency. The implementations use seq_cst or acq_rel for every
 * operation modelled here; weaker orderings are TSan's and the planted-bug
 * self-check's business, not this model's.
 */

#define OPEN      0
#define FIRED     1
#define TIMED_OUT 2

#define RUNNING   0
#define SLEEPING  1
#define WOKEN     2

#define OUT_NONE     0
#define OUT_OK       1
#define OUT_CLOSED   2
#define OUT_NOTIFIED 3
#define OUT_TIMEOUT  4

#ifndef FIBERS
#define FIBERS 0
#endif
#define IS_FIBER(w) (((FIBERS) >> (w)) & 1)

/* where a fiber is (threads stay F_RUN) */
#define F_RUN    0  /* running on a worker */
#define F_OFF    1  /* switched to its scheduler, which has not committed */
#define F_PARKED 2  /* the scheduler committed SLEEPING */
#define F_QUEUED 3  /* readied: on a run queue */

byte claim[NW];
byte state[NW];
bool in_futex[NW];   /* a thread inside FUTEX_WAIT */
byte outcome[NW];
byte gen[NW];
byte where[NW];      /* a fiber's F_* (a thread stays F_RUN) */
bool armed[NW];      /* the fiber's timer node is in its worker's heap */
byte armed_gen[NW];  /* the parker incarnation that node points to */
byte ntimers = 0;    /* Timer processes (they never end) */

inline parker_init(w) {
  d_step {
    claim[w] = OPEN;
    state[w] = RUNNING;
    outcome[w] = OUT_NONE;
    gen[w] = (gen[w] + 1) % 8   /* enough to tell recent incarnations apart */
  }
}

/* The owner's operation returns: the parker's stack may be reused. */
inline parker_retire(w) {
  gen[w] = (gen[w] + 1) % 8
}

/* cl_parker_claim: CAS claim from OPEN to v. */
inline parker_claim(w, v, won) {
  atomic {
    if
    :: claim[w] == OPEN -> claim[w] = v; won = true
    :: else -> won = false
    fi
  }
}

/* The scheduler's commit: one CAS RUNNING -> SLEEPING, or (the bug) the
 * store of SLEEPING after a load that saw RUNNING. */
#ifdef BUG_PARK_COMMIT_NOT_ATOMIC
#define COMMIT_WINS(w, loaded) (loaded)
#else
#define COMMIT_WINS(w, loaded) (state[w] == RUNNING)
#endif

#ifdef BUG_READY_TWICE
#define FIBER_WAKE_READIES(was) ((was) != WOKEN)
#else
#define FIBER_WAKE_READIES(was) ((was) == SLEEPING)
#endif

/* cl_parker_wake by a party that won the claim of incarnation g. The
 * outcome is written in the exchange's step: nobody reads it before
 * seeing WOKEN. A fiber's waker read the fiber before the exchange, and
 * readies it (cl_fiber_ready: a push on a run queue) only if it was
 * parked; a thread's FUTEX_WAKE on the address is harmless even if the
 * owner is gone. */
inline parker_wake(w, g, o, was) {
  atomic {
    assert(gen[w] == g);      /* still the parker it claimed */
    assert(claim[w] != OPEN);
    outcome[w] = o;
    was = state[w];
    state[w] = WOKEN
  };
  if
  :: IS_FIBER(w) && FIBER_WAKE_READIES(was) ->
     atomic {
       assert(where[w] == F_PARKED);   /* else: made runnable twice */
       where[w] = F_QUEUED;
       was = 0
     }
  :: !IS_FIBER(w) && was == SLEEPING -> d_step { in_futex[w] = false; was = 0 }
  :: else -> was = 0
  fi
}

/* cl_parker_wait, futex flavour. timed: the deadline may pass. res: true
 * when woken (then outcome[w] is set), false when the owner claimed
 * TIMED_OUT. dl, expired and won are the caller's scratch variables. */
inline parker_wait_thread(w, timed, res, dl, expired, won) {
  dl = timed;
  expired = false;
  do
  :: atomic {
       if
       :: state[w] == WOKEN -> res = true; break
       :: state[w] == RUNNING -> state[w] = SLEEPING
       :: state[w] == SLEEPING -> skip
       fi
     };
     /* FUTEX_WAIT(&state, SLEEPING, deadline) */
     atomic {
       if
       :: state[w] == SLEEPING -> in_futex[w] = true
       :: else -> skip
       fi
     };
     if
     :: !in_futex[w] -> skip                      /* woken, or never slept */
     :: dl && in_futex[w] -> in_futex[w] = false; expired = true
     fi;
     if
     :: state[w] == WOKEN -> res = true; break
     :: else -> skip
     fi;
     if
     :: expired ->
        expired = false;
        parker_claim(w, TIMED_OUT, won);
        if
        :: won -> res = false; break
        :: else -> dl = false   /* claimed by someone: the wake-up is due */
        fi
     :: else -> skip
     fi
  od
}

/* cl_fiber_wait, with the scheduler's commit (cl_fiber_run) and the
 * resume. Scratch variables: dl, a timer is armed; expired, the commit's
 * load (only the BUG_PARK_COMMIT_NOT_ATOMIC variant needs it). armed[] and
 * armed_gen[] are the heap's, touched only under its lock: arm and disarm
 * are one step each (see the header). */
inline parker_wait_fiber(w, timed, res, dl, expired, won) {
  /* dl, expired and won are false on entry, and again on return */
  if
  :: timed && state[w] != WOKEN ->
     if
     :: parker_claim(w, TIMED_OUT, won)   /* the deadline already passed */
     :: atomic { armed[w] = true; armed_gen[w] = gen[w]; dl = true } /* arm */
     fi
  :: else -> skip
  fi;
  if
  :: won -> d_step { res = false; won = false } /* nobody else can fire it */
  :: else ->
     do
     :: state[w] == WOKEN -> break
     :: atomic { state[w] != WOKEN -> where[w] = F_OFF } /* switch_out(f, p) */
        /* The scheduler, off the fiber's stack, commits the sleep. If it
         * wins, the fiber is parked: the atomic sequence blocks (and
         * others run) until a waker readies it, then a worker resumes it.
         * If it loses (WOKEN: a waker came first), it runs the fiber
         * again at once. */
#ifdef BUG_PARK_COMMIT_NOT_ATOMIC
        expired = (state[w] == RUNNING);  /* the load; the store follows */
#endif
        atomic {
          if
          :: COMMIT_WINS(w, expired) ->
             state[w] = SLEEPING;
             where[w] = F_PARKED;
             expired = false;
             where[w] == F_QUEUED;          /* parked until readied */
             where[w] = F_RUN               /* resumed by some worker */
          :: else -> where[w] = F_RUN       /* woken first: run it again */
          fi
        }
     od;
     /* disarm (a no-op if the timer fired), then read the claim, which
      * no longer changes once the state is WOKEN */
     atomic {
       if
       :: dl -> armed[w] = false; dl = false
       :: else -> skip
       fi;
       res = (claim[w] != TIMED_OUT)
     }
  fi
}

/* cl_parker_wait, either flavour. */
inline parker_wait(w, timed, res, dl, expired, won) {
  if
  :: IS_FIBER(w) -> parker_wait_fiber(w, timed, res, dl, expired, won)
  :: else -> parker_wait_thread(w, timed, res, dl, expired, won)
  fi;
  assert(!res || outcome[w] != OUT_NONE)
}

/* cl_timer_run on the heap of timed fiber w, by whichever worker fires
 * it: ready to fire (its deadline may pass) whenever the node is armed.
 * Under the heap's lock (one step): cut the node, claim the parker for
 * TIMED_OUT; after unlocking, wake the fiber if the claim was won.
 * BUG_TIMER_CLAIMS_UNLOCKED moves the claim out of the critical section,
 * which then is a step of its own. */
proctype Timer(byte w) {
  bool won;
  byte g, was;
end:
  do
#ifdef BUG_TIMER_CLAIMS_UNLOCKED
  :: atomic { armed[w] -> armed[w] = false; g = armed_gen[w] };
     atomic {
#else
  :: atomic {
       armed[w] -> armed[w] = false; g = armed_gen[w];
#endif
       assert(gen[w] == g);               /* its fiber has not returned */
       parker_claim(w, TIMED_OUT, won);
       if
       :: !won -> g = 0                   /* its claimer wakes it */
       :: else -> skip
       fi
     };
     if
     :: won -> parker_wake(w, g, OUT_TIMEOUT, was); d_step { won = false; g = 0 }
     :: else -> skip
     fi
  od
}

/* Starts the timer of timed waiter w if it is a fiber (in init's atomic,
 * before the other processes: spin removes a process only after every
 * later one has ended). Timers never end: init waits for
 * _nr_pr == 1 + ntimers. */
inline run_timer_if_fiber(w) {
  if
  :: IS_FIBER(w) -> run Timer(w); ntimers++
  :: else -> skip
  fi
}
