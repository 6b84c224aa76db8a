"""What code and libraries made a result: the git revision and the library versions.

The libraries are imported only when their versions are read (a run has them loaded
already), so a module that needs only the revision (the regression check) does not
pay for importing torch.
"""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

import bench


def library_versions() -> dict:
    """Versions as the libraries report them.

    torch's includes its build, e.g. ``+cu130``, which package metadata leaves out.
    """
    import timm
    import torch
    import torchvision

    return {"python": platform.python_version(), "torch": torch.__version__,
            "torchvision": torchvision.__version__, "timm": timm.__version__,
            "tlbench": bench.__version__}


def git_revision() -> str | None:
    """The commit of the code that ran (with ``-dirty`` when it had local changes)."""
    root = Path(__file__).resolve().parent.parent
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty", "--abbrev=40"],
                             cwd=root, capture_output=True, text=True, timeout=10,
                             env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"})
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None
