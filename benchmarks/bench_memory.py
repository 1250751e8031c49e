"""Peak memory of one detector call against controlnet-aux 0.0.10, each case in a fresh process.

    python benchmarks/bench_memory.py          # prints a Markdown table (takes ~1 minute, needs ~3 GB)

Both detectors load the same random checkpoints in the published layout (tests/checkpoints.py), so
both run the real network architectures. "Extra" memory is how far the resident set rises above what
the process held before the call (image, weights and warm-up already in place): the kernel's
high-water mark is reset just before the call (see ``common.peak_memory_mb``).

Cases: the issue's 4096 x 4096 input at detect_resolution 2048 (the default call: body only, map drawn
at image_resolution 2048); the same pixels as a ComfyUI float32 frame (ours only: the reference takes
uint8); and a 20000 x 20000 input at detect_resolution 512 (calloc'd zeros, so only what the call
itself allocates shows).
"""
import sys
import tempfile

from common import peak_memory_mb

import checkpoints

SETUP = """
import warnings; warnings.filterwarnings("ignore")
import numpy as np, torch
torch.set_num_threads(2)
FOLDER = {folder!r}
def setup():
    global detector, image
    {load}
    detector(np.zeros((64, 64, 3), np.uint8), detect_resolution=64, image_resolution=64)
    {image}
def run():
    detector(image, detect_resolution={resolution}, image_resolution={resolution})
"""

LOAD = {
    "controlnet-aux 0.0.10": "import reference_impl; detector = reference_impl.load().OpenposeDetector.from_pretrained(FOLDER)",
    "openpose-core": "from openpose_core import OpenposeDetector; detector = OpenposeDetector.from_pretrained(FOLDER)",
}

IMAGES = {
    "4096 x 4096 uint8 RGB": "image = (np.random.default_rng(0).random((4096, 4096, 3)) * 255).astype(np.uint8)",
    "4096 x 4096 float32 RGB (ComfyUI frame)":
        "image = (np.random.default_rng(0).random((4096, 4096, 3)) * 255).astype(np.uint8).astype(np.float32) / 255",
    "20000 x 20000 uint8 RGB (zeros)": "image = np.zeros((20000, 20000, 3), np.uint8)",
}

CASES = [  # (image, detect resolution, detectors)
    ("4096 x 4096 uint8 RGB", 2048, list(LOAD)),
    ("4096 x 4096 float32 RGB (ComfyUI frame)", 2048, ["openpose-core"]),
    ("20000 x 20000 uint8 RGB (zeros)", 512, list(LOAD)),
]


def main():
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        checkpoints.write_published_folder(folder)
        for image, resolution, names in CASES:
            for name in names:
                code = SETUP.format(folder=folder, load=LOAD[name], image=IMAGES[image], resolution=resolution)
                extra = peak_memory_mb(code)
                rows.append((image, resolution, name, extra))
                print(f"  {name}, {image} at {resolution}: {extra:.0f} MiB", file=sys.stderr)
    print("| input | detect_resolution | detector | peak extra memory |")
    print("|---|---|---|---|")
    for image, resolution, name, extra in rows:
        print(f"| {image} | {resolution} | {name} | {extra:.0f} MiB |")


if __name__ == "__main__":
    main()
