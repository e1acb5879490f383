"""chanlab_stats - the statistics behind every figure and verdict.

A benchmark row has one sample per repetition. Its figure is the median of
the samples with a 95% confidence interval from order statistics (the
interval benchstat gives: the k-th smallest to the k-th largest sample,
with k from the binomial distribution; 6 samples give [min, max] at 96.9%,
5 samples cannot reach 95%). Two rows are compared by the ratio of their
medians, with the interval of the ratio that inverts a Mann-Whitney U test
on the logarithms (the Hodges-Lehmann/Moses interval: order statistics of
the pairwise log-ratios), and the test's p-value. A difference is declared
only when p < alpha, which is when that interval excludes 1; otherwise the
verdict is "~" (no difference shown). How much more one row slows down
than another (a ratio of two ratios) gets a bootstrap interval. The
distributions and the bootstrap come from scipy.

Import check: scipy is required; check_deps() says how to install it for the
python that is running.
"""
import argparse
import functools
import math
import sys

ALPHA = 0.05
CONFIDENCE = 0.95


def check_deps(prog):
    """Exits 2 with a message if scipy or numpy is missing for this python."""
    missing = []
    for mod in ("numpy", "scipy"):
        try:
            __import__(mod)
        except ImportError:
            missing.append(mod)
    if missing:
        debian = " ".join(f"python3-{m}" for m in missing)
        print(f"{prog}: {', '.join(missing)} missing for {sys.executable} "
              f"(Python {sys.version.split()[0]}). On Debian: apt-get install {debian} "
              f"and run it with /usr/bin/python3; for another python: "
              f"{sys.executable} -m pip install {' '.join(missing)}", file=sys.stderr)
        sys.exit(2)


def add_alpha(parser):
    """The --alpha option every comparing script takes."""
    def alpha(text):
        try:
            v = float(text)
        except ValueError:
            v = math.nan
        if not 0 < v < 1:
            raise argparse.ArgumentTypeError(f"must be between 0 and 1, not '{text}'")
        return v
    parser.add_argument("--alpha", type=alpha, default=ALPHA,
                        help="significance level (default %(default)s)")


def median(xs):
    s = sorted(xs)
    n = len(s)
    if n == 0:
        return math.nan
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


@functools.lru_cache(maxsize=None)
def _median_ci_ranks(n, conf):
    """(k, achieved confidence): the interval [x_(k), x_(n+1-k)] (1-based)
    covers the median with probability >= conf for the largest such k, or
    (0, best) when even [min, max] does not reach conf."""
    from scipy.stats import binom
    best = 0, 0.0
    for k in range(1, n // 2 + 1):
        # P(x_(k) <= median <= x_(n+1-k)) = 1 - 2 P(B <= k-1), B ~ Bin(n, 1/2)
        cover = 1 - 2 * binom.cdf(k - 1, n, 0.5)
        if cover >= conf:
            best = k, cover
        else:
            break
    if best[0] == 0 and n >= 2:
        return 0, 1 - 2 * 0.5 ** n
    return best


def median_ci(xs, conf=CONFIDENCE):
    """(median, lo, hi): the median of xs with its order-statistic interval;
    lo and hi are nan when the samples are too few for conf."""
    s = sorted(x for x in xs if x is not None and not math.isnan(x))
    if not s:
        return math.nan, math.nan, math.nan
    k, _ = _median_ci_ranks(len(s), conf)
    if k == 0:
        return median(s), math.nan, math.nan
    return median(s), s[k - 1], s[len(s) - k]


def min_samples(conf=CONFIDENCE):
    """The fewest samples whose median interval reaches conf (6 at 95%)."""
    n = 2
    while _median_ci_ranks(n, conf)[0] == 0:
        n += 1
    return n


@functools.lru_cache(maxsize=None)
def _shift_rank(n, m, alpha):
    """k: the two-sided exact Mann-Whitney U test at level alpha accepts
    U in [k, nm - k]; 0 when no U can be rejected (too few samples). Found
    with scipy's exact test on tie-free samples built to have each U."""
    from scipy.stats import mannwhitneyu
    y = [2.0 * j + 2 for j in range(m)]  # 2, 4, ..., 2m

    def p_of(u):
        x, left = [], u
        for i in range(n):  # x_i above c_i of the y's, sum of c_i = u
            c = min(left, m)
            left -= c
            x.append(2.0 * c + 1 + i * 1e-3)
        return mannwhitneyu(x, y, alternative="two-sided", method="exact").pvalue

    k = 0
    while k <= n * m // 2 and p_of(k) <= alpha:
        k += 1
    return k


def min_pvalue(n, m):
    """The smallest two-sided p-value a Mann-Whitney U test can give."""
    return 2 / math.comb(n + m, n) if n and m else 1.0


def compare(a, b, alpha=ALPHA):
    """Compares two samples of positive figures (a against b).

    Returns a dict: ratio (median(a) / median(b)), lo and hi (its interval at
    1 - alpha; nan when the samples are too few), p (two-sided Mann-Whitney
    U test), different (p < alpha), testable (enough samples for any p to
    reach alpha)."""
    from scipy.stats import mannwhitneyu
    a = [x for x in a if x is not None and x > 0 and not math.isnan(x)]
    b = [x for x in b if x is not None and x > 0 and not math.isnan(x)]
    out = {"n_a": len(a), "n_b": len(b), "ratio": math.nan, "lo": math.nan,
           "hi": math.nan, "p": 1.0, "different": False,
           "testable": bool(a and b) and min_pvalue(len(a), len(b)) < alpha}
    if not a or not b:
        return out
    out["ratio"] = median(a) / median(b)
    if len(set(a + b)) == 1:
        return out  # identical constants: no difference
    out["p"] = float(mannwhitneyu(a, b, alternative="two-sided").pvalue)
    out["different"] = out["testable"] and out["p"] < alpha
    k = _shift_rank(len(a), len(b), alpha)
    if k > 0:
        # The pairwise ratios in order (the order of their logs, the shifts
        # the test is about), kept as ratios so that a bound equal to the
        # ratio of medians is the same float, not an exp(log()) away.
        d = sorted(x / y for x in a for y in b)
        out["lo"], out["hi"] = d[k - 1], d[len(d) - k]
    return out


def threshold_verdict(lo, hi, bound, want_at_least):
    """A target against a bound, from an interval: 'met' when the whole
    interval is on the right side, 'missed' when it is all on the wrong side,
    'inconclusive' otherwise (or without an interval)."""
    if math.isnan(lo) or math.isnan(hi):
        return "inconclusive"
    if want_at_least:
        return "met" if lo >= bound else "missed" if hi < bound else "inconclusive"
    return "met" if hi <= bound else "missed" if lo > bound else "inconclusive"


# Bootstrap resamples for ratio_of_ratios, and a fixed seed: the same
# samples always give the same interval, so a report is reproducible.
BOOTSTRAP_RESAMPLES = 9999
BOOTSTRAP_SEED = 20261206


def ratio_of_ratios(a1, b1, a2, b2, conf=CONFIDENCE):
    """(median(a1) / median(b1)) / (median(a2) / median(b2)) for four
    independent samples of positive figures, with a percentile bootstrap
    interval at conf (scipy.stats.bootstrap, each sample resampled on its
    own). For "how much more does X slow down than Y": a1, b1 are X's
    figures in the two conditions, a2, b2 Y's, each pair ordered so that its
    ratio is X's or Y's slowdown.

    No rank-based interval exists for a ratio of two ratios of medians;
    the bootstrap makes no assumption about the distributions either, but
    with 6 samples per side it is coarse (a resampled median takes one of
    a few values), so the interval is a guide, not an exact 95%.

    Returns a dict: ratio, lo, hi (nan when a sample has fewer than 2
    figures), n (the four sample sizes)."""
    import numpy as np
    from scipy.stats import bootstrap
    samples = [np.array([x for x in s if x is not None and x > 0 and not math.isnan(x)])
               for s in (a1, b1, a2, b2)]
    out = {"ratio": math.nan, "lo": math.nan, "hi": math.nan,
           "n": tuple(len(s) for s in samples)}
    if any(len(s) == 0 for s in samples):
        return out
    m = [median(s) for s in samples]
    out["ratio"] = (m[0] / m[1]) / (m[2] / m[3])
    if any(len(s) < 2 for s in samples):
        return out

    def statistic(x1, y1, x2, y2, axis):
        med = functools.partial(np.median, axis=axis)
        return (med(x1) / med(y1)) / (med(x2) / med(y2))

    res = bootstrap(samples, statistic, n_resamples=BOOTSTRAP_RESAMPLES, vectorized=True,
                    confidence_level=conf, method="percentile",
                    random_state=np.random.default_rng(BOOTSTRAP_SEED))
    out["lo"], out["hi"] = float(res.confidence_interval.low), float(res.confidence_interval.high)
    return out
