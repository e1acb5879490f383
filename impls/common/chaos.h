/*
 * chaos.h - hooks the stress suite uses to widen race windows and to prove
 * it catches bugs. Both compile to nothing in normal builds.
 *
 * CL_CHAOS_POINT("where") marks a race window inside an implementation
 * (between checking state and parking, before publishing a waiter, between
 * claiming a slot and publishing it, around close). With -DCHAN_CHAOS=ON it
 * calls cl_chaos_point(), which injects seeded random yields and short
 * pauses (seed from the CHAN_CHAOS_SEED environment variable; same seed,
 * same injection sequence per thread).
 *
 * CHAN_PLANTED("name") is true when the planted bug "name" is switched on
 * (environment CHAN_PLANT=name) in a build with -DCHAN_PLANTED_BUGS=ON; it
 * is the constant false otherwise. Only the stress self-check uses it.
 */
#ifndef CL_COMMON_CHAOS_H
#define CL_COMMON_CHAOS_H

#include <stdbool.h>

#ifdef CHAN_CHAOS
void cl_chaos_point(const char *where);
#define CL_CHAOS_POINT(where) cl_chaos_point(where)
#else
#define CL_CHAOS_POINT(where) ((void)0)
#endif

#ifdef CHAN_PLANTED_BUGS
bool chan_planted(const char *name);
#define CHAN_PLANTED(name) chan_planted(name)
#else
#define CHAN_PLANTED(name) false
#endif

#endif /* CL_COMMON_CHAOS_H */
