/*
 * main.c - chanbench, the chanlab benchmark program.
 *
 *   chanbench [options] [Google Benchmark flags]      (chanbench --help)
 *
 * Registers every selected scenario (scenarios.def) on every selected queue
 * (queue.h: chanlab's implementations, then the peers) and placement, then
 * hands over to Google Benchmark. Each benchmark runs several times
 * (repetitions, randomly interleaved with the other benchmarks' so a slow
 * spell of the machine spreads over many rows instead of spoiling one), and
 * the JSON keeps every repetition, so every figure can carry an interval.
 *
 * Options follow getopt_long (--x=v or --x v); Google Benchmark's own flags
 * (--benchmark_*) pass through and win over chanbench's defaults. Unknown
 * flags, queues, scenarios and placements, empty lists and filters that
 * match nothing are rejected with a message and exit status 2. The exit
 * status is 3 when a benchmark reported an error (a lost value, a queue
 * that could not be made, a thread that could not be pinned).
 */
#include "bench_common.h"
#include "load.h"

#include <fnmatch.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The suites: repetitions, seconds per repetition, messages per round. */
static const struct {
  const char *name;
  int repetitions;
  const char *min_time;
  int64_t messages;
} suites[2] = {{"quick", 6, "0.08", 20000}, {"full", 10, "0.2", 50000}};

static void usage(FILE *f, const char *known_impls, const char *places) {
  fprintf(
      f,
      "usage: chanbench [options] [Google Benchmark flags]\n"
      "\n"
      "Runs chanlab's benchmark scenarios on every queue under test and every\n"
      "placement class of this machine; --out writes Google Benchmark's JSON.\n"
      "\n"
      "  -q, --quick            the quick suite (default): fewer "
      "configurations,\n"
      "                         %d repetitions of %s s each\n"
      "  -f, --full             every configuration on every placement, %d\n"
      "                         repetitions of %s s each\n"
      "  -i, --impl LIST        queues, comma-separated (default all): %s\n"
      "      --impl-lib PATH    load a chanlab implementation from a shared\n"
      "                         object first (repeatable; chan/impl.h); its\n"
      "                         name is then a queue for --impl\n"
      "  -s, --scenario LIST    scenarios: names or globs (pattern_*), see "
      "--list\n"
      "  -p, --placement LIST   placement classes: %s\n"
      "  -e, --executor LIST    who runs the roles where a scenario has the\n"
      "                         executor axis: thread, fiber or both "
      "(default)\n"
      "  -F, --filter REGEX     only benchmarks whose name matches (Google\n"
      "                         Benchmark's --benchmark_filter)\n"
      "  -r, --repetitions N    repetitions of each benchmark (default %d "
      "quick,\n"
      "                         %d full), randomly interleaved\n"
      "  -t, --min-time S       seconds per repetition (default %s quick, %s "
      "full)\n"
      "  -m, --messages N       messages per round (default %lld quick, %lld "
      "full)\n"
      "  -o, --out FILE         write the results (every repetition) as JSON\n"
      "      --topology SRC     another machine's topology: synthetic:DESC or\n"
      "                         xml:PATH (see what would run there, with "
      "--list)\n"
      "      --topology-xml PATH  write this machine's topology as XML\n"
      "      --no-progress      no progress lines on stderr\n"
      "      --background-load N  N spinning hog processes, each pinned to one\n"
      "                         of the last N PUs, for the whole run (the\n"
      "                         loaded-machine scenario; default 0; the JSON\n"
      "                         context says background_load); gochan's is the\n"
      "                         same\n"
      "  -l, --list             list queues, scenarios, placements and the\n"
      "                         benchmarks that would run\n"
      "  -h, --help             this help\n"
      "\n"
      "Suite durations on 2 PUs: the quick suite takes about 3 to 3.5 "
      "minutes\n"
      "(chanlab's rows on both executors and the C/C++ peers'; scripts/run.sh "
      "adds\n"
      "Go's and the Rust peers', about 30 s), --full about 81 minutes; "
      "`--list`\n"
      "counts the benchmarks and estimates the time on this machine.\n"
      "Google Benchmark's flags (--benchmark_*) pass through; chanbench "
      "turns on\n"
      "--benchmark_enable_random_interleaving and "
      "--benchmark_display_aggregates_only\n"
      "(the JSON keeps every repetition).\n",
      suites[0].repetitions, suites[0].min_time, suites[1].repetitions,
      suites[1].min_time, known_impls, places, suites[0].repetitions,
      suites[1].repetitions, suites[0].min_time, suites[1].min_time,
      (long long)suites[0].messages, (long long)suites[1].messages);
}

/* Checks every item of a comma list against a validator; on failure prints
 * what is wrong and what is accepted. */
static bool check_list(const char *what, const char *list,
                       bool (*valid)(const char *), const char *accepted) {
  char buf[1024];
  snprintf(buf, sizeof buf, "%s", list);
  if (!*buf || strspn(buf, ",") == strlen(buf)) {
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

/* A scenario item is a name or a glob matching at least one name. */
static bool valid_scenario(const char *s) {
  for (const struct scenario *sc = scenarios; sc->name; sc++)
    if (fnmatch(s, sc->name, 0) == 0)
      return true;
  return false;
}

static bool valid_impl(const char *s) {
  return bq_find(s) != NULL;
}

static bool valid_place(const char *s) {
  return place_class_from_name(s) >= 0;
}

static bool valid_exec(const char *s) {
  return exec_from_name(s) >= 0;
}

/* True if name matches an item (a name or glob) of the comma list (NULL:
 * every name does). */
static bool in_list(const char *list, const char *name) {
  if (!list)
    return true;
  char buf[1024];
  snprintf(buf, sizeof buf, "%s", list);
  for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
       tok = strtok_r(NULL, ",", &save))
    if (fnmatch(tok, name, 0) == 0)
      return true;
  return false;
}

static void join(char *out, size_t len, const char *const *names, int n) {
  size_t used = 0;
  out[0] = '\0';
  for (int i = 0; i < n; i++)
    used += (size_t)snprintf(out + used, used < len ? len - used : 0, "%s%s",
                             i ? "," : "", names[i]);
}

/* Parses a whole number in [lo, hi]; false with a message otherwise. */
static bool parse_count(const char *flag, const char *s, int64_t lo, int64_t hi,
                        int64_t *out) {
  char *end;
  long long v = strtoll(s, &end, 10);
  if (!*s || *end || v < lo || v > hi) {
    fprintf(stderr, "chanbench: bad %s '%s' (a whole number, %lld..%lld)\n",
            flag, s, (long long)lo, (long long)hi);
    return false;
  }
  *out = v;
  return true;
}

/* The Google Benchmark flags: chanbench's defaults first, then what the
 * options and the user asked for (Google Benchmark keeps the last). */
struct gb_args {
  char *argv[256];
  int argc;
  char *owned[256]; /* what gb_add allocated (Google Benchmark reorders argv) */
  int nowned;
};

static void gb_add(struct gb_args *g, const char *fmt, const char *value) {
  if (g->argc >= 255) {
    fprintf(stderr, "chanbench: too many arguments\n");
    exit(2);
  }
  size_t n = strlen(fmt) + strlen(value) + 1;
  char *s = malloc(n);
  if (!s) {
    fprintf(stderr, "chanbench: out of memory\n");
    exit(1);
  }
  snprintf(s, n, fmt, value);
  g->owned[g->nowned++] = s;
  g->argv[g->argc++] = s;
  g->argv[g->argc] = NULL;
}

enum {
  OPT_TOPOLOGY = 256,
  OPT_TOPOLOGY_XML,
  OPT_NO_PROGRESS,
  OPT_BACKGROUND_LOAD,
  OPT_IMPL_LIB
};

int main(int argc, char **argv) {
  const char *impl_list = "all", *place_list = NULL, *xml_out = NULL;
  const char *scenario_list = NULL, *filter = NULL, *out = NULL;
  const char *min_time = NULL, *topo_desc = NULL, *exec_list = NULL;
  enum topo_source topo_src = TOPO_SYSTEM;
  bool list_only = false, progress = true;
  int64_t repetitions = 0, background_load = 0;
  g_suite.messages = 0;

  /* --impl-lib first, wherever it stands: the loaded implementations are
   * rows of the list that everything below is checked against. */
  for (int i = 1; i < argc; i++) {
    const char *path = NULL;
    if (strcmp(argv[i], "--impl-lib") == 0 && i + 1 < argc)
      path = argv[++i];
    else if (strncmp(argv[i], "--impl-lib=", 11) == 0)
      path = argv[i] + 11;
    if (path && chan_impl_load(path) != CHAN_OK) {
      fprintf(stderr, "chanbench: --impl-lib: %s\n", chan_last_error());
      return 2;
    }
  }

  char known_impls[1024], known_scen[1024], known_places[256];
  const char *names[QUEUES_MAX + 64];
  int n = 0;
  size_t nrows;
  const struct bq_row *rows = bq_rows(&nrows);
  for (size_t i = 0; i < nrows && n < QUEUES_MAX; i++)
    if (rows[i].ops)
      names[n++] = rows[i].name;
  join(known_impls, sizeof known_impls, names, n);
  n = 0;
  for (const struct scenario *sc = scenarios; sc->name; sc++)
    names[n++] = sc->name;
  join(known_scen, sizeof known_scen, names, n);
  for (int c = 0; c < PLACE_NCLASSES; c++)
    names[c] = place_class_name(c);
  join(known_places, sizeof known_places, names, PLACE_NCLASSES);

  /* Google Benchmark's flags (--benchmark_*, --v=N) are set aside for it;
   * getopt_long parses the rest. */
  struct gb_args gb = {{argv[0], NULL}, 1, {NULL}, 0};
  char *ours[256] = {argv[0]};
  int nours = 1;
  const char *user_gb[256];
  int nuser_gb = 0;
  for (int i = 1; i < argc && nours < 255 && nuser_gb < 255; i++) {
    if (strncmp(argv[i], "--benchmark_", 12) == 0 ||
        strncmp(argv[i], "--v=", 4) == 0)
      user_gb[nuser_gb++] = argv[i];
    else
      ours[nours++] = argv[i];
  }
  static const struct option opts[] = {
      {"quick", no_argument, NULL, 'q'},
      {"full", no_argument, NULL, 'f'},
      {"impl", required_argument, NULL, 'i'},
      {"impl-lib", required_argument, NULL, OPT_IMPL_LIB},
      {"scenario", required_argument, NULL, 's'},
      {"placement", required_argument, NULL, 'p'},
      {"executor", required_argument, NULL, 'e'},
      {"filter", required_argument, NULL, 'F'},
      {"repetitions", required_argument, NULL, 'r'},
      {"min-time", required_argument, NULL, 't'},
      {"messages", required_argument, NULL, 'm'},
      {"out", required_argument, NULL, 'o'},
      {"topology", required_argument, NULL, OPT_TOPOLOGY},
      {"topology-xml", required_argument, NULL, OPT_TOPOLOGY_XML},
      {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
      {"background-load", required_argument, NULL, OPT_BACKGROUND_LOAD},
      {"list", no_argument, NULL, 'l'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  opterr = 0; /* our own messages, naming the flag as it was given */
  for (int c; (c = getopt_long(nours, ours, ":qfi:s:p:e:F:r:t:m:o:lh", opts,
                               NULL)) != -1;) {
    switch (c) {
    case 'q':
      g_suite.full = false;
      break;
    case 'f':
      g_suite.full = true;
      break;
    case 'i':
      impl_list = optarg;
      break;
    case 's':
      scenario_list = optarg;
      break;
    case 'p':
      place_list = optarg;
      break;
    case 'e':
      exec_list = optarg;
      break;
    case 'F':
      filter = optarg;
      if (!*filter) {
        fprintf(stderr, "chanbench: empty --filter\n");
        return 2;
      }
      break;
    case 'r':
      if (!parse_count("--repetitions", optarg, 1, 1000, &repetitions))
        return 2;
      break;
    case 't': {
      char *end;
      double v = strtod(optarg, &end);
      if (!*optarg || *end || !(v > 0 && v <= 60)) {
        fprintf(stderr,
                "chanbench: bad --min-time '%s' (seconds, more than 0 and at "
                "most 60)\n",
                optarg);
        return 2;
      }
      min_time = optarg;
      break;
    }
    case 'm':
      if (!parse_count("--messages", optarg, 1, 1LL << 32, &g_suite.messages))
        return 2;
      break;
    case 'o':
      if (!*optarg) {
        fprintf(stderr, "chanbench: empty --out\n");
        return 2;
      }
      out = optarg;
      break;
    case OPT_TOPOLOGY:
      if (strncmp(optarg, "synthetic:", 10) == 0) {
        topo_src = TOPO_SYNTHETIC, topo_desc = optarg + 10;
      } else if (strncmp(optarg, "xml:", 4) == 0) {
        topo_src = TOPO_XML, topo_desc = optarg + 4;
      } else {
        fprintf(stderr,
                "chanbench: --topology wants synthetic:DESC or xml:PATH, not "
                "'%s'\n",
                optarg);
        return 2;
      }
      break;
    case OPT_TOPOLOGY_XML:
      xml_out = optarg;
      break;
    case OPT_NO_PROGRESS:
      progress = false;
      break;
    case OPT_BACKGROUND_LOAD:
      /* One hog per PU at most: a hog is pinned to a PU of its own. */
      if (!parse_count("--background-load", optarg, 0, load_max_hogs(),
                       &background_load))
        return 2;
      break;
    case OPT_IMPL_LIB: /* loaded above, before the list was made */
      break;
    case 'l':
      list_only = true;
      break;
    case 'h':
      usage(stdout, known_impls, known_places);
      return 0;
    case ':':
      fprintf(stderr, "chanbench: %s needs a value\n", ours[optind - 1]);
      return 2;
    default:
      if (optopt)
        fprintf(stderr, "chanbench: unknown argument '-%c'\n", optopt);
      else
        fprintf(stderr, "chanbench: unknown argument '%s'\n", ours[optind - 1]);
      fprintf(stderr, "(chanbench --help lists the flags)\n");
      return 2;
    }
  }
  if (optind < nours) {
    fprintf(stderr, "chanbench: unknown argument '%s'\n", ours[optind]);
    fprintf(stderr, "(chanbench --help lists the flags)\n");
    return 2;
  }
  const int suite = g_suite.full ? 1 : 0;
  if (g_suite.messages == 0)
    g_suite.messages = suites[suite].messages;
  if (repetitions == 0)
    repetitions = suites[suite].repetitions;

  if (scenario_list &&
      !check_list("scenario", scenario_list, valid_scenario, known_scen))
    return 2;
  if (strcmp(impl_list, "all") != 0 &&
      !check_list("implementation", impl_list, valid_impl, known_impls))
    return 2;
  if (place_list &&
      !check_list("placement", place_list, valid_place, known_places))
    return 2;
  if (exec_list &&
      !check_list("executor", exec_list, valid_exec, "thread,fiber"))
    return 2;
  for (int e = 0; e < EXEC_N; e++)
    g_suite.exec_on[e] = in_list(exec_list, exec_name(e));

  /* Queues: every usable row, or the listed ones in order. */
  if (strcmp(impl_list, "all") == 0) {
    for (size_t i = 0; i < nrows && g_suite.nqueues < QUEUES_MAX; i++)
      if (rows[i].ops)
        g_suite.queues[g_suite.nqueues++] = rows[i].ops;
  } else {
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", impl_list);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save);
         tok && g_suite.nqueues < QUEUES_MAX; tok = strtok_r(NULL, ",", &save))
      g_suite.queues[g_suite.nqueues++] = bq_find(tok);
  }
  /* Every row and what it is: queue.<name> = library and features, or for a
   * peer that was not built, peer.<name> = why not. */
  for (size_t i = 0; i < nrows; i++) {
    char key[96], value[512];
    if (!rows[i].ops) {
      snprintf(key, sizeof key, "peer.%s", rows[i].name);
      bench_add_context(key, rows[i].skipped ? rows[i].skipped : "skipped");
      continue;
    }
    int used = snprintf(value, sizeof value, "%s;", rows[i].ops->library);
    for (unsigned bit = 1; bit < 1u << BQ_NFEATURES; bit <<= 1)
      if (rows[i].ops->features & bit)
        used += snprintf(value + used, sizeof value - (size_t)used, " %s",
                         bq_feature_name(bit));
    snprintf(key, sizeof key, "queue.%s", rows[i].name);
    bench_add_context(key, value);
    /* chanlab's implementations, and the loaded ones ("chanlab
     * (loaded)"), say what they are (the registry's one-line summary), for
     * the report. */
    if (strncmp(rows[i].ops->library, "chanlab", 7) == 0 &&
        chan_impl_summary(rows[i].name)) {
      snprintf(key, sizeof key, "impl.%s", rows[i].name);
      bench_add_context(key, chan_impl_summary(rows[i].name));
    }
    /* A yardstick rather than a competitor (ck_ring), and a row's own
     * fiber scheduler (its exec:fiber rows run there). */
    if (rows[i].ops->floor) {
      snprintf(key, sizeof key, "floor.%s", rows[i].name);
      bench_add_context(key, rows[i].ops->floor);
    }
    if (rows[i].ops->fibers) {
      snprintf(key, sizeof key, "fibers.%s", rows[i].name);
      bench_add_context(key, rows[i].ops->fibers->name);
    }
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
    bool selected = !place_list || in_list(place_list, place_class_name(c));
    char key[64];
    snprintf(key, sizeof key, "placement.%s", place_class_name(c));
    bench_add_context(key, pl->note);
    if (selected && !pl->available)
      fprintf(stderr, "chanbench: placement %s %s\n", place_class_name(c),
              pl->note);
    g_suite.place_on[c] = selected && pl->available;
  }

  char buf[64];
  snprintf(buf, sizeof buf, "%d", g_suite.npus);
  bench_add_context("chanlab.suite", suites[suite].name);
  bench_add_context("chanlab.impls", known_impls);
  bench_add_context("chanlab.pus", buf);
  /* The executors (scenarios with the axis name them: exec:thread|fiber),
   * and what runs the fiber rows. */
  char execs[64] = "";
  for (int e = 0; e < EXEC_N; e++)
    if (g_suite.exec_on[e])
      snprintf(execs + strlen(execs), sizeof execs - strlen(execs), "%s%s",
               execs[0] ? "," : "", exec_name(e));
  bench_add_context("chanlab.executors", execs);
  bench_add_context("executor.thread", executor_summary(EXEC_THREAD));
  bench_add_context("executor.fiber", executor_summary(EXEC_FIBER));
  bench_add_context("chanlab.allocator", alloc_name());
  snprintf(buf, sizeof buf, "%lld", (long long)g_suite.messages);
  bench_add_context("chanlab.messages_per_round", buf);
  snprintf(buf, sizeof buf, "%lld", (long long)repetitions);
  bench_add_context("chanlab.repetitions", buf);

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

  /* Google Benchmark's arguments: defaults, then ours, then the user's. */
  snprintf(buf, sizeof buf, "%lld", (long long)repetitions);
  gb_add(&gb, "--benchmark_repetitions=%s", buf);
  gb_add(&gb, "--benchmark_min_time=%s",
         min_time ? min_time : suites[suite].min_time);
  gb_add(&gb, "%s", "--benchmark_enable_random_interleaving=true");
  gb_add(&gb, "%s", "--benchmark_display_aggregates_only=true");
  if (filter)
    gb_add(&gb, "--benchmark_filter=%s", filter);
  if (out) {
    gb_add(&gb, "--benchmark_out=%s", out);
    gb_add(&gb, "%s", "--benchmark_out_format=json");
  }
  g_suite.min_time = atof(min_time ? min_time : suites[suite].min_time);
  for (int i = 0; i < nuser_gb; i++) {
    gb_add(&gb, "%s", user_gb[i]);
    if (strncmp(user_gb[i], "--benchmark_repetitions=", 24) == 0)
      repetitions = atoll(user_gb[i] + 24);
    if (strncmp(user_gb[i], "--benchmark_min_time=", 21) == 0)
      g_suite.min_time = atof(user_gb[i] + 21);
    if (strcmp(user_gb[i], "--benchmark_filter=") == 0) {
      fprintf(stderr, "chanbench: empty --benchmark_filter\n");
      return 2;
    }
  }

  if (list_only) {
    printf("implementations: %s\nscenarios: %s\n", known_impls, known_scen);
    for (size_t i = 0; i < nrows; i++) {
      const struct bq_ops *q = rows[i].ops;
      const char *what = !q ? rows[i].skipped
                         : strcmp(q->library, "chanlab") == 0
                             ? chan_impl_summary(q->name)
                             : q->library;
      printf("queue    %-18s %s%s%s\n", rows[i].name, what ? what : "",
             q && q->floor ? " [floor]" : "",
             q && q->fibers ? " [exec:fiber on its own scheduler]" : "");
    }
    for (const struct scenario *sc = scenarios; sc->name; sc++)
      printf("scenario %-18s %-7s %-8s %s\n", sc->name,
             scenario_group_name(sc->group), scenario_metric_name(sc->metric),
             sc->summary);
    for (int c = 0; c < PLACE_NCLASSES; c++)
      printf("placement %-13s %s\n", place_class_name(c),
             topo_placement(g_suite.topo, c)->note);
    for (int e = 0; e < EXEC_N; e++)
      printf("executor %-14s %s%s\n", exec_name(e), executor_summary(e),
             g_suite.exec_on[e] ? "" : " (not selected)");
    gb_add(&gb, "%s", "--benchmark_list_tests=true");
  } else if (progress) {
    bench_progress("chanbench: ", (int)repetitions);
  }
  /* The background load: started last, so nothing above runs beside it,
   * and stopped as soon as the benchmarks are done. */
  char hog_pus[256] = "";
  snprintf(buf, sizeof buf, "%lld", (long long)background_load);
  bench_add_context("background_load", buf);
  if (background_load > 0 && !list_only) {
    if (load_start((int)background_load, hog_pus, sizeof hog_pus, err,
                   sizeof err) != 0) {
      fprintf(stderr, "chanbench: %s\n", err);
      return 1;
    }
    bench_add_context("background_load.pus", hog_pus);
    fprintf(stderr, "chanbench: background load: %lld hog(s) on PU(s) %s\n",
            (long long)background_load, hog_pus);
  }
  int rc = bench_main(gb.argc, gb.argv);
  load_stop();
  for (size_t i = 0; i < nrows; i++) /* stop the rows' own fiber schedulers */
    if (rows[i].ops && rows[i].ops->fibers)
      rows[i].ops->fibers->shutdown();
  topo_close(g_suite.topo);
  suite_release();
  for (int i = 0; i < gb.nowned; i++)
    free(gb.owned[i]);
  if (rc != 0)
    return 2;
  if (list_only) {
    /* A repetition takes about 1.5x the minimum time here (Google Benchmark
     * aims at 1.4x, plus starting threads and making queues). */
    double t = g_suite.min_time;
    double est = (double)bench_matched() * (double)repetitions * t * 1.5;
    printf("%zu benchmarks x %lld repetitions of %.3g s: about %.1f minutes\n",
           bench_matched(), (long long)repetitions, t, est / 60);
  }
  if (bench_errors() > 0) {
    fprintf(stderr,
            "chanbench: %d benchmark run(s) reported an error (see above)\n",
            bench_errors());
    return 3;
  }
  return 0;
}
