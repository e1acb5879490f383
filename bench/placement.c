/*
 * placement.c - placement classes from an hwloc topology (see placement.h).
 *
 * Two PUs are classified by the nearest object they share: the core (SMT),
 * a data cache (by its level), otherwise by whether they share a NUMA node
 * and a package. NUMA nodes are memory children in hwloc 2, so they are
 * compared through the PUs' nodesets, not the ancestor walk.
 */
#include "placement.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hwloc.h>

struct topo {
  hwloc_topology_t h;
  int npus;
  struct placement places[PLACE_NCLASSES];
};

static const char *const class_names[PLACE_NCLASSES] = {
    "same_pu", "smt",       "shared_l2",    "shared_l3",
    "diff_l3", "diff_numa", "diff_package", "unpinned"};

static const char *const class_missing[PLACE_NCLASSES] = {
    "the machine has no PU",
    "no two PUs share a core (no SMT)",
    "no two cores share an L2 or L1 cache",
    "no two cores share an L3 without sharing an L2",
    "no two PUs in one NUMA node and package share no cache",
    "no package holds two NUMA nodes",
    "the machine has a single package",
    ""};

const char *place_class_name(enum place_class c) {
  return (unsigned)c < PLACE_NCLASSES ? class_names[c] : "invalid";
}

int place_class_from_name(const char *name) {
  if (!name)
    return -1;
  for (int c = 0; c < PLACE_NCLASSES; c++)
    if (strcmp(name, class_names[c]) == 0)
      return c;
  return -1;
}

static hwloc_obj_t pu_obj(const struct topo *t, int logical) {
  return hwloc_get_obj_by_type(t->h, HWLOC_OBJ_PU, (unsigned)logical);
}

enum place_class topo_classify(const struct topo *t, int a, int b) {
  if (!t || a < 0 || b < 0 || a >= t->npus || b >= t->npus)
    return PLACE_NCLASSES;
  if (a == b)
    return PLACE_SAME_PU;
  hwloc_obj_t pa = pu_obj(t, a), pb = pu_obj(t, b);
  hwloc_obj_t pka = hwloc_get_ancestor_obj_by_type(t->h, HWLOC_OBJ_PACKAGE, pa);
  hwloc_obj_t pkb = hwloc_get_ancestor_obj_by_type(t->h, HWLOC_OBJ_PACKAGE, pb);
  if (pka && pkb && pka != pkb)
    return PLACE_DIFF_PACKAGE;
  if (pa->nodeset && pb->nodeset &&
      !hwloc_bitmap_isequal(pa->nodeset, pb->nodeset))
    return PLACE_DIFF_NUMA;
  /* The nearest shared core or data cache decides; none means no sharing
   * below the NUMA node / package. */
  for (hwloc_obj_t o = hwloc_get_common_ancestor_obj(t->h, pa, pb); o;
       o = o->parent) {
    if (o->type == HWLOC_OBJ_CORE)
      return PLACE_SMT;
    if (hwloc_obj_type_is_dcache(o->type))
      return o->attr->cache.depth <= 2 ? PLACE_SHARED_L2 : PLACE_SHARED_L3;
  }
  return PLACE_DIFF_L3;
}

/* Side of a class around PU x: x and every PU strictly nearer to it than c
 * (so the two sides of a pair never overlap, except for SAME_PU). */
static int build_side(struct topo *t, enum place_class c, int x, int **out) {
  int *side = calloc((size_t)t->npus, sizeof *side);
  if (!side)
    return -1;
  int n = 0;
  side[n++] = topo_pu_os(t, x);
  for (int p = 0; p < t->npus && c != PLACE_SAME_PU; p++)
    if (p != x && topo_classify(t, x, p) < c)
      side[n++] = topo_pu_os(t, p);
  *out = side;
  return n;
}

static int build_placements(struct topo *t) {
  for (int c = 0; c < PLACE_NCLASSES; c++) {
    struct placement *pl = &t->places[c];
    pl->cls = (enum place_class)c;
    pl->pu_a = pl->pu_b = -1;
    if (c == PLACE_UNPINNED) {
      pl->available = true;
      snprintf(pl->note, sizeof pl->note, "the OS scheduler places threads");
      continue;
    }
    int fa = -1, fb = -1;
    for (int a = 0; a < t->npus && fa < 0; a++)
      for (int b = a; b < t->npus; b++)
        if (topo_classify(t, a, b) == (enum place_class)c) {
          fa = a, fb = b;
          break;
        }
    if (fa < 0) {
      snprintf(pl->note, sizeof pl->note, "skipped: %s", class_missing[c]);
      continue;
    }
    pl->available = true;
    pl->pu_a = topo_pu_os(t, fa);
    pl->pu_b = topo_pu_os(t, fb);
    pl->nside_a = build_side(t, (enum place_class)c, fa, &pl->side_a);
    pl->nside_b = build_side(t, (enum place_class)c, fb, &pl->side_b);
    if (pl->nside_a < 0 || pl->nside_b < 0)
      return -1;
    snprintf(pl->note, sizeof pl->note, "PUs %d and %d (%d+%d PUs per side)",
             pl->pu_a, pl->pu_b, pl->nside_a, pl->nside_b);
  }
  return 0;
}

int topo_open(struct topo **out, enum topo_source src, const char *desc,
              char *err, size_t errlen) {
  if (!out) {
    snprintf(err, errlen, "topo_open: NULL output");
    return -1;
  }
  *out = NULL;
  struct topo *t = calloc(1, sizeof *t);
  if (!t || hwloc_topology_init(&t->h) != 0) {
    snprintf(err, errlen, "topo_open: out of memory");
    free(t);
    return -1;
  }
  int rc = 0;
  if (src == TOPO_SYNTHETIC) {
    rc = desc ? hwloc_topology_set_synthetic(t->h, desc) : -1;
    if (rc)
      snprintf(err, errlen, "invalid hwloc synthetic topology '%s'",
               desc ? desc : "(null)");
  } else if (src == TOPO_XML) {
    rc = desc ? hwloc_topology_set_xml(t->h, desc) : -1;
    if (rc)
      snprintf(err, errlen, "cannot read hwloc XML topology '%s'",
               desc ? desc : "(null)");
  }
  if (rc == 0 && hwloc_topology_load(t->h) != 0) {
    snprintf(err, errlen, "hwloc could not load the topology%s%s",
             desc && src != TOPO_SYSTEM ? " " : "",
             desc && src != TOPO_SYSTEM ? desc : "");
    rc = -1;
  }
  if (rc == 0) {
    t->npus = hwloc_get_nbobjs_by_type(t->h, HWLOC_OBJ_PU);
    if (t->npus <= 0) {
      snprintf(err, errlen, "the topology has no PU");
      rc = -1;
    }
  }
  if (rc == 0 && build_placements(t) != 0) {
    snprintf(err, errlen, "topo_open: out of memory");
    rc = -1;
  }
  if (rc != 0) {
    topo_close(t);
    return -1;
  }
  *out = t;
  return 0;
}

void topo_close(struct topo *t) {
  if (!t)
    return;
  for (int c = 0; c < PLACE_NCLASSES; c++) {
    free(t->places[c].side_a);
    free(t->places[c].side_b);
  }
  hwloc_topology_destroy(t->h);
  free(t);
}

int topo_pu_count(const struct topo *t) {
  return t ? t->npus : 0;
}

int topo_pu_os(const struct topo *t, int logical) {
  if (!t || logical < 0 || logical >= t->npus)
    return -1;
  return (int)pu_obj(t, logical)->os_index;
}

const struct placement *topo_placement(const struct topo *t,
                                       enum place_class c) {
  if (!t || (unsigned)c >= PLACE_NCLASSES)
    return NULL;
  return &t->places[c];
}

int topo_export_xml(const struct topo *t, const char *path, char *err,
                    size_t errlen) {
  if (!t || !path || hwloc_topology_export_xml(t->h, path, 0) != 0) {
    snprintf(err, errlen, "cannot write topology XML to '%s': %s",
             path ? path : "(null)", strerror(errno));
    return -1;
  }
  return 0;
}

int placement_cpu(const struct placement *p, int side, int k) {
  if (!p || !p->available || p->cls == PLACE_UNPINNED || k < 0)
    return -1;
  if (side == 0)
    return p->side_a[k % p->nside_a];
  return p->side_b[k % p->nside_b];
}

/* The affinity the process started with, taken before any pinning. */
static cpu_set_t initial_affinity;
static int initial_affinity_ok;

__attribute__((constructor)) static void save_initial_affinity(void) {
  initial_affinity_ok =
      sched_getaffinity(0, sizeof initial_affinity, &initial_affinity) == 0;
}

int place_pin_self(int cpu) {
  if (cpu < 0)
    return initial_affinity_ok
               ? pthread_setaffinity_np(pthread_self(), sizeof initial_affinity,
                                        &initial_affinity)
               : 0;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}
