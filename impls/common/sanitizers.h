/*
 * sanitizers.h - which sanitizer instruments this build, named once for the
 * whole library: CL_ASAN, CL_TSAN, and CL_INSTRUMENTED_SLOWDOWN, how many
 * times slower instrumented code runs than plain code (roughly: ASan ~2x,
 * TSan ~5-15x). Time constants that stand for "how long the other side
 * takes to run some code" scale by it; nothing else changes.
 */
#ifndef CL_COMMON_SANITIZERS_H
#define CL_COMMON_SANITIZERS_H

#if defined(__SANITIZE_ADDRESS__)
#define CL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CL_ASAN 1
#endif
#endif

#if defined(__SANITIZE_THREAD__)
#define CL_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CL_TSAN 1
#endif
#endif

#if defined(CL_TSAN)
#define CL_INSTRUMENTED_SLOWDOWN 10
#elif defined(CL_ASAN)
#define CL_INSTRUMENTED_SLOWDOWN 2
#else
#define CL_INSTRUMENTED_SLOWDOWN 1
#endif

#endif
