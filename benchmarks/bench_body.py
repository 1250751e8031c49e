"""Body benchmark against controlnet-aux 0.0.10 in one run (issue: the PAF estimation core).

    python benchmarks/bench_body.py            # 2 CPU threads, prints a Markdown table

1. Post-processing only: an oracle network whose maps are computed once (so the network costs ~0),
   512x512, 1/3/9/20 people: the reference's Body.__call__ vs our estimate_bodies.
2. Whole call: both detectors with the same random-weight checkpoint (published layout), default
   arguments, 512x512 at detect_resolution 512 and 1024x768 at 1024.
3. Peak extra memory of one 2048x2048 call at detect_resolution 2048, each in a fresh process.
"""
import sys
import tempfile
import warnings

import numpy as np
import torch

from common import best_of, peak_memory_mb

import checkpoints
import oracle
import reference_impl
from body_helpers import reference_body
from openpose_core import OpenposeDetector
from openpose_core.estimate.body import estimate_bodies, torch_runner

warnings.filterwarnings("ignore")
ref = reference_impl.load()


class CachedMaps(torch.nn.Module):
    """Returns maps computed once: isolates post-processing from network time."""

    def __init__(self, network, example):
        super().__init__()
        self.anchor = torch.nn.Parameter(torch.zeros(1))
        with torch.no_grad():
            self.maps = network(example)

    def forward(self, batch):
        return self.maps


def postprocessing_rows():
    rows = []
    for count, columns, grid_rows in [(1, 1, 1), (3, 3, 1), (9, 3, 3), (20, 5, 4)]:
        image = np.full((512, 512, 3), 40, np.uint8)
        skeletons = oracle.grid_of_people(count, columns, grid_rows)
        from openpose_core.estimate.body import prepare_input
        example = torch.from_numpy(prepare_input(image, 0.5).array[None])
        network = CachedMaps(oracle.OracleBodyNet(skeletons), example)
        reference = reference_body(network)
        theirs = best_of(lambda: reference(image), repeat=3)
        runner = torch_runner(network)
        ours = best_of(lambda: estimate_bodies([image], runner), repeat=20)
        rows.append((f"post-processing, {count} people, 512x512", theirs, ours))
    return rows


def whole_call_rows(folder):
    reference = ref.OpenposeDetector.from_pretrained(folder)
    ours = OpenposeDetector.from_pretrained(folder)
    rows = []
    for (height, width), resolution in [((512, 512), 512), ((768, 1024), 1024)]:
        image = (np.random.default_rng(0).random((height, width, 3)) * 255).astype(np.uint8)
        theirs = best_of(lambda: reference(image, detect_resolution=resolution, image_resolution=resolution), repeat=3)
        mine = best_of(lambda: ours(image, detect_resolution=resolution, image_resolution=resolution), repeat=3)
        rows.append((f"whole body call, {width}x{height} at detect {resolution}", theirs, mine))
    return rows


MEMORY_SETUP = """
import warnings; warnings.filterwarnings("ignore")
import numpy as np, torch
torch.set_num_threads(2)
FOLDER = {folder!r}
image = (np.random.default_rng(0).random((2048, 2048, 3)) * 255).astype(np.uint8)
def setup():
    global detector
    {load}
    detector(np.zeros((64, 64, 3), np.uint8), detect_resolution=64, image_resolution=64)
def run():
    detector(image, detect_resolution=2048, image_resolution=2048)
"""


def memory_row(folder):
    theirs = peak_memory_mb(MEMORY_SETUP.format(folder=folder, load=(
        "import reference_impl; detector = reference_impl.load().OpenposeDetector.from_pretrained(FOLDER)")))
    mine = peak_memory_mb(MEMORY_SETUP.format(folder=folder, load=(
        "from openpose_core import OpenposeDetector; detector = OpenposeDetector.from_pretrained(FOLDER)")))
    return theirs, mine


def main():
    print(f"torch threads: {torch.get_num_threads()}")
    with tempfile.TemporaryDirectory() as folder:
        checkpoints.write_published_folder(folder)
        rows = postprocessing_rows() + (whole_call_rows(folder) if "--post-only" not in sys.argv else [])
        print("| case | controlnet-aux 0.0.10 | openpose-core | speed-up |")
        print("|---|---|---|---|")
        for name, theirs, ours in rows:
            print(f"| {name} | {theirs * 1000:.1f} ms | {ours * 1000:.1f} ms | {theirs / ours:.1f}x |")
        if "--post-only" in sys.argv:
            return
        theirs, mine = memory_row(folder)
        print(f"| peak extra memory, 2048x2048 at detect 2048 | {theirs:.0f} MiB | {mine:.0f} MiB | {theirs / mine:.1f}x less |")


if __name__ == "__main__":
    main()
