"""``python -m openpose_core.cli``: what the ``openpose-core`` console script runs."""
import sys

from .main import main

sys.exit(main())
