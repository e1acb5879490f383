/*
 * switch.h - the context switch (Boost.Context's fcontext) and what the
 * sanitizers must be told about it.
 *
 * Boost.Context (libboost-context-dev) gives three functions with C
 * linkage: make_fcontext prepares a stack to start at a function,
 * jump_fcontext saves the current registers on the current stack and
 * resumes another context, passing one pointer; the resumed side receives
 * the context it came from and that pointer (a transfer_t). No system call
 * (glibc's swapcontext makes one, to save the signal mask); the benchmark's
 * `switch` rows measure a fiber-to-fiber hand-off through the scheduler.
 *
 * Sanitizers, around every jump:
 *   ASan keeps a shadow of the current stack's bounds and, with
 *   detect_stack_use_after_return, a "fake stack" per fiber:
 *   __sanitizer_start_switch_fiber(&save, bottom, size) before the jump
 *   names the stack we go to (save NULL when leaving a fiber for good, so
 *   its fake stack is freed), __sanitizer_finish_switch_fiber(save, ...)
 *   after arriving restores ours.
 *   TSan keeps a context per fiber (__tsan_create_fiber) and must be told
 *   of each switch just before it happens (__tsan_switch_to_fiber). We let
 *   each switch synchronize (flags 0): a worker thread runs its fibers one
 *   after another, so what one fiber did on that thread really happens
 *   before what the next does there, and per-thread state (errno, the error
 *   buffers, random states) is shared by them without a race. Races between
 *   fibers are still found whenever they run on different workers, and the
 *   happens-before from a waker to a fiber woken on another worker is
 *   carried by the run queues' release/acquire atomics, which TSan sees.
 */
#ifndef CL_FIBER_SWITCH_H
#define CL_FIBER_SWITCH_H

#include <stddef.h>

#include "common/sanitizers.h"
#include "fiber/internal.h"

typedef struct {
  cl_fcontext fctx;
  void *data;
} cl_transfer;

cl_transfer jump_fcontext(cl_fcontext const to, void *vp);
cl_fcontext make_fcontext(void *sp, size_t size, void (*fn)(cl_transfer));

#ifdef CL_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef CL_TSAN
#include <sanitizer/tsan_interface.h>
#endif

/* Before jumping to the stack [bottom, bottom + size) running `tsan_to`.
 * `save` is where the leaving side keeps its fake stack, NULL if it is
 * leaving for good. */
static inline void cl_switch_begin(void **save, const void *bottom, size_t size,
                                   void *tsan_to) {
#ifdef CL_ASAN
  __sanitizer_start_switch_fiber(save, bottom, size);
#else
  (void)save, (void)bottom, (void)size;
#endif
#ifdef CL_TSAN
  __tsan_switch_to_fiber(tsan_to, 0);
#else
  (void)tsan_to;
#endif
}

/* After arriving: restores the arriving side's fake stack. */
static inline void cl_switch_end(void *save) {
#ifdef CL_ASAN
  __sanitizer_finish_switch_fiber(save, NULL, NULL);
#else
  (void)save;
#endif
}

static inline void *cl_tsan_fiber_create(void) {
#ifdef CL_TSAN
  return __tsan_create_fiber(0);
#else
  return NULL;
#endif
}

static inline void cl_tsan_fiber_destroy(void *fiber) {
#ifdef CL_TSAN
  __tsan_destroy_fiber(fiber);
#else
  (void)fiber;
#endif
}

static inline void *cl_tsan_fiber_current(void) {
#ifdef CL_TSAN
  return __tsan_get_current_fiber();
#else
  return NULL;
#endif
}

/* A reused stack may still carry the poison of frames that never returned
 * (a finished fiber leaves its last frames behind). */
static inline void cl_asan_unpoison(void *p, size_t size) {
#ifdef CL_ASAN
  __asan_unpoison_memory_region(p, size);
#else
  (void)p, (void)size;
#endif
}

#endif /* CL_FIBER_SWITCH_H */
