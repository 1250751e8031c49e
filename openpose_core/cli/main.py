"""The parser of every subcommand and the entry point, which turns interruptions and fatal errors into
exit statuses."""
from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from typing import Optional, Sequence

from .. import __version__
from ..formats import PoseFormatError
from ..weights import WeightsError
from .checkpoints import add_convert, add_download
from .common import PROG, Fatal, describe, print_error
from .detect import add_detect
from .edit import add_edit
from .read_map import add_read_map
from .render import add_render


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Fast OpenPose (body, hands, face) for ControlNet: detect, render, edit and "
                               "convert poses.",
        epilog=f"'{PROG} COMMAND --help' describes a command. Example: {PROG} detect photos/ -o out/")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    add_detect(commands)
    add_render(commands)
    add_edit(commands)
    add_read_map(commands)
    add_convert(commands)
    add_download(commands)
    return parser


@contextlib.contextmanager
def _termination_interrupts():
    """Let SIGTERM unwind like Ctrl-C, so temporary files are removed on the way out."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; returns the exit status (the console script exits with it)."""
    # FFmpeg's own lines for a broken video ("moov atom not found") would crowd our one-line errors
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help(sys.stderr)
        return 2
    with _termination_interrupts():
        try:
            return args.run(args)
        except KeyboardInterrupt:
            print_error("interrupted; finished outputs are kept (run the same command again to continue)")
            return 130
        except (Fatal, WeightsError, PoseFormatError) as error:
            print_error(str(error))
            return 1
        except OSError as error:  # an output that cannot be written (permissions, a full disk, ...)
            print_error(describe(error))
            return 1
