#!/usr/bin/python3
"""test_stats.py - the statistics behind every figure and verdict, at inputs
whose answers are known independently of the code under test:

  * the median's order-statistic interval (chanlab_stats.median_ci) picks
    the ranks the binomial formula gives, for n = 6, 10 and 20, and those
    ranks cover the median with at least 95% (exact sums, math.comb);
  * the Hodges-Lehmann interval of a ratio points the right way: a row
    twice as fast as another is 2x better, with an interval around 2 (not
    0.5), for a time metric and for a rate;
  * compare.py's noise margin: a 3% change with p < 0.05 is "~" at the
    default 5% margin, a 7% change is not.

Run by ctest (scripts_stats); /usr/bin/python3 scripts/tests/test_stats.py.
"""
import math
import os
import random
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import chanlab_stats as stats  # noqa: E402

stats.check_deps("test_stats.py")
import compare  # noqa: E402
from chanlab_results import speedup  # noqa: E402


def coverage(n, k):
    """P(x_(k) <= median <= x_(n+1-k)) for n samples of a continuous
    distribution: the number of samples below the median is Bin(n, 1/2),
    and the interval misses when fewer than k or more than n-k are."""
    return sum(math.comb(n, j) for j in range(k, n - k + 1)) / 2 ** n


def expected_rank(n, conf=0.95):
    """The largest k whose [x_(k), x_(n+1-k)] covers with >= conf."""
    best = 0
    for k in range(1, n // 2 + 1):
        if coverage(n, k) >= conf:
            best = k
    return best


class MedianInterval(unittest.TestCase):
    # The ranks by hand: n=6 -> [x1, x6] (96.9%), n=10 -> [x2, x9] (97.9%),
    # n=20 -> [x6, x15] (95.9%); one rank further in misses 95%.
    KNOWN = {6: 1, 10: 2, 20: 6}

    def test_ranks_match_the_binomial_formula(self):
        for n, k in self.KNOWN.items():
            with self.subTest(n=n):
                self.assertEqual(expected_rank(n), k)
                self.assertGreaterEqual(coverage(n, k), 0.95)
                self.assertLess(coverage(n, k + 1), 0.95)
                xs = [float(10 * i) for i in range(1, n + 1)]
                random.Random(n).shuffle(xs)  # order of the input is irrelevant
                med, lo, hi = stats.median_ci(xs)
                self.assertEqual(lo, 10.0 * k)
                self.assertEqual(hi, 10.0 * (n + 1 - k))
                self.assertEqual(med, (10.0 * (n // 2) + 10.0 * (n // 2 + 1)) / 2)

    def test_five_samples_cannot_reach_95_percent(self):
        self.assertLess(coverage(5, 1), 0.95)
        med, lo, hi = stats.median_ci([1.0, 2, 3, 4, 5])
        self.assertEqual(med, 3.0)
        self.assertTrue(math.isnan(lo) and math.isnan(hi))
        self.assertEqual(stats.min_samples(), 6)


class FakeRow:
    """What speedup() reads of a results row."""

    def __init__(self, samples, higher_is_better):
        self._samples = samples
        self.higher_is_better = higher_is_better

    def samples(self):
        return list(self._samples)


def jittered(base, n, seed):
    rng = random.Random(seed)
    return [base * (1 + rng.uniform(-0.004, 0.004)) for _ in range(n)]


class RatioDirection(unittest.TestCase):
    def test_twice_as_fast_in_time_is_about_2x_better(self):
        a = FakeRow(jittered(100.0, 10, 1), higher_is_better=False)  # ns
        b = FakeRow(jittered(200.0, 10, 2), higher_is_better=False)
        c = speedup(a, b)
        self.assertTrue(c["different"])
        self.assertAlmostEqual(c["ratio"], 2.0, delta=0.03)
        self.assertLess(c["lo"], c["hi"])
        self.assertTrue(1.9 < c["lo"] <= c["ratio"] <= c["hi"] < 2.1, c)
        # and the other way round: B is half as good as A
        r = speedup(b, a)
        self.assertTrue(0.47 < r["lo"] <= r["ratio"] <= r["hi"] < 0.53, r)

    def test_twice_the_rate_is_about_2x_better(self):
        a = FakeRow(jittered(2e6, 10, 3), higher_is_better=True)  # items/s
        b = FakeRow(jittered(1e6, 10, 4), higher_is_better=True)
        c = speedup(a, b)
        self.assertTrue(c["different"])
        self.assertTrue(1.9 < c["lo"] <= c["ratio"] <= c["hi"] < 2.1, c)


class NoiseMargin(unittest.TestCase):
    def change(self, factor):
        old = jittered(1e6, 10, 5)
        new = [x * factor for x in jittered(1e6, 10, 6)]
        c = stats.compare(new, old)
        self.assertLess(c["p"], 0.05, c)  # significant either way
        self.assertTrue(c["different"])
        return c

    def test_three_percent_is_noise_at_the_default_margin(self):
        c = self.change(1.03)
        self.assertEqual(compare.MIN_CHANGE, 5.0)
        self.assertFalse(compare.changed(c))
        self.assertTrue(compare.changed(c, min_change=1.0))  # the margin decides

    def test_seven_percent_is_a_change(self):
        self.assertTrue(compare.changed(self.change(1.07)))
        self.assertTrue(compare.changed(self.change(1 / 1.07)))  # worse counts too


if __name__ == "__main__":
    unittest.main(verbosity=2)
