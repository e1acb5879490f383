/*
 * place_ffi.c - chanbench's placement classes (bench/placement.h, hwloc)
 * as a few plain functions the Rust program calls, so its role threads are
 * pinned exactly as chanbench pins its own.
 */
#include "placement.h"

static struct topo *topo;

/* Loads the running machine's topology; 0, or -1 with err. */
int chanpeers_place_open(char *err, size_t len) {
  return topo_open(&topo, TOPO_SYSTEM, NULL, err, len);
}

int chanpeers_place_classes(void) {
  return PLACE_NCLASSES;
}

int chanpeers_place_pus(void) {
  return topo_pu_count(topo);
}

const char *chanpeers_place_name(int c) {
  return place_class_name((enum place_class)c);
}

int chanpeers_place_available(int c) {
  return topo_placement(topo, (enum place_class)c)->available;
}

const char *chanpeers_place_note(int c) {
  return topo_placement(topo, (enum place_class)c)->note;
}

/* The OS PU for thread k of side (0 producers, 1 consumers); -1: unpinned. */
int chanpeers_place_cpu(int c, int side, int k) {
  return placement_cpu(topo_placement(topo, (enum place_class)c), side, k);
}

/* Pins the calling thread (-1 unpins); 0 or an errno value. */
int chanpeers_place_pin(int cpu) {
  return place_pin_self(cpu);
}
