/*
 * chaos.h - the hook the stress suite uses to widen race windows. It
 * compiles to nothing in normal builds.
 *
 * CL_CHAOS_POINT("where") marks a race window inside an implementation
 * (between checking state and parking, before publishing a waiter, between
 * claiming a slot and publishing it, around close). With -DCHAN_CHAOS=ON it
 * calls cl_chaos_point(), which injects seeded random yields and short
 * pauses (seed from the CHAN_CHAOS_SEED environment variable; same seed,
 * same injection sequence per thread).
 *
 * (The stress self-check's planted bugs are not here: they are patches kept
 * under stress/, applied to a scratch copy of the sources.)
 */
#ifndef CL_COMMON_CHAOS_H
#define CL_COMMON_CHAOS_H

#ifdef CHAN_CHAOS
void cl_chaos_point(const char *where);
#define CL_CHAOS_POINT(where) cl_chaos_point(where)
#else
#define CL_CHAOS_POINT(where) ((void)0)
#endif

#endif /* CL_COMMON_CHAOS_H */
