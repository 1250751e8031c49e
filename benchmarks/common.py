"""Shared benchmark plumbing: timing, the reference oracle, generated checkpoints, memory probes."""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import torch  # noqa: E402

torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))


def best_of(function, repeat: int = 5, warmup: int = 1) -> float:
    """Median wall time in seconds of ``function()`` over ``repeat`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_memory_mb(code: str) -> float:
    """Extra peak resident memory (MiB) of the statement ``run()`` defined by ``code`` in a fresh process.

    ``code`` must define ``setup()`` (loading, warm-up: not counted) and ``run()``.
    """
    probe = code + """
import re
def _rss(field):
    return int(re.search(field + r":\\s+(\\d+)", open("/proc/self/status").read()).group(1)) / 1024
setup()
before = _rss("VmRSS")
with open("/proc/self/clear_refs", "w") as handle:  # reset the high-water mark
    handle.write("5")
run()
print(_rss("VmHWM") - before)
"""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "tests")]))
    output = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True)
    return float(output.stdout.strip().splitlines()[-1])
