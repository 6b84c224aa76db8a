"""What every builder shares: per-class splits, resizing, and the data set they make.

The builders (:mod:`~bench.datasets.synthetic`, :mod:`~bench.datasets.offline`,
:mod:`~bench.datasets.real`) import these from here, never from the package, which
imports the builders: so nothing in ``bench.datasets`` imports in a circle.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import torch
from torchvision.transforms.v2 import functional as TF

from bench.datasets.base import ImageDataset, ImageSplit

SplitSize = int | float | None


def stratified_split(labels: Sequence[int] | np.ndarray | torch.Tensor,
                     sizes: Sequence[SplitSize], seed: int,
                     classes: Sequence[str] = ()) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-class random train / val / test indices, drawn by ``seed``.

    Each class is permuted once; test takes the first examples, then val, then train,
    so asking for fewer training examples never changes which examples are tested.

    Args:
        labels: ``(N,)`` integer labels; an unlabelled set (all ``UNLABELLED``) is one class.
        sizes: ``(train, val, test)`` per class, each an ``int`` (exactly that many
            examples), a ``float`` in (0, 1] (that fraction of the class, rounded, at least
            1 while the class has examples left) or ``None`` (what the other two leave; at
            most one ``None``).
        seed: the split seed. Same seed -> same indices; the draw of one class does not
            depend on the other classes.
        classes: class names, only to name a class that is too small.

    Returns:
        Three sorted, disjoint ``int64`` index arrays (train, val, test).

    Raises:
        ValueError: a class has fewer examples than an ``int`` size asks (the message
            names it), or ``sizes`` is malformed.
    """
    labels = np.asarray(labels, dtype=np.int64)
    if len(sizes) != 3 or sum(size is None for size in sizes) > 1:
        raise ValueError(f"sizes must be (train, val, test) with at most one None, got {sizes}")
    chosen: list[list[np.ndarray]] = [[], [], []]
    for label in np.unique(labels).tolist():
        members = np.flatnonzero(labels == label)
        name = classes[label] if 0 <= label < len(classes) else label
        counts = _class_counts(sizes, len(members), name)
        for split, part in enumerate(_split_class(members, counts, seed, label)):
            chosen[split].append(part)
    train, val, test = (np.sort(np.concatenate(parts)).astype(np.int64) if parts
                        else np.zeros(0, np.int64) for parts in chosen)
    return train, val, test


def _split_class(members: np.ndarray, counts: Sequence[int], seed: int, label: int
                 ) -> list[np.ndarray]:
    """One class's (train, val, test) members: permuted once, then test, val, train taken."""
    # One generator per (seed, class): a class's draw is independent of the others.
    order = np.random.default_rng([seed, label + 1]).permutation(members)
    test_end = counts[2]
    val_end = test_end + counts[1]
    return [order[val_end:val_end + counts[0]], order[test_end:val_end], order[:test_end]]


def _class_counts(sizes: Sequence[SplitSize], n: int, name: object) -> list[int]:
    """(train, val, test) counts for one class of ``n`` examples; see :func:`stratified_split`."""
    counts: list[int | None] = [None, None, None]
    left = n
    for split in (2, 1, 0):  # test first, as drawn
        size = sizes[split]
        if size is None:
            continue
        if isinstance(size, bool) or not isinstance(size, int | float) or size < 0:
            raise ValueError(f"a split size must be an int >= 0, a fraction in (0, 1] or None, "
                             f"got {size!r}")
        if isinstance(size, float):
            if not 0 < size <= 1:
                raise ValueError(f"a split fraction must be in (0, 1], got {size}")
            count = min(left, max(1, round(size * n)))
        elif size > left:
            asked = sum(s for s in sizes if isinstance(s, int) and not isinstance(s, bool))
            raise ValueError(f"class {name!r} has {n} examples, fewer than the {asked} asked "
                             f"for by split sizes {tuple(sizes)}")
        else:
            count = size
        counts[split] = count
        left -= count
    return [left if count is None else count for count in counts]


def grouped_holdout(labels: Sequence[int] | np.ndarray, groups: Sequence[str] | np.ndarray,
                    fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Hold out ``fraction`` of each class's groups (e.g. patients), whole groups only.

    A group goes wholly to one side, so no group has members in both parts. Each group
    counts for the class most of its members have (ties: the lowest label); in each
    class, ``round(fraction * groups)`` of its groups (at least 1, never all, none when
    the class has a single group) are drawn by scikit-learn's ``GroupShuffleSplit``.

    Args:
        labels: ``(N,)`` integer labels.
        groups: ``(N,)`` group names; members of a group share one name.
        fraction: share of each class's groups held out, in (0, 1).
        seed: the split seed. Same seed -> same indices, whatever the order of the
            examples; each class draws from its own generator.

    Returns:
        Two sorted, disjoint ``int64`` index arrays: kept, held out.

    Raises:
        ValueError: ``fraction`` is not in (0, 1), or labels and groups differ in length.
    """
    from sklearn.model_selection import GroupShuffleSplit
    if isinstance(fraction, bool) or not isinstance(fraction, int | float) or not 0 < fraction < 1:
        raise ValueError(f"the held-out fraction must be in (0, 1), got {fraction!r}")
    classes, group_of, group_class = _group_classes(labels, groups)
    out = np.zeros(len(group_of), dtype=bool)
    for stratum, label in enumerate(classes.tolist()):
        members = np.flatnonzero(group_class[group_of] == stratum)
        n_groups = int(np.sum(group_class == stratum))
        n_held = min(n_groups - 1, max(1, round(fraction * n_groups)))
        if n_held < 1:
            continue
        state = int(np.random.SeedSequence([seed, label + 1]).generate_state(1)[0])
        splitter = GroupShuffleSplit(n_splits=1, test_size=n_held, random_state=state)
        _, part = next(splitter.split(members, groups=group_of[members]))
        out[members[part]] = True
    return np.flatnonzero(~out).astype(np.int64), np.flatnonzero(out).astype(np.int64)


def _group_classes(labels: Sequence[int] | np.ndarray, groups: Sequence[str] | np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The labels present, each example's group index, and each group's majority class index."""
    classes, label_of = np.unique(np.asarray(labels, dtype=np.int64), return_inverse=True)
    names, group_of = np.unique(np.asarray(groups, dtype=str), return_inverse=True)
    if len(label_of) != len(group_of):
        raise ValueError(f"{len(label_of)} labels but {len(group_of)} group names")
    counts = np.zeros((len(names), len(classes)), dtype=np.int64)
    np.add.at(counts, (group_of, label_of), 1)
    return classes, group_of, counts.argmax(axis=1)


def class_coverage(classes: Sequence[str], train: torch.Tensor, val: torch.Tensor,
                   test: torch.Tensor) -> dict[str, list[str]]:
    """Classes a split lacks, by name: ``{"train": [...], "test": [...]}``.

    ``train`` lists classes with no training example; ``val`` / ``test`` list classes
    that are trained but never validated / tested. Empty when nothing is missing; a
    split asked to be empty (size 0) and unlabelled sets are not reported.
    """
    if not classes:
        return {}
    present = {split: set(torch.unique(labels).tolist())
               for split, labels in (("train", train), ("val", val), ("test", test))}
    expected = {"train": set(range(len(classes))), "val": present["train"],
                "test": present["train"]}
    sizes = {"train": len(train), "val": len(val), "test": len(test)}
    return {split: [classes[label] for label in sorted(expected[split] - present[split])]
            for split in ("train", "val", "test")
            if sizes[split] and expected[split] - present[split]}


def resize_images(images: np.ndarray | torch.Tensor, resolution: int) -> torch.Tensor:
    """Square images of one size -> ``uint8 (N, 3, R, R)`` at ``resolution``.

    Accepts ``uint8`` ``(N, H, W)`` (grayscale, replicated to RGB), ``(N, H, W, 3)`` or
    ``(N, 3, H, W)`` with ``H == W``; resizes with bilinear antialiasing (a no-op at the
    same size). Deterministic on one machine.
    """
    images = torch.as_tensor(images)
    if images.dtype != torch.uint8:
        raise ValueError(f"images must be uint8, got {images.dtype}")
    if images.ndim == 3:
        images = images.unsqueeze(1).expand(-1, 3, -1, -1)
    elif images.ndim == 4 and images.shape[-1] == 3 and images.shape[1] != 3:
        images = images.permute(0, 3, 1, 2)
    if images.ndim != 4 or images.shape[1] != 3 or images.shape[2] != images.shape[3]:
        raise ValueError(f"expected square images (N, H, W[, 3]), got {tuple(images.shape)}")
    if images.shape[-1] != resolution:
        images = TF.resize(images.contiguous(), [resolution, resolution], antialias=True)
    return images.contiguous()


def split_dataset(name: str, classes: Sequence[str], synthetic: bool, images: torch.Tensor,
                  labels: Sequence[int] | np.ndarray | torch.Tensor,
                  sizes: Sequence[SplitSize], split_seed: int,
                  info: dict | None = None) -> ImageDataset:
    """A data set without official splits, split per class by :func:`stratified_split`.

    Args:
        name: the data set's registry name.
        classes: class names, in label order.
        synthetic: whether the set is a generated stand-in.
        images: ``uint8 (N, 3, R, R)``.
        labels: ``(N,)`` integer labels.
        sizes: (train, val, test) per class: an int count, a fraction, or None for the rest.
        split_seed: fixes which images go to train, val and test.
        info: provenance to keep with the set (``ImageDataset.info``).
    """
    labels = torch.as_tensor(np.asarray(labels, dtype=np.int64))
    index = stratified_split(labels.numpy(), sizes, split_seed, classes)
    splits = [ImageSplit(images[torch.from_numpy(i)], labels[torch.from_numpy(i)])
              for i in index]
    return official_splits(name, classes, synthetic, *splits, info=info)


def official_splits(name: str, classes: Sequence[str], synthetic: bool, train: ImageSplit,
                    val: ImageSplit, test: ImageSplit, info: dict | None = None) -> ImageDataset:
    """An :class:`ImageDataset` from ready splits, checked for missing classes.

    The classes :func:`class_coverage` finds missing are recorded in
    ``info["classes_missing"]`` and warned about.
    """
    info = dict(info or {})
    missing = class_coverage(classes, train.labels, val.labels, test.labels)
    if missing:
        info["classes_missing"] = missing
        summary = "; ".join(f"{split}: {', '.join(names[:8])}"
                            f"{f' and {len(names) - 8} more' if len(names) > 8 else ''}"
                            for split, names in missing.items())
        warnings.warn(f"{name}: classes missing from splits ({summary})", stacklevel=2)
    return ImageDataset(name, tuple(classes), synthetic, train, val, test, info=info)
