"""Peak memory of detection, measured in a fresh process (cheap enough for CI: an oracle body network).

The probe resets the kernel's resident-memory high-water mark (/proc/self/clear_refs) before each case
and reports how far it rose above the resident size before the call. Where the reset is not allowed
the high-water mark since start is used instead, which can only over-state the growth (the bounds stay
valid). The full comparison with the reference (real networks) is benchmarks/bench_memory.py; its
numbers are in benchmarks/RESULTS.md.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

REFERENCE_MAPS_MIB = 57 * 2048 * 2048 * 8 / 2**20
"""What the reference holds for 4096 x 4096 at detect_resolution 2048 in float64 full-resolution maps
alone (19 heatmaps + 38 PAFs): 1824 MiB, before its temporaries."""

BOUNDS_MIB = {
    # 4096 x 4096 RGB uint8 at detect_resolution 2048: the 12 MiB detect image, the net input, the
    # map operators and peak search (measured ~150 MiB on the CI machines)
    "detect_4096_at_2048": 400,
    # the same pixels as a ComfyUI-style float32 frame (192 MiB): a 48 MiB uint8 copy + block temporaries
    "float_4096_to_uint8": 120,
    # a 20000 x 20000 RGB uint8 input at detect_resolution 512: used in place, never copied
    "detect_20000_at_512": 120,
}

PROBE = r"""
import json, re, sys
import numpy as np, torch
torch.set_num_threads(2)
sys.path[:0] = [sys.argv[1], sys.argv[1] + "/tests"]
import oracle
from openpose_core import OpenposeDetector
from openpose_core.image import as_rgb_uint8

def status(field):
    return int(re.search(field + r":\s+(\d+)", open("/proc/self/status").read()).group(1)) / 1024

def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False

def measure(run):
    before = status("VmRSS")
    exact = reset_peak()
    result = run()
    return status("VmHWM") - before, exact, result

detector = OpenposeDetector(oracle.OracleBodyNet(oracle.grid_of_people(2, 2, 1)))
detector.detect(np.full((64, 64, 3), 40, np.uint8), detect_resolution=64)  # warm-up
report = {}

image = np.full((4096, 4096, 3), 40, np.uint8)
extra, exact, frame = measure(lambda: detector.detect(image, detect_resolution=2048))
report["detect_4096_at_2048"] = dict(mib=extra, exact=exact, people=len(frame.people), size=[frame.width, frame.height])

frame_float = image.astype(np.float32) / 255
del image
extra, exact, rgb = measure(lambda: as_rgb_uint8(frame_float))
report["float_4096_to_uint8"] = dict(mib=extra, exact=exact, equal=bool((rgb == 40).all()))
del frame_float, rgb

huge = np.zeros((20000, 20000, 3), np.uint8)  # untouched pages: only what detection allocates shows
extra, exact, frame = measure(lambda: detector.detect(huge, detect_resolution=512))
report["detect_20000_at_512"] = dict(mib=extra, exact=exact, people=len(frame.people), size=[frame.width, frame.height])
print(json.dumps(report))
"""


@pytest.fixture(scope="module")
def report():
    if not os.path.exists("/proc/self/status"):
        pytest.skip("needs Linux /proc to read resident memory")
    result = subprocess.run([sys.executable, "-c", PROBE, str(ROOT)], capture_output=True, text=True, timeout=120,
                            env=dict(os.environ, OMP_NUM_THREADS="2"))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_detect_4096_at_2048_stays_far_below_the_reference_maps(report):
    case = report["detect_4096_at_2048"]
    assert case["size"] == [2048, 2048] and case["people"] == 2
    assert case["mib"] < BOUNDS_MIB["detect_4096_at_2048"], case
    assert BOUNDS_MIB["detect_4096_at_2048"] < REFERENCE_MAPS_MIB / 4


def test_float_frames_are_converted_in_bounded_blocks(report):
    case = report["float_4096_to_uint8"]
    assert case["equal"]
    assert case["mib"] < BOUNDS_MIB["float_4096_to_uint8"], case  # a one-shot float64 conversion needs > 384 MiB


def test_a_huge_uint8_input_is_not_copied(report):
    case = report["detect_20000_at_512"]
    assert case["size"] == [512, 512] and case["people"] == 2
    assert case["mib"] < BOUNDS_MIB["detect_20000_at_512"], case  # a copy alone would be 1144 MiB
