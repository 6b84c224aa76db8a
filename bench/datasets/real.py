"""Loaders for the real data sets of the paper, read from files under ``data.root``.

None of them is fetched by the default configuration or the tests. Each ``check_*``
raises :class:`DatasetMissingError` naming the files expected, where to download them
and the config key (``data.root``) that points at them; ``build_*`` decodes every image
once with :mod:`~bench.datasets.decode` (RGB, shorter side resized with antialiasing,
centre-cropped square). ``sizes_*`` counts split sizes without decoding.

Bad data: an unreadable or truncated image is skipped and listed in
``info["skipped_files"]``; a class whose files are all unreadable fails naming the
folder and a file; an empty class folder fails naming it; a class with training
examples but none in val or test is listed in ``info["classes_missing"]``.

- ``flowers102``: ``<root>/flowers-102/{jpg/image_NNNNN.jpg, imagelabels.mat, setid.mat}``
  (torchvision's layout), official train / val / test (1,020 / 1,020 / 6,149).
  Option ``download=True`` fetches it with ``torchvision.datasets.Flowers102``.
- ``office31-{amazon,webcam,dslr}``: ``<root>/office31/<domain>/images/<class>/*.jpg``
  (the published archive's layout); per-class splits drawn by ``split_seed``, default
  test 30% / val 10% / train the rest.
- ``chest-xray``: Kermany's ``<root>/chest_xray/{train,val,test}/{NORMAL,PNEUMONIA}/*.jpeg``;
  test is the official ``test`` folder; ``val`` (16 images in Kaggle's copy, absent
  from Mendeley's) joins ``train`` in one pool, from which option ``val_fraction``
  (default 10%) of each class's patients is held out as val by ``split_seed``, so no
  patient is in both train and val. ``info["val_protocol"]`` records it.
- ``pneumoniamnist``: MedMNIST's ``<root>/pneumoniamnist.npz`` (``pneumoniamnist_{size}.npz``
  for the larger MedMNIST+ sizes), official splits, read with numpy; option
  ``download=True`` fetches it with the ``medmnist`` package (the ``[medmnist]`` extra).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from bench.datasets.base import XRAY_CLASSES, DatasetMissingError, ImageDataset, ImageSplit
from bench.datasets.decode import class_folder_files, read_splits, skipped_info
from bench.datasets.registry import register
from bench.datasets.splits import (
    SplitSize,
    grouped_holdout,
    official_splits,
    resize_images,
    stratified_split,
)

OFFICE_PER_CLASS: tuple[SplitSize, SplitSize, SplitSize] = (None, 0.1, 0.3)
_ROOT_KEY = "config key data.root"

FLOWERS_URL = "https://www.robots.ox.ac.uk/~vgg/data/flowers/102/"
OFFICE_URL = ("https://faculty.cc.gatech.edu/~judy/domainadapt/ (domain_adaptation_images"
              ".tar.gz, also https://drive.google.com/open?id=0B4IapRTv9pJ1WGZVd1VDMmhwdlE)")
CHEST_URL = ("https://data.mendeley.com/datasets/rscbjbr9sj/2 (ChestXRay2017.zip; also "
             "https://www.kaggle.com/datasets/paultimothymooney/chest-xray-pneumonia)")
MEDMNIST_URL = "https://zenodo.org/records/10519652"


def _missing(name: str, root: Path, missing: Path, layout: str, source: str) -> DatasetMissingError:
    return DatasetMissingError(
        f"data set {name!r} not found: {missing} does not exist. Expected under "
        f"{root} ({_ROOT_KEY}): {layout}. Download: {source}")


# ---------------------------------------------------------------------------------------
# flowers102
# ---------------------------------------------------------------------------------------

_FLOWERS_LAYOUT = ("flowers-102/jpg/image_00001.jpg ... image_08189.jpg, "
                   "flowers-102/imagelabels.mat, flowers-102/setid.mat")
_FLOWERS_SPLITS = {"train": "trnid", "val": "valid", "test": "tstid"}


def check_flowers102(root: Path) -> None:
    """Raise :class:`DatasetMissingError` unless the images and both .mat files are there."""
    base = Path(root) / "flowers-102"
    for path in (base / "jpg", base / "imagelabels.mat", base / "setid.mat"):
        if not path.exists():
            raise _missing("flowers102", Path(root), path, _FLOWERS_LAYOUT,
                           f"{FLOWERS_URL} (102flowers.tgz, imagelabels.mat, setid.mat), or "
                           f"load it once with option download=True")


def _flowers_index(root: Path) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """1-based labels of every image and the image ids of each official split."""
    from scipy.io import loadmat
    base = Path(root) / "flowers-102"
    labels = np.atleast_1d(loadmat(base / "imagelabels.mat", squeeze_me=True)["labels"])
    setid = loadmat(base / "setid.mat", squeeze_me=True)
    return labels.astype(np.int64), {split: np.atleast_1d(setid[key]).astype(np.int64)
                                     for split, key in _FLOWERS_SPLITS.items()}


def _flowers_classes() -> tuple[str, ...]:
    from torchvision.datasets import Flowers102
    return tuple(Flowers102.classes)


def sizes_flowers102(*, root: Path, split_seed: int, download: bool = False
                     ) -> tuple[int, int, int]:
    """(train, val, test) sizes of the official splits, from ``setid.mat``."""
    _, ids = _flowers_index(root)
    return tuple(len(ids[split]) for split in ("train", "val", "test"))


@register("flowers102", "Oxford 102 Flowers, official splits", num_classes=102,
          sizes=sizes_flowers102, check=check_flowers102,
          source_hint="torchvision Flowers102 (https://www.robots.ox.ac.uk/~vgg/data/flowers/102/, "
          "or option download=True) in <data.root>/flowers-102/{jpg/image_*.jpg, "
          "imagelabels.mat, setid.mat}")
def build_flowers102(resolution: int, *, root: Path, split_seed: int,
                     download: bool = False) -> ImageDataset:
    """Oxford 102 Flowers with its official splits (``split_seed`` is not used)."""
    if download:
        from torchvision.datasets import Flowers102
        Flowers102(str(root), download=True)
    check_flowers102(root)
    labels, ids = _flowers_index(root)
    folder = Path(root) / "flowers-102" / "jpg"
    splits = {split: [(folder / f"image_{i:05d}.jpg", int(labels[i - 1]) - 1) for i in index]
              for split, index in ids.items()}
    read, skipped = read_splits(splits, resolution)
    return official_splits("flowers102", _flowers_classes(), False, read["train"], read["val"],
                           read["test"], info=skipped_info(skipped, source=str(folder.parent)))


# ---------------------------------------------------------------------------------------
# office31
# ---------------------------------------------------------------------------------------

def check_office31(root: Path, *, domain: str) -> None:
    """Raise :class:`DatasetMissingError` unless ``domain`` has class folders."""
    folder = Path(root) / "office31" / domain / "images"
    layout = (f"office31/{domain}/images/<class>/*.jpg, one folder per class "
              f"(back_pack, bike, ..., trash_can: 31 classes)")
    if not folder.is_dir():
        raise _missing(f"office31-{domain}", Path(root), folder, layout, OFFICE_URL)
    if not any(p.is_dir() for p in folder.iterdir()):
        raise _missing(f"office31-{domain}", Path(root), folder / "<class>", layout, OFFICE_URL)


def _office_files(root: Path, domain: str) -> tuple[tuple[str, ...], list[Path], np.ndarray]:
    check_office31(root, domain=domain)
    folder = Path(root) / "office31" / domain / "images"
    classes = tuple(sorted(p.name for p in folder.iterdir() if p.is_dir()))
    files, labels = [], []
    for label, name in enumerate(classes):
        found = class_folder_files(folder / name)
        files += found
        labels += [label] * len(found)
    return classes, files, np.asarray(labels, dtype=np.int64)


def sizes_office31(*, domain: str, root: Path, split_seed: int,
                   per_class: tuple[SplitSize, SplitSize, SplitSize] = OFFICE_PER_CLASS
                   ) -> tuple[int, int, int]:
    """(train, val, test) sizes of one domain's per-class splits, from the file list."""
    classes, _, labels = _office_files(Path(root), domain)
    return tuple(len(i) for i in stratified_split(labels, tuple(per_class), split_seed, classes))


_OFFICE_HINT = ("Office-31 (https://faculty.cc.gatech.edu/~judy/domainadapt/, "
                "domain_adaptation_images.tar.gz) unpacked as "
                "<data.root>/office31/{domain}/images/<class>/*.jpg")


def _register_domains(builder: Callable[..., ImageDataset]) -> Callable[..., ImageDataset]:
    """Register ``builder`` once per domain, as ``office31-<domain>``."""
    for domain in ("amazon", "webcam", "dslr"):
        register(f"office31-{domain}", f"Office-31 {domain} domain, stratified splits",
                 num_classes=31, sizes=sizes_office31, check=check_office31,
                 source_hint=_OFFICE_HINT.format(domain=domain), domain=domain)(builder)
    return builder


@_register_domains
def build_office31(resolution: int, *, domain: str, root: Path, split_seed: int,
                   per_class: tuple[SplitSize, SplitSize, SplitSize] = OFFICE_PER_CLASS
                   ) -> ImageDataset:
    """One Office-31 domain, split per class by ``split_seed`` over the file list.

    Args:
        resolution: image side in pixels.
        domain: ``amazon``, ``webcam`` or ``dslr``.
        root: folder holding ``office31/``.
        split_seed: fixes which images go to train, val and test.
        per_class: (train, val, test) per class: an int count, a fraction, or None for
            the rest.
    """
    classes, files, labels = _office_files(Path(root), domain)
    # Split the file list, not the decoded images, so a corrupt file never moves others.
    index = stratified_split(labels, tuple(per_class), split_seed, classes)
    splits = {split: [(files[i], int(labels[i])) for i in part]
              for split, part in zip(("train", "val", "test"), index, strict=True)}
    read, skipped = read_splits(splits, resolution)
    return official_splits(f"office31-{domain}", classes, False, read["train"], read["val"],
                           read["test"], info=skipped_info(skipped, domain=domain))


# ---------------------------------------------------------------------------------------
# chest-xray (Kermany)
# ---------------------------------------------------------------------------------------

_CHEST_LAYOUT = "chest_xray/{train,val,test}/{NORMAL,PNEUMONIA}/*.jpeg"
CHEST_VAL_FRACTION = 0.1  # of each class's patients in the train pool (train/ + val/)
# Patient ids in the file names, each a namespace of its own: Kaggle's PNEUMONIA
# personNNNN_{bacteria,virus}_MMMM and NORMAL [NORMAL2-]IM-NNNN-MMMM; Mendeley's
# {NORMAL,BACTERIA,VIRUS}-NNNNNNN-MMMM, whose id spans the classes.
_CHEST_PATIENT = (
    (re.compile(r"person(\d+)_(?:bacteria|virus)_\d+", re.IGNORECASE), "person{}"),
    (re.compile(r"IM-(\d+)-\d+", re.IGNORECASE), "IM-{}"),
    (re.compile(r"NORMAL2-IM-(\d+)-\d+", re.IGNORECASE), "NORMAL2-IM-{}"),
    (re.compile(r"(?:NORMAL|BACTERIA|VIRUS)-(\d+)-\d+", re.IGNORECASE), "patient-{}"),
)


def chest_patient(path: Path) -> str | None:
    """The patient id in a Kermany chest X-ray file name, or None when it has none.

    ``person1234_bacteria_5.jpeg`` -> ``person1234``; ``NORMAL2-IM-0123-0001.jpeg`` ->
    ``NORMAL2-IM-123``; ``VIRUS-1003233-0002.jpeg`` -> ``patient-1003233``.
    """
    for pattern, name in _CHEST_PATIENT:
        match = pattern.fullmatch(Path(path).stem)
        if match:
            return name.format(int(match.group(1)))
    return None


def check_chest_xray(root: Path) -> None:
    """Raise :class:`DatasetMissingError` unless both training classes and test are there."""
    base = Path(root) / "chest_xray"
    # Both classes must be trained on; a test folder lacking a class is only reported.
    for path in (base / "train" / "NORMAL", base / "train" / "PNEUMONIA", base / "test"):
        if not path.is_dir():
            raise _missing("chest-xray", Path(root), path, _CHEST_LAYOUT, CHEST_URL)


def _chest_folder(base: Path, split: str) -> list[tuple[Path, int]]:
    """``[(file, label), ...]`` of one split folder's class folders that exist."""
    return [(path, label) for label, name in enumerate(XRAY_CLASSES)
            if (base / split / name.upper()).is_dir()
            for path in class_folder_files(base / split / name.upper())]


def chest_xray_files(root: Path, split_seed: int, val_fraction: float = CHEST_VAL_FRACTION
                     ) -> tuple[dict[str, list[tuple[Path, int]]], dict]:
    """``{split: [(file, label), ...]}`` and the protocol's facts for ``info``.

    The train pool is ``train/`` plus ``val/`` when there is one; val is drawn from it
    by patient (:func:`bench.datasets.splits.grouped_holdout`); test is ``test/``.
    """
    check_chest_xray(root)
    base = Path(root) / "chest_xray"
    merged = _chest_folder(base, "val") if (base / "val").is_dir() else None
    pool = _chest_folder(base, "train") + (merged or [])
    # A file without a patient id is a group of its own (its path is unique).
    groups = [chest_patient(path) or f"file:{path.relative_to(base).as_posix()}"
              for path, _ in pool]
    train, val = grouped_holdout([label for _, label in pool], groups, val_fraction, split_seed)
    splits = {"train": [pool[i] for i in train], "val": [pool[i] for i in val],
              "test": _chest_folder(base, "test")}
    protocol = {"val_from": "train/ + val/" if merged is not None else "train/",
                "val_fraction": val_fraction, "grouped_by": "patient",
                "official_val_merged": merged is not None,
                "official_val_files": len(merged or [])}
    return splits, {"val_protocol": {**protocol, **_chest_patient_counts(splits)}}


def _chest_patient_counts(splits: dict[str, list[tuple[Path, int]]]) -> dict:
    """Patients per split, files without a patient id per split, patients test shares."""
    patients = {split: {chest_patient(path) for path, _ in items} - {None}
                for split, items in splits.items()}
    return {"patients": {split: len(ids) for split, ids in patients.items()},
            "files_without_patient_id": {split: sum(chest_patient(path) is None
                                                    for path, _ in items)
                                         for split, items in splits.items()},
            "test_patients_also_in_train_or_val":
                len(patients["test"] & (patients["train"] | patients["val"]))}


def sizes_chest_xray(*, root: Path, split_seed: int, val_fraction: float = CHEST_VAL_FRACTION
                     ) -> tuple[int, int, int]:
    """(train, val, test) sizes from the split folders' file lists (no decoding)."""
    splits, _ = chest_xray_files(Path(root), split_seed, val_fraction)
    return tuple(len(splits[split]) for split in ("train", "val", "test"))


@register("chest-xray", "Kermany chest X-ray pneumonia, official test, val held out by patient",
          num_classes=2, sizes=sizes_chest_xray, check=check_chest_xray,
          source_hint="Kermany ChestXRay2017 (https://data.mendeley.com/datasets/rscbjbr9sj/2) in "
          "<data.root>/chest_xray/{train,val,test}/{NORMAL,PNEUMONIA}/*.jpeg")
def build_chest_xray(resolution: int, *, root: Path, split_seed: int,
                     val_fraction: float = CHEST_VAL_FRACTION) -> ImageDataset:
    """Kermany chest X-rays, ``normal`` vs ``pneumonia``; val held out by patient.

    Args:
        resolution: image side in pixels.
        root: folder holding ``chest_xray/``.
        split_seed: fixes which patients of the train pool are validated on.
        val_fraction: share of each class's patients in the train pool (``train/``,
            plus ``val/`` when the download has one) held out as val; test is ``test/``.
    """
    splits, facts = chest_xray_files(Path(root), split_seed, val_fraction)
    read, skipped = read_splits(splits, resolution)
    return official_splits("chest-xray", XRAY_CLASSES, False, read["train"], read["val"],
                           read["test"], info=skipped_info(skipped, **facts))


# ---------------------------------------------------------------------------------------
# pneumoniamnist (MedMNIST)
# ---------------------------------------------------------------------------------------

def _medmnist_file(size: int) -> str:
    if size not in (28, 64, 128, 224):
        raise ValueError(f"pneumoniamnist size must be 28, 64, 128 or 224, got {size}")
    return "pneumoniamnist.npz" if size == 28 else f"pneumoniamnist_{size}.npz"


def check_pneumoniamnist(root: Path, *, size: int = 28) -> None:
    """Raise :class:`DatasetMissingError` unless the npz file of ``size`` is there."""
    path = Path(root) / _medmnist_file(size)
    if not path.is_file():
        raise _missing("pneumoniamnist", Path(root), path,
                       f"{path.name} with arrays train_images, train_labels, val_images, "
                       f"val_labels, test_images, test_labels",
                       f"{MEDMNIST_URL} ({path.name}), or load it once with option "
                       f"download=True (needs the medmnist extra: pip install "
                       f"'tlbench[medmnist]')")


def _download_pneumoniamnist(root: Path, size: int) -> None:
    """Fetch the npz of ``size`` with the ``medmnist`` package: its URLs, its MD5 checksums.

    The file is then read with numpy like a file put there by hand, so reading needs
    neither the package nor a network.

    Raises:
        DatasetMissingError: the package is not installed, or the download failed.
    """
    try:
        from medmnist import PneumoniaMNIST
    except ImportError:
        raise DatasetMissingError(
            "option download=True of pneumoniamnist needs the medmnist package: "
            "pip install 'tlbench[medmnist]' (or put the npz file there by hand: "
            f"{MEDMNIST_URL})") from None
    root.mkdir(parents=True, exist_ok=True)
    try:
        PneumoniaMNIST(split="train", root=str(root), size=size, download=True)
    except RuntimeError as error:  # medmnist's message is a multi-line how-to: one line here
        cause = error.__context__ or "no network?"
        raise DatasetMissingError(f"downloading {_medmnist_file(size)} into {root} failed "
                                  f"({cause}); download it from {MEDMNIST_URL} by hand") from None


def _read_npz(path: Path, keys: Sequence[str]) -> dict[str, np.ndarray]:
    try:
        with np.load(path) as npz:
            return {key: npz[key] for key in keys}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        raise ValueError(f"cannot read {path} ({error}); it should be MedMNIST's npz with "
                         f"arrays {', '.join(keys)}: download it again") from error


def sizes_pneumoniamnist(*, root: Path, split_seed: int, size: int = 28, download: bool = False
                         ) -> tuple[int, int, int]:
    """(train, val, test) sizes of the official splits, from the npz file's labels."""
    arrays = _read_npz(Path(root) / _medmnist_file(size),
                       ["train_labels", "val_labels", "test_labels"])
    return tuple(len(arrays[f"{split}_labels"]) for split in ("train", "val", "test"))


@register("pneumoniamnist", "MedMNIST PneumoniaMNIST (28 px chest X-rays), official splits",
          num_classes=2, sizes=sizes_pneumoniamnist, check=check_pneumoniamnist,
          source_hint="MedMNIST v2 (https://zenodo.org/records/10519652, or option "
          "download=True) as <data.root>/pneumoniamnist.npz")
def build_pneumoniamnist(resolution: int, *, root: Path, split_seed: int, size: int = 28,
                         download: bool = False) -> ImageDataset:
    """PneumoniaMNIST with its official splits; ``size`` picks the MedMNIST+ file."""
    file = _medmnist_file(size)
    if download and not (Path(root) / file).is_file():
        _download_pneumoniamnist(Path(root), size)
    check_pneumoniamnist(root, size=size)
    arrays = _read_npz(Path(root) / file, [f"{split}_{part}" for split in ("train", "val", "test")
                                           for part in ("images", "labels")])
    splits = [ImageSplit(resize_images(arrays[f"{split}_images"].astype(np.uint8), resolution),
                         torch.from_numpy(arrays[f"{split}_labels"].reshape(-1).astype(np.int64)))
              for split in ("train", "val", "test")]
    return official_splits("pneumoniamnist", XRAY_CLASSES, False, *splits,
                           info={"source": str(Path(root) / file)})
