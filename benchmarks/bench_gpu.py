"""GPU parity and throughput against controlnet-aux 0.0.10 in one run (run it where a CUDA GPU is lent).

    BENCH_THREADS=16 python benchmarks/bench_gpu.py [frames]      # prints Markdown tables

1. Parity: the body, hand and face networks (random weights in the published layout) on the GPU in the
   library's fp32 mode, against the CPU in fp32 (the contract: max abs difference <= 1e-4), beside the
   same networks under PyTorch's default TF32 convolutions; and a frame alone against 8 copies of it in
   one batch.
2. Throughput: a video of ``frames`` 512x512 frames, full maps (body + hands + face) drawn. The people
   (1 or 4 per frame, arms out) come from an oracle body network that first runs the real body network
   on the batch, so its GPU cost is paid, yet hand and face crops are those of real people. Both
   detectors run on the GPU with the same networks.
"""
import os
import sys
import tempfile
import warnings

import numpy as np
import torch

from common import best_of

import checkpoints
import oracle
import reference_impl
from bench_hands import people
from body_helpers import reference_body
from openpose_core import OpenposeDetector
from openpose_core.estimate.precision import network_mode
from openpose_core.render import render_pose
from openpose_core.weights import load_network

warnings.filterwarnings("ignore")
ref = reference_impl.load()
DEVICE = torch.device(os.environ.get("BENCH_DEVICE", "cuda"))    # "cpu": a dry run of the script


def outputs(network: torch.nn.Module, batch: torch.Tensor, exact: bool) -> list:
    """The network's output maps as float64 CPU tensors, in the library's mode or only under inference."""
    mode = network_mode(batch.device.type, None) if exact else torch.inference_mode()
    with mode:
        result = network(batch)
    maps = result if isinstance(result, (list, tuple)) else [result]
    return [item.double().cpu() for item in maps]


def largest_difference(first: list, second: list) -> float:
    return max(float((a - b).abs().max()) for a, b in zip(first, second))


def parity_rows(folder: str) -> list:
    rows = []
    for kind in ("body", "hand", "face"):
        network = load_network(kind, folder)
        batch = torch.rand(2, 3, 368, 368, generator=torch.Generator().manual_seed(0)) - 0.5
        on_cpu = outputs(network, batch, exact=True)
        network.to(DEVICE)
        exact = outputs(network, batch.to(DEVICE), exact=True)
        default = outputs(network, batch.to(DEVICE), exact=False)
        alone = outputs(network, batch[:1].to(DEVICE), exact=True)
        copies = outputs(network, batch[:1].repeat(8, 1, 1, 1).to(DEVICE), exact=True)
        in_batch = max(largest_difference(alone, [maps[index:index + 1] for maps in copies]) for index in range(8))
        rows.append((kind, largest_difference(on_cpu, exact), largest_difference(on_cpu, default), in_batch))
    return rows


class CostlyOracle(torch.nn.Module):
    """Exact maps of known people, after running the real body network on the batch (its GPU time)."""

    def __init__(self, network: torch.nn.Module, skeletons):
        super().__init__()
        self.network, self.oracle = network, oracle.OracleBodyNet(skeletons)

    def forward(self, batch):
        self.network(batch)
        return self.oracle(batch)


def throughput_rows(folder: str, frames: int) -> list:
    image = (np.random.default_rng(0).random((512, 512, 3)) * 200 + 20).astype(np.uint8)
    video = [image] * frames
    body_net, hand_net, face_net = (load_network(kind, folder).to(DEVICE) for kind in ("body", "hand", "face"))
    theirs = ref.OpenposeDetector.from_pretrained(folder).to(DEVICE)
    rows = []
    for count in (1, 4):
        network = CostlyOracle(body_net, people(count)).to(DEVICE)
        theirs.body_estimation = reference_body(network)
        reference = best_of(lambda: [theirs(frame, include_hand=True, include_face=True) for frame in video],
                            repeat=1, warmup=1)
        rows.append((count, "controlnet-aux 0.0.10, frame by frame", reference, reference))
        ours = OpenposeDetector(network, hand_net, face_net)
        for preset in ("reference", "fast"):
            def run():
                for pose in ours.detect_batch(video, include_hand=True, include_face=True, preset=preset):
                    render_pose(pose)
            rows.append((count, f"openpose-core `{preset}`, detect_batch", best_of(run, repeat=3), reference))
    return rows


def main():
    frames = int(sys.argv[1]) if len(sys.argv) > 1 else 16
    name = torch.cuda.get_device_name(DEVICE) if DEVICE.type == "cuda" else "CPU"
    print(f"{name}, torch {torch.__version__}, {torch.get_num_threads()} CPU threads\n")
    with tempfile.TemporaryDirectory() as folder:
        checkpoints.write_published_folder(folder)
        print("| network | GPU fp32 (library) vs CPU | GPU default TF32 vs CPU | alone vs in a batch of 8 (GPU) |")
        print("|---|---|---|---|")
        for kind, exact, default, in_batch in parity_rows(folder):
            print(f"| {kind} | {exact:.1e} | {default:.1e} | {in_batch:.1e} |")
        print(f"\n| people per frame | detector | {frames} frames | per frame | vs controlnet-aux |")
        print("|---|---|---|---|---|")
        for count, name, seconds, reference in throughput_rows(folder, frames):
            print(f"| {count} | {name} | {seconds:.2f} s | {1000 * seconds / frames:.0f} ms | "
                  f"{reference / seconds:.1f}x |")


if __name__ == "__main__":
    main()
