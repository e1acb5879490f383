/*
 * heap.c - heap accounting: how many bytes malloc has handed out and not
 * got back, so the churn and patterns drivers can show that the heap stays
 * flat. Under ASan and TSan the sanitizer's allocator counts; otherwise
 * glibc's mallinfo2, which sees only the main arena, so stress_heap_setup()
 * makes every thread allocate there. See stress.h ("heap").
 */
#include "stress.h"

#include <malloc.h>

#if defined(CHAN_SANITIZER_BUILD) && defined(__has_include)
#if __has_include(<sanitizer/allocator_interface.h>)
#include <sanitizer/allocator_interface.h>
#define STRESS_HAVE_SANITIZER_ALLOCATOR 1
#endif
#endif

void stress_heap_setup(void) {
#ifndef STRESS_HAVE_SANITIZER_ALLOCATOR
  mallopt(M_ARENA_MAX, 1);
#endif
}

size_t stress_heap_in_use(void) {
#ifdef STRESS_HAVE_SANITIZER_ALLOCATOR
  return __sanitizer_get_current_allocated_bytes();
#else
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
#endif
}
