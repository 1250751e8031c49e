"""Listing a folder the way people number their files: ``frame_2`` before ``frame_10``. Shared by pose
JSON folders (CMU OpenPose writes a video as one file per frame), image sequences and folder walks."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Collection, List


def natural_key(name: str) -> list:
    """Sort key of file names in which digit runs compare as numbers (``frame_2`` before ``frame_10``)."""
    return [(0, int(run), "") if run.isdigit() else (1, 0, run) for run in re.split(r"(\d+)", name)]


def folder_files(folder: Path, suffixes: Collection[str]) -> List[Path]:
    """The files directly in ``folder`` whose lower-cased suffix is one of ``suffixes`` (hidden ones
    skipped), in natural name order."""
    files = [path for path in Path(folder).iterdir() if not path.name.startswith(".")
             and path.suffix.lower() in suffixes and path.is_file()]
    return sorted(files, key=lambda path: natural_key(path.name))
