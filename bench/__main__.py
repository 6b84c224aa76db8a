"""``python -m bench``: the ``tlbench`` command line (:mod:`bench.cli`)."""

import sys

from bench.cli import main

sys.exit(main(prog="python -m bench"))
