"""The in-memory data set every strategy trains on.

Every data set, offline or real, is materialised once as decoded, resized ``uint8``
tensors, one per split. Holding a split as one tensor means no per-epoch decoding and
batches are plain slices; normalisation with the backbone's mean and std happens per
batch (:func:`normalize`), so one cached tensor serves every backbone.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import torch

UNLABELLED = -1

# The classes of the chest X-ray sets, real (chest-xray, pneumoniamnist) and synthetic (synxray).
XRAY_CLASSES = ("normal", "pneumonia")


class DatasetMissingError(FileNotFoundError):
    """A real data set is not where the config says; the message says what to fetch."""


@dataclass(frozen=True)
class ImageSplit:
    """One split of a data set.

    Attributes:
        images: ``uint8`` tensor of shape ``(N, 3, R, R)``, RGB, R = resolution in pixels.
        labels: ``int64`` tensor of shape ``(N,)``; ``UNLABELLED`` (-1) for unlabelled sets.
    """

    images: torch.Tensor
    labels: torch.Tensor

    def __post_init__(self):
        if self.images.dtype != torch.uint8 or self.images.ndim != 4 or self.images.shape[1] != 3:
            raise ValueError(f"images must be uint8 (N, 3, R, R), got {self.images.dtype} "
                             f"{tuple(self.images.shape)}")
        if self.labels.shape != (self.images.shape[0],):
            raise ValueError(f"labels must have shape ({self.images.shape[0]},), "
                             f"got {tuple(self.labels.shape)}")

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def subset(self, index: torch.Tensor) -> ImageSplit:
        return ImageSplit(self.images[index], self.labels[index])


@dataclass(frozen=True)
class ImageDataset:
    """A named data set with deterministic train / val / test splits.

    Attributes:
        name: registry name, e.g. ``"digits"``.
        classes: class names, index = label; empty for unlabelled sets.
        synthetic: True for generated stand-ins; every output that shows a result says so.
        train, val, test: the splits.
        info: free-form facts recorded with each run (e.g. skipped corrupt files).
    """

    name: str
    classes: tuple[str, ...]
    synthetic: bool
    train: ImageSplit
    val: ImageSplit
    test: ImageSplit
    info: dict = field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def resolution(self) -> int:
        return int(self.train.images.shape[-1])

    def with_shots(self, shots: int | None, seed: int) -> ImageDataset:
        """Keep exactly ``shots`` training examples per class, drawn by ``seed``.

        ``None`` keeps the whole training split. Val and test are untouched.

        Raises:
            ValueError: a class has fewer than ``shots`` training examples (the message
                names it).
        """
        if shots is None:
            return self
        index = shots_index(self.train.labels, shots, seed, self.classes)
        return replace(self, train=self.train.subset(index))


def shots_index(labels: torch.Tensor, shots: int, seed: int,
                classes: tuple[str, ...] = ()) -> torch.Tensor:
    """Indices of ``shots`` examples per class, drawn without replacement by ``seed``.

    Returns:
        A sorted ``int64`` tensor of length ``shots * num_classes``.

    Raises:
        ValueError: ``shots`` < 1, the labels are unlabelled, or a class has fewer than
            ``shots`` examples.
    """
    if shots < 1:
        raise ValueError(f"shots must be >= 1, got {shots}")
    generator = torch.Generator().manual_seed(seed)
    chosen = []
    for label in torch.unique(labels).tolist():
        if label == UNLABELLED:
            raise ValueError("shots needs a labelled training split")
        members = torch.nonzero(labels == label).flatten()
        if len(members) < shots:
            name = classes[label] if label < len(classes) else label
            raise ValueError(f"shots={shots} is more than class {name!r} has in the training "
                             f"split ({len(members)} examples)")
        chosen.append(members[torch.randperm(len(members), generator=generator)[:shots]])
    return torch.sort(torch.cat(chosen)).values


def normalize(images: torch.Tensor, mean: tuple[float, ...], std: tuple[float, ...]) -> torch.Tensor:
    """``uint8 (N, 3, R, R)`` -> ``float32`` normalised with per-channel mean and std (0–1 scale)."""
    m = torch.tensor(mean, dtype=torch.float32, device=images.device).view(1, -1, 1, 1)
    s = torch.tensor(std, dtype=torch.float32, device=images.device).view(1, -1, 1, 1)
    return (images.float().div_(255.0) - m) / s
