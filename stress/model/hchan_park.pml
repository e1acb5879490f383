/*
 * hchan_park.pml - the lock-based handoff engine's parking protocol
 * (impls/handoff/handoff.c: the futex and mutex implementations and the
 * ring's capacity 0) on the parker (park_common.pml; its thread flavour is
 * the futex one, so the mutex row's condvar parker is not modelled), for
 * an unbuffered channel.
 *
 * Under the channel lock, an operation either claims the first queued
 * counterpart (cl_waitq_claim_first: remove, CAS its claim, skip stale
 * ones) and completes the handoff itself, or initializes its parker and
 * queues a waiter. The claimer wakes the waiter after unlocking. A timed
 * waiter whose deadline passes is claimed TIMED_OUT (by itself on a
 * thread, by its timer on a fiber), then removes its waiter under the
 * lock. Close claims every queued waiter and wakes each with CHAN_CLOSED.
 *
 * Waiters are threads on the futex parker, or fibers where bit w of
 * -DFIBERS=... is set (check.sh runs 0, 15 and the mix 6: a thread and a
 * fiber on each side, one of each kind with a deadline); a timed fiber
 * brings its Timer process.
 *
 * Checked (spin -a; ./pan): no invalid end state (no waiter parked forever,
 * no deadlock) and, at the end: each sender's value was delivered at most
 * once, exactly when its send returned OK; a receive that timed out or saw
 * the close got no value; plus park_common.pml's checks (a waker or timer
 * touches only the parker incarnation it claimed, no fiber made runnable
 * twice). With -DBUG_CLOSE_SKIPS_SENDERS the model carries the planted bug
 * futex.close_skips_senders, with -DBUG_PARK_COMMIT_NOT_ATOMIC,
 * -DBUG_READY_TWICE or -DBUG_TIMER_CLAIMS_UNLOCKED (and fibers) one of the
 * fiber runtime's bugs; spin must find each (check.sh).
 */
#define NR 2      /* receivers 0, 1 (1 has a deadline) */
#define NW 4      /* waiters: receivers 0, 1; senders 2, 3 (3 has one) */
#define NONE 9

#include "park_common.pml"

#define R_OK      1
#define R_CLOSED  2
#define R_TIMEOUT 3

bool closed = false;
bool queued[NW];
byte from[NR];       /* the sender whose value a receiver holds */
byte result[NW];
byte finished = 0;

/* Claims the first queued waiter in [lo, lo + 2), under the lock. */
inline claim_first(lo, got, g, k, won) {
  got = NONE;
  k = 0;
  do
  :: k < 2 && got == NONE ->
     if
     :: queued[lo + k] ->
        queued[lo + k] = false;
        parker_claim(lo + k, FIRED, won);
        if
        :: won -> got = lo + k; g = gen[lo + k]
        :: else -> skip
        fi
     :: else -> skip
     fi;
     k++
  :: else -> break
  od;
  k = 0; won = false
}

/* One operation: receivers w < NR, senders w >= NR. */
proctype Op(byte w; bool timed) {
  bool res, dl, expired, won;
  byte got, g, k, was;
  bool recv = w < NR;
  atomic {                       /* the channel lock */
    if
    :: closed -> result[w] = R_CLOSED; goto done
    :: else -> skip
    fi;
    claim_first((recv -> NR : 0), got, g, k, won);
    if
    :: got != NONE ->
       if
       :: recv -> from[w] = got          /* took the sender's value */
       :: else -> from[got] = w          /* gave ours to the receiver */
       fi;
       result[w] = R_OK
    :: else ->
       parker_init(w);
       queued[w] = true
    fi
  };
  if
  :: got != NONE -> parker_wake(got, g, OUT_OK, was); goto done
  :: else -> skip
  fi;
  parker_wait(w, timed, res, dl, expired, won);
  if
  :: res && outcome[w] == OUT_OK -> result[w] = R_OK
  :: res && outcome[w] == OUT_CLOSED -> result[w] = R_CLOSED
  :: !res ->
     atomic { queued[w] = false };      /* remove the waiter if queued */
     result[w] = R_TIMEOUT
  fi;
  parker_retire(w);                 /* cl_parker_destroy; park returns */
done:
  finished++
}

proctype Closer() {
  byte got, g, k, was, i;
  bool won;
  byte woken_gen[NW];
  bool woken[NW];
  atomic {
    closed = true;
    do
    :: claim_first(0, got, g, k, won);
       if
       :: got != NONE -> woken[got] = true; woken_gen[got] = g
       :: else -> break
       fi
    od;
#ifndef BUG_CLOSE_SKIPS_SENDERS
    do
    :: claim_first(NR, got, g, k, won);
       if
       :: got != NONE -> woken[got] = true; woken_gen[got] = g
       :: else -> break
       fi
    od
#endif
  };
  i = 0;
  do
  :: i < NW ->
     if
     :: woken[i] -> parker_wake(i, woken_gen[i], OUT_CLOSED, was)
     :: else -> skip
     fi;
     i++
  :: else -> break
  od
}

init {
  byte s, r, delivered;
  atomic {
    from[0] = NONE;
    from[1] = NONE;
    run_timer_if_fiber(1);    /* first: spin removes a process only */
    run_timer_if_fiber(3);    /* after every later one has ended */
    run Op(0, false);
    run Op(1, true);
    run Op(2, false);
    run Op(3, true);
    run Closer()
  };
  (_nr_pr == 1 + ntimers);
  assert(finished == NW);
  s = NR;
  do
  :: s < NW ->
     delivered = 0;
     r = 0;
     do
     :: r < NR ->
        if
        :: from[r] == s -> delivered++
        :: else -> skip
        fi;
        r++
     :: else -> break
     od;
     assert(delivered <= 1);
     assert((result[s] == R_OK) == (delivered == 1));
     s++
  :: else -> break
  od;
  r = 0;
  do
  :: r < NR ->
     assert((result[r] == R_OK) == (from[r] != NONE));
     r++
  :: else -> break
  od
}
