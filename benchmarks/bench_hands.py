"""Hands + face benchmark against controlnet-aux 0.0.10 in one run (issue: hands and face).

    python benchmarks/bench_hands.py            # 2 CPU threads, prints a Markdown table

Both detectors get the same oracle body network (1 or 4 people with arms and heads, so hand and face
boxes exist) and the same random-weight hand/face checkpoints (published layout), and draw the full
map (body + hands + face). For our detector the network time and executed convolution MACs are
recorded with forward hooks, giving the achieved GFLOP/s, compared with this machine's fp32 matmul rate.
"""
import sys
import tempfile
import time
import warnings

import numpy as np
import torch

from common import best_of

import checkpoints
import oracle
import reference_impl
from body_helpers import reference_body
from openpose_core import OpenposeDetector
from openpose_core.weights import load_network

warnings.filterwarnings("ignore")
ref = reference_impl.load()

ARMS_OUT = oracle.STANDING.copy()
ARMS_OUT[[3, 4, 6, 7]] = [(0.20, 0.30), (0.10, 0.35), (0.80, 0.30), (0.90, 0.35)]


def people(count):
    """``count`` people with arms out, side by side, in image fractions."""
    width = 0.9 / count
    return np.array([[0.05 + i * width, 0.1] + ARMS_OUT * [width, 0.8] for i in range(count)])


class NetworkMeter:
    """Forward hooks that add up wall time and convolution MACs of the modules they watch."""

    def __init__(self, *modules):
        self.seconds, self.macs = 0.0, 0
        for module in modules:
            module.register_forward_pre_hook(self._start)
            module.register_forward_hook(self._stop)
            for conv in (m for m in module.modules() if isinstance(m, torch.nn.Conv2d)):
                conv.register_forward_hook(self._count)

    def _start(self, module, inputs):
        self._began = time.perf_counter()

    def _stop(self, module, inputs, output):
        self.seconds += time.perf_counter() - self._began

    def _count(self, conv, inputs, output):
        self.macs += output.numel() * conv.in_channels * conv.kernel_size[0] * conv.kernel_size[1]

    def reset(self):
        self.seconds, self.macs = 0.0, 0


def matmul_gflops(size: int = 4096) -> float:
    a, b = torch.randn(size, size), torch.randn(size, size)
    seconds = best_of(lambda: torch.mm(a, b), repeat=5)
    return 2 * size**3 / seconds / 1e9


def main():
    print(f"torch threads: {torch.get_num_threads()}")
    peak = matmul_gflops()
    print(f"fp32 matmul rate (4096^2, torch.mm): {peak:.0f} GFLOP/s")
    counts = [int(c) for c in sys.argv[1:]] or [1, 4]
    image = (np.random.default_rng(0).random((512, 512, 3)) * 200 + 20).astype(np.uint8)
    with tempfile.TemporaryDirectory() as folder:
        checkpoints.write_published_folder(folder)
        hand_net, face_net = load_network("hand", folder), load_network("face", folder)
        theirs_model = ref.OpenposeDetector.from_pretrained(folder)
        meter = NetworkMeter(hand_net, face_net)
        print("| people | mode | time per call | vs controlnet-aux | network share | achieved GFLOP/s (% of matmul) |")
        print("|---|---|---|---|---|---|")
        for count in counts:
            body_net = oracle.OracleBodyNet(people(count))
            theirs_model.body_estimation = reference_body(body_net)
            reference_time = best_of(lambda: theirs_model(image, include_hand=True, include_face=True), repeat=1, warmup=0)
            print(f"| {count} | controlnet-aux 0.0.10 | {reference_time:.2f} s | 1.0x | | |")
            ours = OpenposeDetector(body_net, hand_net, face_net)
            for preset in ("reference", "fast_hands", "fast"):
                meter.reset()
                ours_time = best_of(lambda: ours(image, include_hand=True, include_face=True, preset=preset),
                                    repeat=1, warmup=0)
                rate = 2 * meter.macs / meter.seconds / 1e9
                print(f"| {count} | openpose-core `{preset}` | {ours_time:.2f} s | {reference_time / ours_time:.1f}x | "
                      f"{meter.seconds / ours_time:.0%} | {rate:.0f} ({rate / peak:.0%}) |")


if __name__ == "__main__":
    main()
