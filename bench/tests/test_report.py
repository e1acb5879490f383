#!/usr/bin/python3
"""test_report.py - report.py's "Your implementation against the field".

    /usr/bin/python3 bench/tests/test_report.py [SCRIPTS_DIR]

Run by ctest as scripts_report. A results folder is made with one SPSC
configuration on three queues: chanlab's futex, a loaded implementation
("mine", chanbench's library "chanlab (loaded)") and a peer (tbb), at rates
whose repetitions never overlap: mine twice futex's rate and half tbb's.
The section must count mine as loaded (not as chanlab's or a peer), name
it faster than chanlab's best with a ratio interval around 2 and slower
than the best peer with one around 0.5; a run without a loaded
implementation has no such section.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

SCRIPTS = os.path.abspath(sys.argv.pop(1) if len(sys.argv) > 1 else
                          os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
sys.path.insert(0, SCRIPTS)

from chanlab_results import LOADED, Run  # noqa: E402

NAME = "spsc/impl:{}/place:unpinned/cap:128/p:1/c:1/manual_time"
BASE = [10.00e6, 10.02e6, 10.01e6, 10.04e6, 10.03e6, 10.05e6]
RATES = {"futex": BASE, "mine": [2 * r for r in BASE], "tbb": [4 * r for r in BASE]}
LIBRARIES = {"futex": "chanlab; select", "mine": "chanlab (loaded); select",
             "tbb": "oneTBB concurrent_bounded_queue"}


def write_run(folder, impls):
    os.makedirs(folder)
    context = {f"queue.{i}": LIBRARIES[i] for i in impls}
    context["impl.mine"] = "a test's own channel"
    rows = [{"name": NAME.format(i), "run_name": NAME.format(i), "run_type": "iteration",
             "repetitions": len(RATES[i]), "repetition_index": k, "iterations": 1,
             "real_time": 1e9 / r, "time_unit": "ns", "items_per_second": r}
            for i in impls for k, r in enumerate(RATES[i])]
    with open(os.path.join(folder, "chanbench.json"), "w") as f:
        json.dump({"context": context, "benchmarks": rows}, f)
    with open(os.path.join(folder, "env.txt"), "w") as f:
        f.write("cpu_model: Test CPU\npus: 2\nimpl_lib: /somewhere/libmine.so\n")


def report(folder):
    out = subprocess.run(["/usr/bin/python3", os.path.join(SCRIPTS, "report.py"), folder],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise AssertionError(f"report.py failed:\n{out.stdout}{out.stderr}")
    with open(os.path.join(folder, "README.md")) as f:
        return f.read()


def section(text):
    m = re.search(r"^## Your implementation against the field.*?(?=^## )", text, re.S | re.M)
    return m.group(0) if m else None


class Yours(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="chanlab-report-")

    def tearDown(self):
        self.tmp.cleanup()

    def test_kind(self):
        folder = os.path.join(self.tmp.name, "run")
        write_run(folder, ["futex", "mine", "tbb"])
        run = Run(folder)
        self.assertEqual(run.kind("mine"), LOADED)
        self.assertNotEqual(run.kind("futex"), LOADED)
        self.assertNotEqual(run.kind("tbb"), LOADED)

    def test_section(self):
        folder = os.path.join(self.tmp.name, "run")
        write_run(folder, ["futex", "mine", "tbb"])
        text = section(report(folder))
        self.assertIsNotNone(text, "no section for the loaded implementation")
        self.assertIn("`/somewhere/libmine.so`", text)
        self.assertIn("### `mine`: a test's own channel", text)
        self.assertIn("Against chanlab's best: faster in 1 of 1", text)
        self.assertIn("Against the best peer: slower in 1 of 1", text)
        row = next(line for line in text.splitlines() if line.startswith("| spsc |"))
        cells = [c.strip() for c in row.strip("|").split("|")]
        ratio_ours, verdict_ours, ratio_peer, verdict_peer = cells[5], cells[6], cells[8], cells[9]
        self.assertEqual(verdict_ours, "mine faster")
        self.assertEqual(verdict_peer, "tbb faster")
        for text_ratio, want in ((ratio_ours, 2.0), (ratio_peer, 0.5)):
            m = re.match(r"([\d.]+)x \[([\d.]+), ([\d.]+)\]", text_ratio)
            self.assertIsNotNone(m, text_ratio)
            ratio, lo, hi = map(float, m.groups())
            self.assertAlmostEqual(ratio, want, delta=want * 0.02)
            self.assertLessEqual(lo, want * 1.01)
            self.assertGreaterEqual(hi, want * 0.99)
            self.assertGreater(lo, want * 0.9)
            self.assertLess(hi, want * 1.1)

    def test_no_loaded_no_section(self):
        folder = os.path.join(self.tmp.name, "run")
        write_run(folder, ["futex", "tbb"])
        self.assertIsNone(section(report(folder)))


if __name__ == "__main__":
    unittest.main(verbosity=2)
