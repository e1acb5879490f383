/*
 * main.c - chanbench, the chanlab benchmark program.
 *
 *   chanbench [--quick|--full] [--impl=a,b|all] [--scenario=a,b]
 *             [--placement=a,b] [--messages=N] [--topology-xml=PATH]
 *             [--topology=synthetic:DESC|xml:PATH] [--list]
 *             [Google Benchmark flags...]
 *
 * Registers every selected scenario on every selected implementation and
 * placement, then hands over to Google Benchmark, whose own flags
 * (--benchmark_filter, --benchmark_out, --benchmark_repetitions,
 * --benchmark_enable_random_interleaving, --benchmark_format, ...) work as
 * documented. Unknown flags, implementations, scenarios and placements are
 * rejected with a message and exit status 2.
 *
 * --topology replaces the machine's topology by an hwloc synthetic
 * description or XML file, to see what would be registered elsewhere (with
 * --list); running pinned benchmarks on PUs this machine lacks fails each
 * with a "cannot pin" error, never a crash.
 */
#include "bench_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
  fprintf(f, "usage: chanbench [--quick|--full] [--impl=a,b|all] "
             "[--scenario=a,b]\n"
             "                 [--placement=a,b] [--messages=N] "
             "[--topology-xml=PATH]\n"
             "                 [--topology=synthetic:DESC|xml:PATH] [--list]\n"
             "                 [Google Benchmark flags, see --help]\n");
}

/* Checks every item of a comma list against a validator; on failure prints
 * what is wrong and what is accepted. */
static bool check_list(const char *what, const char *list,
                       bool (*valid)(const char *), const char *accepted) {
  char buf[512];
  snprintf(buf, sizeof buf, "%s", list);
  if (!*buf) {
    fprintf(stderr, "chanbench: empty %s list\n", what);
    return false;
  }
  for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
       tok = strtok_r(NULL, ",", &save)) {
    if (!valid(tok)) {
      fprintf(stderr, "chanbench: unknown %s '%s' (known: %s)\n", what, tok,
              accepted);
      return false;
    }
  }
  return true;
}

static bool valid_scenario(const char *s) {
  for (const struct scenario *sc = scenarios; sc->name; sc++)
    if (strcmp(s, sc->name) == 0)
      return true;
  return false;
}

static bool valid_impl(const char *s) {
  return bq_find(s) != NULL;
}

/* True if name is in the comma list (NULL: every name is). */
static bool in_list(const char *list, const char *name) {
  if (!list)
    return true;
  size_t n = strlen(name);
  for (const char *p = list; *p;) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    if (len == n && strncmp(p, name, n) == 0)
      return true;
    if (!comma)
      break;
    p = comma + 1;
  }
  return false;
}

static bool valid_place(const char *s) {
  return place_class_from_name(s) >= 0;
}

static void join(char *out, size_t len, const char *const *names, int n) {
  size_t used = 0;
  out[0] = '\0';
  for (int i = 0; (n < 0 ? names[i] != NULL : i < n); i++)
    used += (size_t)snprintf(out + used, used < len ? len - used : 0, "%s%s",
                             i ? "," : "", names[i]);
}

int main(int argc, char **argv) {
  const char *impl_list = "all", *place_list = NULL, *xml_out = NULL;
  const char *scenario_list = NULL;
  const char *topo_desc = NULL;
  enum topo_source topo_src = TOPO_SYSTEM;
  bool list_only = false;
  g_suite.messages = 0;
  char known_impls[512], known_scen[1024], known_places[256];
  const char *names[QUEUES_MAX + 64];
  int n = 0;
  for (const struct bq_ops *const *r = bq_rows(); *r && n < QUEUES_MAX; r++)
    if (!(*r)->skipped)
      names[n++] = (*r)->name;
  join(known_impls, sizeof known_impls, names, n);
  n = 0;
  for (const struct scenario *sc = scenarios; sc->name; sc++)
    names[n++] = sc->name;
  join(known_scen, sizeof known_scen, names, n);
  const char *pnames[PLACE_NCLASSES];
  for (int c = 0; c < PLACE_NCLASSES; c++)
    pnames[c] = place_class_name(c);
  join(known_places, sizeof known_places, pnames, PLACE_NCLASSES);

  /* Our flags are consumed here; the rest go to Google Benchmark, which
   * rejects what it does not know. */
  int kept = 1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--full") == 0) {
      g_suite.full = true;
    } else if (strcmp(a, "--quick") == 0) {
      g_suite.full = false;
    } else if (strncmp(a, "--impl=", 7) == 0) {
      impl_list = a + 7;
    } else if (strncmp(a, "--scenario=", 11) == 0) {
      scenario_list = a + 11;
    } else if (strncmp(a, "--placement=", 12) == 0) {
      place_list = a + 12;
    } else if (strncmp(a, "--messages=", 11) == 0) {
      char *end;
      g_suite.messages = strtoll(a + 11, &end, 10);
      if (*end || g_suite.messages <= 0 || g_suite.messages > (1LL << 32)) {
        fprintf(stderr, "chanbench: bad --messages '%s' (1..2^32)\n", a + 11);
        return 2;
      }
    } else if (strncmp(a, "--topology-xml=", 15) == 0) {
      xml_out = a + 15;
    } else if (strncmp(a, "--topology=synthetic:", 21) == 0) {
      topo_src = TOPO_SYNTHETIC, topo_desc = a + 21;
    } else if (strncmp(a, "--topology=xml:", 15) == 0) {
      topo_src = TOPO_XML, topo_desc = a + 15;
    } else if (strncmp(a, "--topology", 10) == 0) {
      fprintf(stderr,
              "chanbench: --topology wants synthetic:DESC or "
              "xml:PATH, not '%s'\n",
              a);
      return 2;
    } else if (strcmp(a, "--list") == 0) {
      list_only = true;
    } else if (strncmp(a, "--benchmark_", 12) == 0 ||
               strcmp(a, "--help") == 0 || strncmp(a, "--v=", 4) == 0) {
      if (strcmp(a, "--help") == 0)
        usage(stdout);
      argv[kept++] = argv[i];
    } else {
      fprintf(stderr, "chanbench: unknown argument '%s'\n", a);
      usage(stderr);
      return 2;
    }
  }
  argv[kept] = NULL;
  argc = kept;
  if (g_suite.messages == 0)
    g_suite.messages = g_suite.full ? 50000 : 20000;

  if (scenario_list &&
      !check_list("scenario", scenario_list, valid_scenario, known_scen))
    return 2;
  if (strcmp(impl_list, "all") != 0 &&
      !check_list("implementation", impl_list, valid_impl, known_impls))
    return 2;
  if (place_list &&
      !check_list("placement", place_list, valid_place, known_places))
    return 2;

  /* Queues: every usable row, or the listed ones in order. */
  if (strcmp(impl_list, "all") == 0) {
    for (const struct bq_ops *const *r = bq_rows();
         *r && g_suite.nqueues < QUEUES_MAX; r++)
      if (!(*r)->skipped)
        g_suite.queues[g_suite.nqueues++] = *r;
  } else {
    char buf[512];
    snprintf(buf, sizeof buf, "%s", impl_list);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save);
         tok && g_suite.nqueues < QUEUES_MAX; tok = strtok_r(NULL, ",", &save))
      g_suite.queues[g_suite.nqueues++] = bq_find(tok);
  }
  for (const struct bq_ops *const *r = bq_rows(); *r; r++) {
    char key[96];
    snprintf(key, sizeof key, "%s.%s",
             strcmp((*r)->library, "chanlab") == 0 ? "queue" : "peer",
             (*r)->name);
    bench_add_context(key, (*r)->skipped ? (*r)->skipped : (*r)->library);
  }

  char err[256];
  if (topo_open(&g_suite.topo, topo_src, topo_desc, err, sizeof err) != 0) {
    fprintf(stderr, "chanbench: %s\n", err);
    return 2;
  }
  g_suite.npus = topo_pu_count(g_suite.topo);
  if (xml_out && topo_export_xml(g_suite.topo, xml_out, err, sizeof err)) {
    fprintf(stderr, "chanbench: %s\n", err);
    return 1;
  }

  /* Placements: selected ones the machine has; the missing ones are named
   * with the reason, on stderr and in the JSON context. */
  for (int c = 0; c < PLACE_NCLASSES; c++) {
    const struct placement *pl = topo_placement(g_suite.topo, c);
    bool selected = true;
    if (place_list) {
      char buf[256];
      snprintf(buf, sizeof buf, ",%s,", place_list);
      char key[64];
      snprintf(key, sizeof key, ",%s,", place_class_name(c));
      selected = strstr(buf, key) != NULL;
    }
    char key[64];
    snprintf(key, sizeof key, "placement.%s", place_class_name(c));
    bench_add_context(key, pl->note);
    if (selected && !pl->available)
      fprintf(stderr, "chanbench: placement %s %s\n", place_class_name(c),
              pl->note);
    g_suite.place_on[c] = selected && pl->available;
  }

  char pus[16];
  snprintf(pus, sizeof pus, "%d", g_suite.npus);
  bench_add_context("chanlab.suite", g_suite.full ? "full" : "quick");
  bench_add_context("chanlab.impls", known_impls);
  bench_add_context("chanlab.pus", pus);
  bench_add_context("chanlab.allocator", alloc_name());
  char msgs[32];
  snprintf(msgs, sizeof msgs, "%lld", (long long)g_suite.messages);
  bench_add_context("chanlab.messages_per_round", msgs);

  /* The scenario list goes into the context, where the Python loader reads
   * it: chanlab.scenarios, and scenario.<name> = "<group> <metric>: ...". */
  bench_add_context("chanlab.scenarios", known_scen);
  for (const struct scenario *sc = scenarios; sc->name; sc++) {
    char key[96], value[512];
    snprintf(key, sizeof key, "scenario.%s", sc->name);
    snprintf(value, sizeof value, "%s %s: %s", scenario_group_name(sc->group),
             scenario_metric_name(sc->metric), sc->summary);
    bench_add_context(key, value);
    if (in_list(scenario_list, sc->name))
      sc->reg(sc);
  }
  suite_absent_flush();

  if (list_only) {
    printf("implementations: %s\nscenarios: %s\n", known_impls, known_scen);
    for (const struct scenario *sc = scenarios; sc->name; sc++)
      printf("scenario %-18s %-7s %-8s %s\n", sc->name,
             scenario_group_name(sc->group), scenario_metric_name(sc->metric),
             sc->summary);
    for (int c = 0; c < PLACE_NCLASSES; c++)
      printf("placement %-13s %s\n", place_class_name(c),
             topo_placement(g_suite.topo, c)->note);
    argv[argc++] = "--benchmark_list_tests=true";
    argv[argc] = NULL;
  }
  int rc = bench_main(argc, argv);
  topo_close(g_suite.topo);
  return rc ? 2 : 0;
}
