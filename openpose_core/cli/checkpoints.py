"""``openpose-core convert`` and ``download``: verified .safetensors checkpoints, and weights fetched for
offline use."""
from __future__ import annotations

from pathlib import Path
from typing import Optional, Tuple

import torch

from ..weights import WeightsError, convert_checkpoint, load_checkpoint, resolve_checkpoint
from .arguments import name_list
from .common import (
    KINDS, Fatal, add_weights_options, command, describe, keeps_existing, names_folder, output_file, print_error,
    print_note, writes_over_input,
)


def _verify_conversion(source: Path, converted: Path, kind: Optional[str]) -> Tuple[str, int]:
    """Read the conversion back, check it against the network's layout and compare every tensor with
    the original; returns (kind, tensor count)."""
    state, found = None, None
    for candidate in ([kind] if kind else KINDS):
        try:
            state, found = load_checkpoint(converted, candidate), candidate
            break
        except WeightsError:
            continue
    if state is None:
        raise WeightsError(f"{converted}: the conversion does not load as a body, hand or face checkpoint")
    original = torch.load(source, map_location="cpu", weights_only=True)
    if set(original) != set(state) or any(not torch.equal(original[key].to(torch.float32), state[key])
                                          for key in state):
        raise WeightsError(f"{converted}: verification failed: its tensors differ from {source}")
    return found, len(state)


def run_convert(args) -> int:
    if args.output and not names_folder(args.output) and len(args.checkpoints) > 1:
        raise Fatal("-o names one output file; give -o a folder (ending in /) for several checkpoints")
    failed = 0
    for name in args.checkpoints:
        source = Path(name)
        target = output_file(args.output, source.with_suffix(".safetensors"))
        if writes_over_input(target, [source]):
            print_error(f"{source}: the output would replace the checkpoint itself; give another -o")
            failed += 1
            continue
        if keeps_existing(target, args.overwrite):
            continue
        try:
            written = convert_checkpoint(source, target, args.kind)
            kind, count = _verify_conversion(source, written, args.kind)
        except ValueError as error:         # an output name without .safetensors
            raise Fatal(str(error)) from None
        except WeightsError as error:
            print_error(describe(error, source))
            failed += 1
            continue
        print(f"{source} -> {written} ({kind} checkpoint, {count} tensors, verified)", flush=True)
    return 1 if failed else 0


def run_download(args) -> int:
    failed = 0
    for kind in args.parts:
        try:
            path = resolve_checkpoint(kind, args.model, cache_dir=args.cache_dir, local_files_only=args.offline)
            load_checkpoint(path, kind)  # checks it, and writes the .safetensors copy later loads use
        except WeightsError as error:
            print_error(str(error))
            failed += 1
            continue
        converted = path.with_suffix(".safetensors")
        print(f"{kind}: {converted if converted.is_file() else path}", flush=True)
    if not failed:
        print_note(f"{len(args.parts)} checkpoint{'s' * (len(args.parts) != 1)} ready; later runs work offline "
                   "(--offline or HF_HUB_OFFLINE=1)")
    return 1 if failed else 0


def add_convert(commands) -> None:
    parser = command(
        commands, "convert", "convert .pth checkpoints to verified .safetensors",
        "Convert OpenPose .pth checkpoints (body, hand or face; loaded without running pickled code) to "
        ".safetensors, then read the result back and compare every tensor with the original.\n"
        "Default output: beside the checkpoint with the .safetensors extension, where loading looks for it.",
        run_convert)
    parser.add_argument("checkpoints", nargs="+", metavar="CHECKPOINT.pth")
    parser.add_argument("-o", "--output", metavar="OUT.safetensors",
                        help="output file (one checkpoint only), or a folder to write it in")
    parser.add_argument("--kind", choices=KINDS, help="expected network (default: recognised from the keys)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")


def add_download(commands) -> None:
    parser = command(
        commands, "download", "fetch the weights now, for offline use later",
        "Download the body, hand and face checkpoints into the Hugging Face cache (HF_HOME or --cache-dir), "
        "check them and store the .safetensors copies later loads use. Afterwards `openpose-core detect "
        "--offline` (or HF_HUB_OFFLINE=1) works without a network.", run_download)
    parser.add_argument("--parts", type=name_list(KINDS), default=list(KINDS), metavar="LIST",
                        help="which networks, from body,hand,face (default: all three)")
    add_weights_options(parser)
