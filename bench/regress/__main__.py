"""``python -m bench.regress CURRENT BASELINE [options]``: the same as ``python -m bench compare``."""

import sys

from bench.regress._cli import main

sys.exit(main(prog="python -m bench.regress"))
