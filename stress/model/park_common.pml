/*
 * park_common.pml - the parker of impls/common/parker.{h,c}, futex flavour,
 * shared by the models of the ring and of the hchan (futex) channels.
 *
 * One parker per waiter (NW of them). Modelled as in parker.c:
 *   claim   written once by CAS from OPEN: 1 (a case fired) or TIMED_OUT;
 *   state   RUNNING -> SLEEPING (owner, CAS) -> WOKEN (waker, exchange);
 *   futex   FUTEX_WAIT sleeps only while state == SLEEPING (checked
 *           atomically with going to sleep); FUTEX_WAKE ends the sleep.
 * The owner's deadline may pass at any moment of a timed wait (a
 * nondeterministic branch). Spurious futex wake-ups are left out: they only
 * add retries, and keeping them would hide a lost wake-up behind an endless
 * series of spurious ones.
 *
 * A parker lives on its owner's stack and is re-initialized for every wait:
 * gen[w] counts incarnations, and a waker asserts that the parker it
 * touches is still the one it claimed (its exchange is its last touch).
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

byte claim[NW];
byte state[NW];
bool in_futex[NW];   /* inside FUTEX_WAIT */
byte outcome[NW];
byte gen[NW];

inline parker_init(w) {
  d_step {
    claim[w] = OPEN;
    state[w] = RUNNING;
    outcome[w] = OUT_NONE;
    gen[w] = (gen[w] + 1) % 4   /* enough to tell recent incarnations apart */
  }
}

/* chan_parker_claim: CAS claim from OPEN to v. */
inline parker_claim(w, v, won) {
  atomic {
    if
    :: claim[w] == OPEN -> claim[w] = v; won = true
    :: else -> won = false
    fi
  }
}

/* chan_parker_wake by a party that won the claim of incarnation g. */
inline parker_wake(w, g, o, was) {
  assert(gen[w] == g);      /* still the parker it claimed */
  assert(claim[w] == FIRED);
  outcome[w] = o;
  atomic { assert(gen[w] == g); was = state[w]; state[w] = WOKEN };
  /* FUTEX_WAKE on the address: harmless even if the owner is gone. */
  if
  :: was == SLEEPING -> in_futex[w] = false
  :: else -> skip
  fi;
  was = 0
}

/* chan_parker_wait. timed: the deadline may pass. res: true when woken
 * (then outcome[w] is set), false when the owner claimed TIMED_OUT. dl,
 * expired and won are the caller's scratch variables. */
inline parker_wait(w, timed, res, dl, expired, won) {
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
  od;
  assert(!res || outcome[w] != OUT_NONE)
}
