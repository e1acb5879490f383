#!/usr/bin/python3
"""test_stats.py - the statistics module (scripts/chanlab_stats.py) and the
ratios built on it (chanlab_results.speedup, slowdown and slowdown_ratio)
at exactly known inputs.

    /usr/bin/python3 bench/tests/test_stats.py [SCRIPTS_DIR]

Run by ctest as scripts_stats. The expected values are computed here from
scipy's binomial distribution, independently of the implementation (which
uses the binomial CDF; this test sums the probability mass function), so a
wrong rank, a wrong coverage or a ratio read the wrong way round fails.
"""
import math
import os
import random
import sys
import unittest

SCRIPTS = os.path.abspath(sys.argv.pop(1) if len(sys.argv) > 1 else
                          os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
sys.path.insert(0, SCRIPTS)

import chanlab_stats as stats  # noqa: E402
from chanlab_results import Row, slowdown, slowdown_ratio, speedup  # noqa: E402
from scipy.stats import binom  # noqa: E402


def coverage(n, k):
    """P(x_(k) <= median < x_(n+1-k)) for n samples of a continuous
    distribution: the number of samples below the median is Bin(n, 1/2),
    and the interval covers the median when k <= that number <= n - k."""
    return sum(binom.pmf(j, n, 0.5) for j in range(k, n - k + 1))


def expected_rank(n, conf=0.95):
    """The largest k whose interval [x_(k), x_(n+1-k)] reaches conf, or 0."""
    ks = [k for k in range(1, n // 2 + 1) if coverage(n, k) >= conf]
    return max(ks) if ks else 0


class MedianInterval(unittest.TestCase):
    def test_ranks_follow_the_binomial_distribution(self):
        for n in (6, 10, 20):
            with self.subTest(n=n):
                k = expected_rank(n)
                self.assertGreater(k, 0)
                self.assertGreaterEqual(coverage(n, k), 0.95)
                # The narrowest interval that reaches 95%: one rank further
                # in falls short.
                self.assertLess(coverage(n, k + 1), 0.95)
                # Samples 1..n in a shuffled order: the k-th smallest is k.
                xs = list(range(1, n + 1))
                random.Random(n).shuffle(xs)
                m, lo, hi = stats.median_ci(xs)
                self.assertEqual(m, (n + 1) / 2)
                self.assertEqual((lo, hi), (k, n + 1 - k),
                                 f"n={n}: interval [{lo}, {hi}], expected ranks "
                                 f"[{k}, {n + 1 - k}] (coverage {coverage(n, k):.4f})")

    def test_known_ranks(self):
        # The ranks themselves, as benchstat's tables give them, so a
        # mistake shared by this test's formula and the module's shows.
        for n, k in ((6, 1), (10, 2), (20, 6)):
            with self.subTest(n=n):
                self.assertEqual(expected_rank(n), k)
                self.assertEqual(stats.median_ci(range(1, n + 1))[1:], (k, n + 1 - k))

    def test_too_few_samples_have_no_interval(self):
        self.assertEqual(expected_rank(5), 0)
        m, lo, hi = stats.median_ci([1, 2, 3, 4, 5])
        self.assertEqual(m, 3)
        self.assertTrue(math.isnan(lo) and math.isnan(hi))
        self.assertEqual(stats.min_samples(), 6)


def row(metric, values):
    """A benchmark row with one repetition per value: a time per message
    (Google Benchmark's real_time, ns) or a rate (items_per_second)."""
    meta = {"group": "runtime", "metric": metric, "summary": "a test row"}
    if metric == "time":
        reps = [{"real_time": v, "time_unit": "ns"} for v in values]
    else:
        reps = [{"items_per_second": v} for v in values]
    return Row(f"test/impl:x/place:unpinned/n:{len(values)}/manual_time", "test",
               {"impl": "x", "place": "unpinned"}, meta, reps, "test")


# Samples with some spread, no ties, none identical after scaling.
B_TIMES = [100.0, 103.0, 97.0, 110.0, 95.0, 101.5, 99.0, 105.0]


class RatioDirection(unittest.TestCase):
    """speedup(a, b) is documented as "how many times better row a is than
    row b (>1: a is better)": A twice as fast as B reads 2, with an interval
    around 2, whichever way the metric runs."""

    def check_around_two(self, c):
        self.assertAlmostEqual(c["ratio"], 2.0, delta=0.02)  # the jitter moves it a little
        self.assertLessEqual(c["lo"], c["ratio"])
        self.assertGreaterEqual(c["hi"], c["ratio"])
        self.assertGreater(c["lo"], 1.5, c)
        self.assertLess(c["hi"], 2.7, c)
        self.assertTrue(c["different"])

    def test_time_metric_half_the_time_is_twice_the_speed(self):
        a = row("time", [t / 2 * (1 + 0.001 * i) for i, t in enumerate(B_TIMES)])
        b = row("time", B_TIMES)
        self.check_around_two(speedup(a, b))
        c = speedup(b, a)
        self.assertAlmostEqual(c["ratio"], 0.5, places=2)
        self.assertLess(c["hi"], 1)

    def test_rate_metric_twice_the_rate_is_twice_the_speed(self):
        rates = [1e9 / t for t in B_TIMES]
        a = row("rate", [2 * r * (1 + 0.001 * i) for i, r in enumerate(rates)])
        b = row("rate", rates)
        self.check_around_two(speedup(a, b))

    def test_compare_is_the_ratio_of_a_over_b(self):
        # stats.compare itself: "ratio (median(a) / median(b))".
        b = B_TIMES
        a = [2 * x * (1 + 0.001 * i) for i, x in enumerate(b)]
        c = stats.compare(a, b)
        self.assertAlmostEqual(c["ratio"], stats.median(a) / stats.median(b))
        self.assertTrue(1.5 < c["lo"] <= c["ratio"] <= c["hi"] < 2.7, c)


def jitter(xs, scale=1.0):
    return [x * scale * (1 + 0.001 * i) for i, x in enumerate(xs)]


class SlowdownUnderLoad(unittest.TestCase):
    """slowdown(quiet, loaded) is how many times slower the loaded row ran
    (>1: slower), and slowdown_ratio(a..., b...) is a's slowdown over b's
    (>1: a suffers more), whichever way the metric runs."""

    def test_slowdown_reads_twice_the_time_as_two(self):
        c = slowdown(row("time", B_TIMES), row("time", jitter(B_TIMES, 2)))
        self.assertAlmostEqual(c["ratio"], 2.0, delta=0.02)
        self.assertGreater(c["lo"], 1.5)

    def test_a_slows_down_twice_as_much_as_b(self):
        for metric, quiet in (("time", B_TIMES), ("rate", [1e9 / t for t in B_TIMES])):
            with self.subTest(metric=metric):
                worse = 2 if metric == "time" else 0.5  # a loaded: half the speed
                c = slowdown_ratio(row(metric, quiet), row(metric, jitter(quiet, worse)),
                                   row(metric, quiet), row(metric, jitter(quiet, 1.0)))
                self.assertAlmostEqual(c["ratio"], 2.0, delta=0.05)
                self.assertTrue(1 < c["lo"] <= c["ratio"] <= c["hi"] < 3, c)

    def test_equal_slowdowns_include_one(self):
        c = stats.ratio_of_ratios(jitter(B_TIMES, 2), B_TIMES, jitter(B_TIMES, 2), B_TIMES)
        self.assertAlmostEqual(c["ratio"], 1.0, delta=0.01)
        self.assertTrue(c["lo"] < 1 < c["hi"], c)

    def test_too_few_samples_have_no_interval(self):
        c = stats.ratio_of_ratios([1.0], [2.0], [1.0, 2.0], [1.0, 2.0])
        self.assertEqual(c["ratio"], 0.5)
        self.assertTrue(math.isnan(c["lo"]) and math.isnan(c["hi"]))


if __name__ == "__main__":
    unittest.main(verbosity=2)
