/*
 * fiber_join.pml - joining a fiber (fiber/fiber.c: chan_fiber_join,
 * finish, and the reference drop in cl_fiber_run) on the parker
 * (park_common.pml). The joiner is a thread, or a fiber with -DFIBERS=1.
 *
 *   joiner    initializes a parker on its stack and CASes f->joiner from 0
 *             to it; if the CAS fails the word is JOIN_DONE (the fiber has
 *             finished) and it does not wait. Then it reads f->ret and
 *             drops the handle's reference.
 *   finish    writes f->ret, exchanges f->joiner for JOIN_DONE; if it held
 *             a parker, claims it and wakes it (the last touch). Then it
 *             switches away for good and its scheduler drops the running
 *             fiber's reference.
 *   refs      2 (the running fiber, the handle): whoever drops the last
 *             one returns the stack, with the descriptor, to the pool.
 *
 * Checked: no invalid end state (a joiner waits for good: a lost wake-up),
 * the joiner reads ret only after it was written, nobody touches the
 * descriptor after its stack went back to the pool, and the parker checks
 * of park_common.pml (the finisher touches only the joiner's live parker
 * incarnation; a fiber joiner is made runnable once).
 */
#define NW 1 /* the joiner's parker */

#include "park_common.pml"

#define J_NONE   0 /* f->joiner: nobody has joined yet */
#define J_PARKER 1 /* the joiner's parker */
#define J_DONE   2 /* CL_FIBER_JOIN_DONE */

byte joiner = J_NONE;
byte joiner_gen;     /* the incarnation of the parker in f->joiner */
bool ret_set = false;
byte refs = 2;
bool pooled = false; /* the stack and descriptor are back in the pool */

inline drop_ref() {
  atomic {
    assert(!pooled);
    refs--;
    if
    :: refs == 0 -> pooled = true   /* cl_stack_put */
    :: else -> skip
    fi
  }
}

/* The joined fiber, from its last statement on. */
proctype Joined() {
  byte j, g, was;
  bool won;
  atomic { assert(!pooled); ret_set = true };          /* f->ret = ret */
  atomic { assert(!pooled); j = joiner; g = joiner_gen; joiner = J_DONE };
  if
  :: j == J_PARKER ->
     atomic { assert(gen[0] == g); parker_claim(0, FIRED, won) };
     if
     :: won -> parker_wake(0, g, OUT_OK, was)
     :: else -> skip
     fi
  :: else -> skip
  fi;
  drop_ref()       /* switch_out(f, REQ_EXIT); the scheduler lets go */
}

proctype Joiner() {
  bool res, dl, expired, won, cas;
  parker_init(0);
  atomic {
    assert(!pooled);
    if
    :: joiner == J_NONE -> joiner = J_PARKER; joiner_gen = gen[0]; cas = true
    :: else -> assert(joiner == J_DONE); cas = false
    fi
  };
  if
  :: cas -> parker_wait(0, false, res, dl, expired, won)
  :: else -> skip
  fi;
  parker_retire(0);                                    /* cl_parker_destroy */
  atomic { assert(!pooled); assert(ret_set) };         /* *ret = f->ret */
  drop_ref()
}

init {
  atomic {
    run Joined();
    run Joiner()
  };
  (_nr_pr == 1);
  assert(pooled)
}
