"""The sweep config's check, once per config and code: what the Snakefile's parse needs.

Every `snakemake` command parses the Snakefile, and the parse checks the whole config
(:func:`bench.config.check_sweep`: timm's model names, each backbone built and cut into
stages, the data sets) and asks which data sets a pair cell may build itself (the
offline ones). Both need torch, timm and the data-set registry, about 4.5 s of imports
for a check of 0.3 s (docs/PERFORMANCE.md). Their result depends only on the config and
the code, so a config that passed is remembered, with those facts, in
``<results_dir>/cache/checked/<code fingerprint>/<config hash>.json``; a later command on
the same config and code (a dry run, a restart, `--report`, each cluster job's parse)
reads the file and imports none of it. A config that fails is never remembered; a config
that defines its own data sets (``data.sets``) is checked every time, since its check
reads their files. This module itself imports no torch.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from bench.io import write_atomic
from bench.provenance import code_fingerprint
from bench.settings import data_settings


def checked_sweep(config: dict, check: bool = True) -> dict:
    """Check ``config`` (or find it checked before); return what the parse needs.

    Args:
        config: the sweep's config, as the Snakefile has it.
        check: False (a cluster job's own parse: the main process checked before
            submitting it) reads a kept check's facts, or else works them out without
            checking and keeps nothing.

    Returns:
        ``{"offline_datasets": [...]}``: the config's data sets that a pair cell builds
        itself (generated, or bundled with a package), sorted.

    Raises:
        ConfigError: naming the first bad key (bench.config.check_sweep).
    """
    folder = Path(config["results_dir"]) / "cache" / "checked"
    fingerprint = code_fingerprint(build=False)
    config_hash = hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode())
    memo = folder / fingerprint / f"{config_hash.hexdigest()[:16]}.json"
    try:
        return json.loads(memo.read_text())
    except (OSError, ValueError):  # not checked yet (or pruned by other code as we read)
        pass
    if not check:
        return _facts(config)
    facts = _check(config)
    if not data_settings(config).sets:
        try:
            _forget_other_code(folder, fingerprint)
            write_atomic(memo, json.dumps(facts, indent=1) + "\n")
        except OSError:  # a results folder we may not write: the next command checks again
            pass
    return facts


def _check(config: dict) -> dict:
    from bench.config import check_sweep  # torch and timm: only when not checked before

    check_sweep(config)
    return _facts(config)


def _facts(config: dict) -> dict:
    from bench.datasets import DATASETS  # torch: only when not checked before

    names = {config["pairs"][pair][role] for pair in config["pairs"] for role in ("source", "target")}
    return {"offline_datasets": sorted(name for name in names
                                       if name in DATASETS and DATASETS[name].offline)}


def _forget_other_code(folder: Path, fingerprint: str) -> None:
    """Drop what other code checked: the folder holds one version of the code's checks."""
    if folder.is_dir():
        for other in folder.iterdir():
            if other.name != fingerprint:
                shutil.rmtree(other, ignore_errors=True)
