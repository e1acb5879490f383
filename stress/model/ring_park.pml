/*
 * ring_park.pml - the ring implementation's parking protocol
 * (impls/ring/ring.c: ring_op, enqueue/dequeue, ready, notify_one,
 * notify_all, close) on the parker (park_common.pml).
 *
 * Receivers that find the ring empty register a waiter under wait_lock and
 * publish the queue length in `waiting` (the waiter's store), then check
 * readiness (a load of the tail word, which carries the close mark, then
 * of head) and park only if still not ready. A sender publishes its value
 * (tail) and then loads `waiting` (the notifier's load); if non-zero it
 * claims the first queued waiter and wakes it to retry. Close sets the mark
 * and wakes every queued waiter. A receiver may have a deadline.
 *
 * Two configurations: with a concurrent close, and with -DNO_CLOSE, where
 * no close can rescue a lost notification (two values are sent, so the
 * untimed receiver must get one). Each runs with thread receivers and with
 * fiber receivers (-DFIBERS=3; bit w makes receiver w a fiber, and the
 * timed one brings its Timer process). A fiber parks at once (ring_op
 * skips the spin and yield phases, which the model leaves out anyway).
 * Built with -DBUG_READY_IGNORES_CLOSE or
 * -DBUG_NOTIFY_SKIPPED the model carries one of the ring's planted bugs,
 * and spin must find it (check.sh runs every variant).
 *
 * ready() loads head and then the tail word, as impls/ring/ring.c does
 * for receivers. With the opposite order (-DRING_READY_TAIL_FIRST, what
 * ring.c did until this model found the bug) and -DNO_CLOSE spin finds a
 * lost wake-up: receiver A
 * loads tail (one value there), a sender publishes a second value and
 * notifies receiver B, B takes the FIRST value, A loads head (now equal to
 * the tail A saw), concludes "empty" and parks for good beside the second
 * value. Loading head first (the order of crossbeam's is_empty) verifies
 * with no error.
 *
 * Checked (spin -a; ./pan): no invalid end state, i.e. no receiver parked
 * forever (a lost wake-up) and no deadlock, plus the assertions: a waker
 * touches only the parker incarnation it claimed, a woken owner has an
 * outcome, no fiber is made runnable twice, a receiver only sees "closed"
 * once the ring is drained, and the value count balances. Senders park symmetrically (same code, other
 * direction), so receivers stand for both.
 */
#define NW 2 /* receivers: 0 waits forever, 1 has a deadline */

#ifndef RING_READY_TAIL_FIRST
#define RING_READY_HEAD_FIRST /* ring.c's order since the fix */
#endif
#define NS 2 /* senders */

#include "park_common.pml"

byte tail = 0;        /* values published (position, mark kept apart) */
bool closed = false;  /* the mark bit of the tail word */
byte head = 0;        /* values taken */
bool queued[NW];
byte waiting = 0;     /* recv_waiting: queue length, stored under wait_lock */
byte sent_ok = 0, received = 0, finished = 0;

/* A wait_lock critical section is one atomic step: nothing it touches is
 * read without the lock except `waiting` and the claims, and for those an
 * observer outside sees the state before or after the section, which
 * covers what it could see in between (a notifier that loads `waiting`
 * mid-section sees the old value, as before the section). This keeps the
 * state space small enough to search exhaustively. */

inline queue_length(n) {
  n = 0;
  if :: queued[0] -> n++ :: else -> skip fi;
  if :: queued[1] -> n++ :: else -> skip fi
}

/* cl_waitq_claim_first, starting anywhere (order does not matter for
 * the properties): removes queued waiters until it wins one's claim. */
inline claim_first(got, g, start, k, idx, won) {
  got = NW;
  if
  :: start = 0
  :: start = 1
  fi;
  k = 0;
  do
  :: k < NW && got == NW ->
     idx = (start + k) % NW;
     if
     :: queued[idx] ->
        queued[idx] = false;
        parker_claim(idx, FIRED, won);
        if
        :: won -> got = idx; g = gen[idx]
        :: else -> skip          /* stale: claimed by its owner */
        fi
     :: else -> skip
     fi;
     k++
  :: else -> break
  od;
  start = 0; k = 0; idx = 0; won = false
}

proctype Sender() {
  byte got, g, start, k, idx, n, was;
  bool won;
  /* try_send: claim and publish (one step; the receiver side cannot
   * take a claimed but unpublished value anyway). */
  atomic {
    if
    :: closed -> goto done
    :: else -> tail++; sent_ok++
    fi
  };
  /* notify_one */
#ifdef BUG_NOTIFY_SKIPPED
  goto done; /* the planted bug ring.notify_skips_last_slot, every slot */
#endif
  if
  :: waiting == 0 -> skip
  :: else ->
     atomic {
       claim_first(got, g, start, k, idx, won);
       queue_length(n);
       waiting = n
     };
     if
     :: got < NW -> parker_wake(got, g, OUT_NOTIFIED, was)
     :: else -> skip
     fi
  fi;
done:
  skip
}

proctype Closer() {
  byte got, g, start, k, idx, was;
  bool won;
  byte woken_gen[NW];
  bool woken[NW];
  closed = true;                      /* fetch_or of the mark */
  /* notify_all: claim everyone under the lock, wake after it */
  if
  :: waiting == 0 -> skip
  :: else ->
     atomic {
       do
       :: claim_first(got, g, start, k, idx, won);
          if
          :: got < NW -> woken[got] = true; woken_gen[got] = g
          :: else -> break
          fi
       od;
       waiting = 0
     };
     k = 0;
     do
     :: k < NW ->
        if
        :: woken[k] -> parker_wake(k, woken_gen[k], OUT_NOTIFIED, was)
        :: else -> skip
        fi;
        k++
     :: else -> break
     od
  fi
}

proctype Receiver(byte w; bool timed) {
  bool res, dl, expired, won, tc;
  byte tt, th, n;
  do
  :: /* try_recv */
     atomic {
       if
       :: head < tail -> head++; received++; break
       :: head == tail && closed -> break        /* closed and drained */
       :: else -> skip
       fi
     };
     /* ring_op: a timed operation may find its deadline passed here */
     if
     :: timed -> break
     :: true -> skip
     fi;
     parker_init(w);
     /* enqueue: the waiter's store */
     atomic {
       queued[w] = true;
       queue_length(n);
       waiting = n;
       n = 0
     };
     /* ready() */
#ifdef RING_READY_HEAD_FIRST
     th = head;                            /* crossbeam's is_empty order */
     atomic { tc = closed; tt = tail };
#else
     atomic { tc = closed; tt = tail };    /* the old order: tail, then head */
     th = head;
#endif
#ifdef BUG_READY_IGNORES_CLOSE
     tc = false; /* the planted bug ring.ready_ignores_close */
#endif
     if
     :: !(tc || tt != th) ->
        d_step { tc = false; tt = 0; th = 0 };
        parker_wait(w, timed, res, dl, expired, won)
     :: else ->
        parker_claim(w, FIRED, won);
        if
        :: won -> res = true; d_step { tc = false; tt = 0; th = 0 }
        :: else ->
           d_step { tc = false; tt = 0; th = 0 };
           parker_wait(w, false, res, dl, expired, won)
        fi
     fi;
     d_step { dl = false; expired = false; won = false };
     /* dequeue */
     atomic {
       if
       :: queued[w] -> queued[w] = false; queue_length(n); waiting = n
       :: else -> skip
       fi;
       n = 0
     };
     parker_retire(w);                    /* cl_parker_destroy */
     if
     :: !res -> break                     /* timed out */
     :: else -> skip                      /* notified: retry */
     fi
  od;
  finished++
}

init {
  atomic {
    run_timer_if_fiber(1);    /* first: spin removes a process only
                                 after every later one has ended */
    run Receiver(0, false);
    run Receiver(1, true);
    run Sender();
    run Sender();
#ifndef NO_CLOSE
    run Closer()
#endif
  };
  (_nr_pr == 1 + ntimers);
  assert(finished == NW);
  assert(received == head && head <= tail && tail == sent_ok)
}
