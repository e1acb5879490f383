/*
 * placement.h - core placement classes for the benchmarks, from hwloc.
 *
 * A placement class names how close two threads' PUs are in the machine's
 * cache and memory hierarchy, from "the same PU" (time-sliced) to "different
 * packages", plus "unpinned" (the OS decides). For each class the machine
 * has, a benchmark puts its producer side on PUs near one representative PU
 * and its consumer side near another, the pair being exactly that far
 * apart; the classes a machine lacks are reported with a note, never
 * silently dropped.
 *
 * The topology can be the running machine's, an hwloc synthetic description
 * ("pack:2 l3:2 core:4 pu:2") or an XML file, which is what the unit tests
 * use to check the classification on machines we do not have.
 */
#ifndef CHAN_BENCH_PLACEMENT_H
#define CHAN_BENCH_PLACEMENT_H

#include <stdbool.h>
#include <stddef.h>

/* Ordered from nearest to farthest; UNPINNED is outside the order. */
enum place_class {
  PLACE_SAME_PU,      /* one PU, the threads time-slice */
  PLACE_SMT,          /* SMT siblings: same core, different PUs */
  PLACE_SHARED_L2,    /* different cores sharing an L2 (or L1) */
  PLACE_SHARED_L3,    /* sharing an L3 but no lower cache */
  PLACE_DIFF_L3,      /* no shared cache, same NUMA node and package */
  PLACE_DIFF_NUMA,    /* different NUMA nodes, same package */
  PLACE_DIFF_PACKAGE, /* different packages (sockets) */
  PLACE_UNPINNED,     /* not pinned: the OS scheduler decides */
  PLACE_NCLASSES
};

/* Short names used in benchmark names ("same_pu", "diff_l3", ...). */
const char *place_class_name(enum place_class c);
/* The class named name, or -1 if none is. */
int place_class_from_name(const char *name);

/* One class on one topology. Sides hold OS PU numbers (for affinity). */
struct placement {
  enum place_class cls;
  bool available;
  int pu_a, pu_b; /* the representative pair (OS numbers); -1 if unpinned */
  int *side_a, *side_b;
  int nside_a, nside_b;
  char note[160]; /* why the class is missing, or what it uses */
};

struct topo;

enum topo_source { TOPO_SYSTEM, TOPO_SYNTHETIC, TOPO_XML };

/* Loads a topology: the running machine (desc ignored), an hwloc synthetic
 * description, or an XML file path. Returns 0, or -1 with a message in err. */
int topo_open(struct topo **out, enum topo_source src, const char *desc,
              char *err, size_t errlen);
void topo_close(struct topo *t);

int topo_pu_count(const struct topo *t);
/* The OS number of the PU with logical index i (0..count-1), or -1. */
int topo_pu_os(const struct topo *t, int logical);

/* The class of two PUs given by logical index (PLACE_NCLASSES if out of
 * range). */
enum place_class topo_classify(const struct topo *t, int logical_a,
                               int logical_b);

/* The placement for class c (always non-NULL for a valid c; check
 * ->available). */
const struct placement *topo_placement(const struct topo *t,
                                       enum place_class c);

/* Writes the topology as XML to path. Returns 0 or -1 with err. */
int topo_export_xml(const struct topo *t, const char *path, char *err,
                    size_t errlen);

/* The OS PU for the k-th thread on a side (0 = producers, 1 = consumers),
 * round-robin over the side; -1 means leave the thread unpinned. */
int placement_cpu(const struct placement *p, int side, int k);

/* Pins the calling thread to OS PU cpu; -1 unpins it (back to the
 * affinity the process started with: a thread inherits its creator's mask,
 * so a pinned benchmark thread must not leak its pinning into the next).
 * Returns 0 or an errno value. */
int place_pin_self(int cpu);

#endif /* CHAN_BENCH_PLACEMENT_H */
