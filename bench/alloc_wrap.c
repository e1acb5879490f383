/*
 * alloc_wrap.c - counts allocation calls made by chanlab code.
 *
 * The benchmark binary is linked with -Wl,--wrap for the malloc family, so
 * every call from chanlab's own objects (the channel library and the
 * scenarios, not libstdc++ or Google Benchmark) comes here first, bumps a
 * per-thread counter and goes on to the real allocator (jemalloc or glibc).
 * jemalloc's thread.allocated counter gives the bytes; this gives the calls,
 * and the bytes too when the system allocator is used.
 */
#include <stddef.h>
#include <stdint.h>

_Thread_local uint64_t alloc_wrap_calls;
_Thread_local uint64_t alloc_wrap_bytes;

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t align, size_t n);
int __real_posix_memalign(void **p, size_t align, size_t n);

void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_aligned_alloc(size_t align, size_t n);
int __wrap_posix_memalign(void **p, size_t align, size_t n);

void *__wrap_malloc(size_t n) {
  alloc_wrap_calls++;
  alloc_wrap_bytes += n;
  return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size) {
  alloc_wrap_calls++;
  alloc_wrap_bytes += n * size;
  return __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n) {
  alloc_wrap_calls++;
  alloc_wrap_bytes += n;
  return __real_realloc(p, n);
}

void *__wrap_aligned_alloc(size_t align, size_t n) {
  alloc_wrap_calls++;
  alloc_wrap_bytes += n;
  return __real_aligned_alloc(align, n);
}

int __wrap_posix_memalign(void **p, size_t align, size_t n) {
  alloc_wrap_calls++;
  alloc_wrap_bytes += n;
  return __real_posix_memalign(p, align, n);
}
