"""Where the package's log lines go when a command line runs it.

Modules log through ``logging.getLogger(__name__)`` and configure nothing (a library
leaves that to its caller: a notebook or another program keeps its own handlers). A
command line calls :func:`configure_logging` once: ``bench.*`` messages at INFO and above
go to stderr, one timestamped line each, so a cell job's log (``results/*/logs/cells/*/*/*.log``)
reads as one line per evaluation.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
_PACKAGE = "bench"


class _CommandLineHandler(logging.StreamHandler):
    """The handler :func:`configure_logging` adds (its type tells it apart from others)."""


def configure_logging(level: int = logging.INFO, stream: TextIO | None = None) -> logging.Handler:
    """Send ``bench.*`` log records at ``level`` and above to ``stream`` (stderr by default).

    Calling it again replaces the handler it added before (no line is written twice).

    Returns:
        The handler added (a test removes it with ``logging.getLogger("bench").removeHandler``).
    """
    logger = logging.getLogger(_PACKAGE)
    for handler in [h for h in logger.handlers if isinstance(h, _CommandLineHandler)]:
        logger.removeHandler(handler)
    handler = _CommandLineHandler(sys.stderr if stream is None else stream)
    handler.setFormatter(logging.Formatter(FORMAT, DATE_FORMAT))
    logger.addHandler(handler)
    logger.setLevel(level)
    return handler
