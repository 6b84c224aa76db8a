"""The evaluation protocol: which split of which data set plays which role in a run.

Labelled-target pairs train on the target's training split (``shots`` per class when
set), select the weights on the target's validation split (at most ``shots`` per class
when set: :func:`few_shot_validation`) and test on the target's test split; a
strategy that adapts between domains also sees the source's training images.
Pairs with ``target_labels: false`` follow the Office-31 protocol: train on source
labels, select on held-out *source*, test on the target, and adapt to the unlabelled
target's images — its training split (``protocol: held_out``, scored on a held-out
test split) or all of it (``protocol: standard``, DAN's and TLlib's, scored on every
target image); :data:`bench.roles.PROTOCOL_SPLITS`. The trainer (:mod:`bench.train`), the speed benchmark
(:mod:`bench.perf`) and the workflow's inputs (``run_inputs`` in
``workflows/rules/common.smk``, through :func:`bench.roles.role_datasets`) follow it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import torch

from bench.datasets import load_dataset
from bench.datasets.base import UNLABELLED, ImageDataset, shots_index
from bench.roles import LABELLED_TARGET_SPLITS, PROTOCOL_SPLITS, ROLE_DATASETS
from bench.settings import ConfigError, RunConfig
from bench.strategies import STRATEGIES


@dataclass(frozen=True)
class Role:
    """One split playing one role in a run (train, val, test, other domain).

    ``index`` selects a subset of the split (the ``shots`` draw); None keeps it whole.
    """

    dataset: ImageDataset
    split: str
    index: torch.Tensor | None = None

    @property
    def parts(self) -> list[str]:
        """The splits the role reads, in order: ``"train+test"`` -> train, test."""
        return self.split.split("+")

    @property
    def images(self) -> torch.Tensor:
        images = torch.cat([getattr(self.dataset, part).images for part in self.parts])
        return images if self.index is None else images[self.index]

    @property
    def labels(self) -> torch.Tensor:
        labels = torch.cat([getattr(self.dataset, part).labels for part in self.parts])
        return labels if self.index is None else labels[self.index]


# Data sets this process has loaded from a tensor cache, by everything load_dataset was
# given: the runs of a cell (bench.cell) share one pair, so it is read once per process,
# not once per run. Runs never write into a data set's tensors (they index, which
# copies), so sharing changes no run's result (tests/test_cell.py runs a seed alone and
# inside a cell and compares). Without a cache folder every load builds afresh, as the
# command line promises (`--cache-dir`'s help), so a changed folder is seen.
_LOADED: dict[str, ImageDataset] = {}


def load_once(name: str, resolution: int, cache_dir: str | None, **kwargs) -> ImageDataset:
    """``load_dataset(name, resolution, cache_dir=..., **kwargs)``; with a cache folder, once."""
    if cache_dir is None:
        return load_dataset(name, resolution, cache_dir=None, **kwargs)
    key = json.dumps([name, resolution, cache_dir, kwargs], sort_keys=True, default=str)
    if key not in _LOADED:
        _LOADED[key] = load_dataset(name, resolution, cache_dir=cache_dir, **kwargs)
    return _LOADED[key]


def load_pair(config: RunConfig) -> tuple[ImageDataset, ImageDataset | None]:
    """The pair's target and, when the run reads it, its source (each loaded once per process)."""
    data = config.data()
    target = load_once(config.target, config.resolution, config.cache_dir,
                       **data.load_kwargs(config.target))
    needs_source = not config.target_labels or STRATEGIES[config.strategy].uses_other_domain
    source = (load_once(config.source, config.resolution, config.cache_dir,
                        **data.load_kwargs(config.source))
              if needs_source else None)
    if not config.target_labels and source.classes != target.classes:
        raise ValueError(f"pair {config.pair!r}: source {config.source} and target "
                         f"{config.target} must share classes for target_labels: false")
    return target, source


def few_shot_validation(target: ImageDataset, shots: int, seed: int) -> torch.Tensor | None:
    """The validation subset a run with ``shots`` labels per class may select its weights on.

    At most ``shots`` per class, drawn by the run's seed: a user with k labelled examples
    per class would hold out no more than that for choosing the checkpoint (selecting a
    1-shot model on 50 labels per class would use 50x the budget it claims). None (the
    whole split) when no class has more than ``shots`` validation examples.
    """
    labels = target.val.labels
    counts = torch.bincount(labels[labels != UNLABELLED])
    if int(counts.max()) <= shots:
        return None
    # A class with fewer than `shots` validation examples caps every class at its count.
    return shots_index(labels, min(shots, int(counts[counts > 0].min())), seed, target.classes)


def select_roles(config: RunConfig, target: ImageDataset, source: ImageDataset | None,
                  uses_other: bool) -> dict[str, Role]:
    """Which split plays which role under the pair's protocol (:data:`ROLE_DATASETS`)."""
    sets = {"source": source, "target": target}
    splits = LABELLED_TARGET_SPLITS if config.target_labels else PROTOCOL_SPLITS[config.protocol]
    roles = {role: Role(sets[which], splits[role])
             for role, which in ROLE_DATASETS[config.target_labels].items()
             if uses_other or role != "other"}
    if config.target_labels and config.shots is not None:
        try:
            index = shots_index(target.train.labels, config.shots, config.seed, target.classes)
        except ValueError as error:
            raise ConfigError(f"`shots` = {config.shots} for pair {config.pair!r}: "
                              f"{error}") from error
        roles["train"] = Role(target, "train", index)
        roles["val"] = Role(target, "val", few_shot_validation(target, config.shots, config.seed))
    if (roles["train"].labels == UNLABELLED).any():
        raise ValueError(f"pair {config.pair!r}: the training split has no labels")
    return roles
