"""The ``openpose-core`` command: detect poses in images and videos, render, edit and convert pose files,
and prepare weights for offline use. ``openpose-core SUBCOMMAND --help`` documents each subcommand.

Conventions shared by every subcommand:

- A user mistake (a missing file, an unreadable image, a malformed pose file, unusable weights) is one
  line on stderr, ``openpose-core: error: <what>: <problem>``, never a traceback; the other inputs are
  still processed and the exit status is 1. A bad command line exits with 2, an interruption with 130.
- Outputs are written under a temporary name and renamed (:func:`openpose_core.media.write_atomically`),
  so an interrupted run leaves complete files or none; a rerun skips work whose outputs exist unless
  ``--overwrite``.
"""
from .main import main

__all__ = ["main"]
