/*
 * test_placement.c - the placement classes on topologies we do not have:
 * hwloc synthetic descriptions and XML files (one from this project's VM,
 * one two-package NUMA machine with SMT), plus the bad-input paths.
 */
#include "harness.h"
#include "placement.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct topo *open_synthetic(const char *desc) {
  struct topo *t = NULL;
  char err[256] = "";
  if (topo_open(&t, TOPO_SYNTHETIC, desc, err, sizeof err) != 0)
    test_fail(__FILE__, __LINE__, "topo_open(%s): %s", desc, err);
  return t;
}

static struct topo *open_xml(const char *file) {
  char path[512], err[256] = "";
  snprintf(path, sizeof path, "%s/%s", CHAN_BENCH_TOPO_DIR, file);
  struct topo *t = NULL;
  if (topo_open(&t, TOPO_XML, path, err, sizeof err) != 0)
    test_fail(__FILE__, __LINE__, "topo_open(%s): %s", path, err);
  return t;
}

/* True if OS PU cpu is on the given side of p. */
static bool on_side(const struct placement *p, int side, int cpu) {
  const int *s = side ? p->side_b : p->side_a;
  int n = side ? p->nside_b : p->nside_a;
  for (int i = 0; i < n; i++)
    if (s[i] == cpu)
      return true;
  return false;
}

TEST(synthetic_packages_l3_smt) {
  struct topo *t = open_synthetic("pack:2 l3:2 core:4 pu:2");
  REQUIRE(t);
  CHECK_EQ(topo_pu_count(t), 32);
  CHECK_EQ(topo_classify(t, 0, 0), PLACE_SAME_PU);
  CHECK_EQ(topo_classify(t, 0, 1), PLACE_SMT);
  CHECK_EQ(topo_classify(t, 0, 2), PLACE_SHARED_L3);
  CHECK_EQ(topo_classify(t, 7, 6), PLACE_SMT);
  CHECK_EQ(topo_classify(t, 0, 8), PLACE_DIFF_L3);
  CHECK_EQ(topo_classify(t, 0, 16), PLACE_DIFF_PACKAGE);
  CHECK_EQ(topo_classify(t, 31, 0), PLACE_DIFF_PACKAGE);
  CHECK_EQ(topo_classify(t, 0, 32), PLACE_NCLASSES);
  CHECK_EQ(topo_classify(t, -1, 0), PLACE_NCLASSES);

  /* Present classes use the first matching pair; sides hold the PUs nearer
   * to each end than the class. */
  const struct placement *p = topo_placement(t, PLACE_SHARED_L3);
  CHECK(p->available);
  CHECK_EQ(p->pu_a, 0);
  CHECK_EQ(p->pu_b, 2);
  CHECK_EQ(p->nside_a, 2);
  CHECK(on_side(p, 0, 1) && on_side(p, 1, 3) && !on_side(p, 0, 2));
  p = topo_placement(t, PLACE_DIFF_PACKAGE);
  CHECK(p->available);
  CHECK_EQ(p->nside_a, 16);
  CHECK_EQ(p->nside_b, 16);
  CHECK(on_side(p, 0, 15) && on_side(p, 1, 16) && !on_side(p, 0, 16));
  CHECK_EQ(placement_cpu(p, 1, 0), 16);
  CHECK_EQ(placement_cpu(p, 1, 16), 16); /* round-robin over the side */
  p = topo_placement(t, PLACE_SAME_PU);
  CHECK(p->available && p->pu_a == p->pu_b);
  CHECK_EQ(placement_cpu(p, 0, 3), placement_cpu(p, 1, 5));

  /* Missing classes are reported with a reason, not silently. */
  p = topo_placement(t, PLACE_SHARED_L2);
  CHECK(!p->available);
  CHECK(strstr(p->note, "skipped") != NULL);
  CHECK(!topo_placement(t, PLACE_DIFF_NUMA)->available);
  CHECK(topo_placement(t, PLACE_UNPINNED)->available);
  CHECK_EQ(placement_cpu(topo_placement(t, PLACE_UNPINNED), 0, 0), -1);
  topo_close(t);
}

TEST(synthetic_shared_l2_no_smt) {
  struct topo *t = open_synthetic("pack:1 l3:1 l2:2 core:2 pu:1");
  REQUIRE(t);
  CHECK_EQ(topo_pu_count(t), 4);
  CHECK_EQ(topo_classify(t, 0, 1), PLACE_SHARED_L2);
  CHECK_EQ(topo_classify(t, 1, 2), PLACE_SHARED_L3);
  CHECK(!topo_placement(t, PLACE_SMT)->available);
  CHECK(!topo_placement(t, PLACE_DIFF_L3)->available);
  CHECK(!topo_placement(t, PLACE_DIFF_PACKAGE)->available);
  const struct placement *p = topo_placement(t, PLACE_SHARED_L3);
  CHECK(p->available);
  CHECK_EQ(p->nside_a, 2); /* the L2 partner joins its side */
  topo_close(t);
}

TEST(xml_numa_machine) {
  struct topo *t = open_xml("topo-2pack-4numa-smt.xml");
  REQUIRE(t);
  CHECK_EQ(topo_pu_count(t), 32);
  CHECK_EQ(topo_classify(t, 0, 1), PLACE_SMT);
  CHECK_EQ(topo_classify(t, 0, 2), PLACE_SHARED_L2);
  CHECK_EQ(topo_classify(t, 0, 4), PLACE_SHARED_L3);
  CHECK_EQ(topo_classify(t, 0, 8), PLACE_DIFF_NUMA);
  CHECK_EQ(topo_classify(t, 0, 16), PLACE_DIFF_PACKAGE);
  /* Each L3 carries its own NUMA node, so "different L3, same node" cannot
   * happen here. */
  CHECK(!topo_placement(t, PLACE_DIFF_L3)->available);
  const struct placement *p = topo_placement(t, PLACE_DIFF_NUMA);
  CHECK(p->available);
  CHECK_EQ(p->nside_a, 8);
  topo_close(t);
}

TEST(xml_this_vm) {
  /* The machine the reference results come from: 2 PUs, separate L3s. */
  struct topo *t = open_xml("topo-vm-2pu-2l3.xml");
  REQUIRE(t);
  CHECK_EQ(topo_pu_count(t), 2);
  CHECK_EQ(topo_classify(t, 0, 1), PLACE_DIFF_L3);
  CHECK(topo_placement(t, PLACE_SAME_PU)->available);
  CHECK(topo_placement(t, PLACE_DIFF_L3)->available);
  for (int c = PLACE_SMT; c <= PLACE_DIFF_PACKAGE; c++)
    if (c != PLACE_DIFF_L3)
      CHECK(!topo_placement(t, c)->available);
  topo_close(t);
}

TEST(xml_export_round_trip) {
  struct topo *t = open_synthetic("pack:2 core:2 pu:2");
  REQUIRE(t);
  char path[] = "/tmp/chanlab-topo-XXXXXX", err[256];
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  close(fd);
  CHECK_EQ(topo_export_xml(t, path, err, sizeof err), 0);
  struct topo *back = NULL;
  CHECK_EQ(topo_open(&back, TOPO_XML, path, err, sizeof err), 0);
  if (back) {
    CHECK_EQ(topo_pu_count(back), 8);
    /* No caches at all: cores of one package share nothing. */
    CHECK_EQ(topo_classify(back, 0, 2), PLACE_DIFF_L3);
    CHECK_EQ(topo_classify(back, 0, 4), PLACE_DIFF_PACKAGE);
    topo_close(back);
  }
  unlink(path);
  topo_close(t);
}

TEST(bad_input_is_reported) {
  struct topo *t = (struct topo *)1;
  char err[256] = "";
  CHECK_EQ(topo_open(&t, TOPO_SYNTHETIC, "pack:x banana", err, sizeof err), -1);
  CHECK(t == NULL);
  CHECK(strstr(err, "banana") != NULL);
  CHECK_EQ(topo_open(&t, TOPO_XML, "/nonexistent/topo.xml", err, sizeof err),
           -1);
  CHECK(strstr(err, "/nonexistent/topo.xml") != NULL);
  CHECK_EQ(topo_open(&t, TOPO_SYNTHETIC, NULL, err, sizeof err), -1);
  CHECK_EQ(topo_open(NULL, TOPO_SYSTEM, NULL, err, sizeof err), -1);
  CHECK_EQ(place_class_from_name("banana"), -1);
  CHECK_EQ(place_class_from_name(NULL), -1);
  for (int c = 0; c < PLACE_NCLASSES; c++)
    CHECK_EQ(place_class_from_name(place_class_name(c)), c);
  CHECK(topo_placement(NULL, PLACE_SMT) == NULL);
  CHECK_EQ(topo_pu_count(NULL), 0);
  CHECK_EQ(placement_cpu(NULL, 0, 0), -1);
  topo_close(NULL);
}

static void *pin_and_check(void *arg) {
  int cpu = *(int *)arg;
  cpu_set_t before, after;
  CHECK_EQ(sched_getaffinity(0, sizeof before, &before), 0);
  int rc = place_pin_self(cpu);
  CHECK_EQ(rc, 0);
  if (rc == 0)
    CHECK_EQ(sched_getcpu(), cpu);
  /* Unpinning restores the process's original mask, not "stay here". */
  CHECK_EQ(place_pin_self(-1), 0);
  CHECK_EQ(sched_getaffinity(0, sizeof after, &after), 0);
  CHECK(CPU_EQUAL(&before, &after));
  return NULL;
}

TEST(system_topology_pins) {
  struct topo *t = NULL;
  char err[256];
  REQUIRE(topo_open(&t, TOPO_SYSTEM, NULL, err, sizeof err) == 0);
  CHECK(topo_pu_count(t) >= 1);
  CHECK(topo_placement(t, PLACE_SAME_PU)->available);
  CHECK_EQ(place_pin_self(-1), 0);
  /* Pinning a fresh thread to each side of "same PU" lands it there. */
  int cpu = placement_cpu(topo_placement(t, PLACE_SAME_PU), 1, 0);
  test_thread_join(test_thread_start(pin_and_check, &cpu));
  topo_close(t);
}
