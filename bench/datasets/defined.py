"""Data sets a config defines: ``data.sets.NAME: {builder: imagefolder | csv, path: ...}``.

Two families of builders, registered with ``register(..., family=True)``;
:func:`~bench.datasets.registry.define` binds one to a config's definition:

- ``imagefolder`` with ``layout: class_folders`` (the default): ``PATH/CLASS/*.jpg``, the
  layout of ``torchvision.datasets.ImageFolder``, listed with torchvision's own
  ``find_classes`` and ``make_dataset``; split per class by ``split_seed`` with
  ``per_class: [train, val, test]`` (each an int count, a fraction, or null for the
  rest; default ``[null, 0.1, 0.3]``, as Office-31).
- ``imagefolder`` with ``layout: split_folders``: ``PATH/{train,val,test}/CLASS/*.jpg``;
  ``val/`` is optional: without it ``val_fraction`` (default 0.1) of each class of
  ``train/`` is held out as val by ``split_seed``.
- ``csv``: a CSV file with columns ``path, label[, split]`` (paths relative to the CSV's
  folder, or absolute; labels are class names); without a ``split`` column it is split
  like ``class_folders``, with one (``train``, ``val`` or ``test`` per row) like
  ``split_folders``.

A relative ``path`` is resolved against the data set's root (``data.roots.NAME``, else
``data.root``). Images are decoded by :mod:`~bench.datasets.decode`, as the real data
sets are, unreadable files skipped and listed. Every error is one line naming the
config key, the path and, for a folder laid out otherwise, the layout expected.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from torchvision.datasets.folder import IMG_EXTENSIONS, find_classes, make_dataset

from bench.datasets.base import DatasetMissingError, ImageDataset
from bench.datasets.decode import SplitFiles, read_splits, skipped_info
from bench.datasets.registry import register
from bench.datasets.splits import SplitSize, official_splits, stratified_split

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_PER_CLASS: tuple[SplitSize, SplitSize, SplitSize] = (None, 0.1, 0.3)
DEFAULT_VAL_FRACTION = 0.1
LAYOUTS = {"class_folders": "PATH/CLASS/*.jpg, one folder of images per class",
           "split_folders": "PATH/train/CLASS/*.jpg and PATH/test/CLASS/*.jpg, "
                            "PATH/val/CLASS/*.jpg optional"}
CSV_COLUMNS = "path, label[, split]"
_SPLITS = ("train", "val", "test")

# One file (path, label) and, for data with its own splits, the split of each file.
_Item = tuple[Path, int]


def _key(name: str, option: str = "") -> str:
    return f"config key `data.sets.{name}{'.' + option if option else ''}`"


def _locate(name: str, root: Path, path: str, *, folder: bool) -> Path:
    """``path`` resolved against the data set's root; missing: names the key and the path."""
    located = Path(root) / path
    if located.is_dir() if folder else located.is_file():
        return located
    where = "" if Path(path).is_absolute() else f" (resolved against the data root: {located})"
    raise DatasetMissingError(f"{_key(name, 'path')} = {str(path)!r}: no such "
                              f"{'folder' if folder else 'file'}{where}")


def _check_split_options(name: str, own_splits: bool, per_class, val_fraction) -> None:
    """Each split option applies to one kind of data: reject the one that does not."""
    if own_splits and per_class is not None:
        raise ValueError(f"{_key(name, 'per_class')}: this data set has its own train/test "
                         f"split (split folders or a CSV split column); remove per_class "
                         f"(val_fraction holds val out of train)")
    if not own_splits and val_fraction is not None:
        raise ValueError(f"{_key(name, 'val_fraction')} applies to data with its own "
                         f"train/test split (layout: split_folders, or a CSV split column); "
                         f"use per_class: [train, val, test]")


# ---------------------------------------------------------------------------------------
# Splitting the listed files
# ---------------------------------------------------------------------------------------

def _split_files(name: str, classes: Sequence[str], items: list[_Item],
                 split_of: list[str] | None, per_class, val_fraction, split_seed: int
                 ) -> SplitFiles:
    """``{split: [(file, label), ...]}``: drawn per class, or the data's own splits.

    Without ``split_of`` every class is split by ``per_class``; with it, train and test
    are as given and val is given too or held out of train by ``val_fraction``.
    """
    _check_split_options(name, split_of is not None, per_class, val_fraction)
    labels = np.array([label for _, label in items], dtype=np.int64)
    if split_of is None:
        index = stratified_split(labels, tuple(per_class or DEFAULT_PER_CLASS), split_seed,
                                 classes)
        return {split: [items[i] for i in part] for split, part in zip(_SPLITS, index, strict=True)}
    given = {split: [i for i, s in enumerate(split_of) if s == split] for split in _SPLITS}
    for split in ("train", "test"):
        if not given[split]:
            raise DatasetMissingError(f"data set {name!r} has no {split} image: its own "
                                      f"splits need train and test ({_key(name, 'path')})")
    if not given["val"]:
        train = np.array(given["train"], dtype=np.int64)
        keep, val, _ = stratified_split(labels[train], (None, val_fraction or DEFAULT_VAL_FRACTION,
                                                        0), split_seed, classes)
        given.update(train=train[keep].tolist(), val=train[val].tolist())
    return {split: [items[i] for i in given[split]] for split in _SPLITS}


def _build(name: str, resolution: int, classes: Sequence[str], splits: SplitFiles,
           **facts) -> ImageDataset:
    """Decode the split files into the data set (unreadable files skipped, listed)."""
    read, skipped = read_splits(splits, resolution)
    return official_splits(name, classes, False, read["train"], read["val"], read["test"],
                           info=skipped_info(skipped, **facts))


def _sizes(splits: SplitFiles) -> tuple[int, int, int]:
    return tuple(len(splits[split]) for split in _SPLITS)


# ---------------------------------------------------------------------------------------
# imagefolder
# ---------------------------------------------------------------------------------------

def _layout_error(name: str, folder: Path, layout: str, problem: str) -> DatasetMissingError:
    return DatasetMissingError(f"data set {name!r} ({_key(name, 'layout')} = {layout!r}): "
                               f"{folder} {problem}; expected {LAYOUTS[layout]}")


def _subfolders(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def check_imagefolder(root: Path, *, name: str, path: str, layout: str = "class_folders",
                      per_class=None, val_fraction=None) -> None:
    """Fail unless ``path`` is a folder laid out as ``layout`` says (top level only: cheap).

    Raises:
        DatasetMissingError: no such folder, or another layout (names key, path, layout).
        ValueError: an unknown layout, or a split option the layout does not take.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"{_key(name, 'layout')} = {layout!r}; allowed: {', '.join(LAYOUTS)}")
    folder = _locate(name, root, path, folder=True)
    _check_split_options(name, layout == "split_folders", per_class, val_fraction)
    subfolders = _subfolders(folder)
    if layout == "split_folders":
        for split in ("train", "test"):
            if split not in subfolders or not _subfolders(folder / split):
                holds = ", ".join(subfolders[:6]) or "no folder"
                raise _layout_error(name, folder, layout, f"has no {split}/ folder of class "
                                    f"folders (it holds {holds})")
    elif not subfolders:
        raise _layout_error(name, folder, layout, "holds no class folder")
    elif {"train", "test"} <= set(subfolders) and _subfolders(folder / "train"):
        raise _layout_error(name, folder, layout, "holds train/ and test/ folders of class "
                            "folders, i.e. layout: split_folders")


def _class_items(name: str, folder: Path, class_to_idx: dict[str, int]) -> list[_Item]:
    """The images of ``folder/CLASS/**`` (torchvision's listing); an empty class folder fails."""
    items = make_dataset(str(folder), class_to_idx, extensions=IMG_EXTENSIONS, allow_empty=True)
    found = {label for _, label in items}
    empty = [str(folder / c) for c, label in class_to_idx.items() if label not in found]
    if empty:
        raise DatasetMissingError(f"data set {name!r}: empty class folder {empty[0]}"
                                  f"{f' (and {len(empty) - 1} more)' if len(empty) > 1 else ''}"
                                  f": it holds no image ({', '.join(IMG_EXTENSIONS)})")
    return [(Path(path), label) for path, label in items]


def _split_folder_items(name: str, folder: Path) -> tuple[list[str], list[_Item], list[str]]:
    """Classes (train/'s folders), every file with its label, and each file's split."""
    classes, class_to_idx = find_classes(str(folder / "train"))
    items, split_of = [], []
    for split in _SPLITS:
        if not (folder / split).is_dir():
            continue  # val/ is optional; check_imagefolder saw train/ and test/
        present = find_classes(str(folder / split))[0] if split != "train" else classes
        unknown = sorted(set(present) - set(classes))
        if unknown:
            raise _layout_error(name, folder, "split_folders", f"has class folders in {split}/ "
                                f"that train/ lacks ({', '.join(unknown[:5])})")
        found = _class_items(name, folder / split, {c: class_to_idx[c] for c in present})
        items += found
        split_of += [split] * len(found)
    return classes, items, split_of


def imagefolder_files(root: Path, *, name: str, split_seed: int, path: str,
                      layout: str = "class_folders", per_class=None, val_fraction=None
                      ) -> tuple[list[str], SplitFiles]:
    """The classes and ``{split: [(file, label), ...]}`` of an image folder, no decoding."""
    check_imagefolder(root, name=name, path=path, layout=layout, per_class=per_class,
                      val_fraction=val_fraction)
    folder = Path(root) / path
    if layout == "split_folders":
        classes, items, split_of = _split_folder_items(name, folder)
    else:
        classes, class_to_idx = find_classes(str(folder))
        items, split_of = _class_items(name, folder, class_to_idx), None
    return classes, _split_files(name, classes, items, split_of, per_class, val_fraction,
                                 split_seed)


def sizes_imagefolder(**definition) -> tuple[int, int, int]:
    """(train, val, test) sizes from the file listing (no decoding)."""
    return _sizes(imagefolder_files(**definition)[1])


@register("imagefolder", "images in class folders (torchvision ImageFolder layout)",
          num_classes=None, sizes=sizes_imagefolder, check=check_imagefolder, family=True,
          source_hint="your own folder: PATH/CLASS/*.jpg (layout: class_folders) or "
          "PATH/{train,val,test}/CLASS/*.jpg (layout: split_folders)")
def build_imagefolder(resolution: int, *, name: str, root: Path, split_seed: int, path: str,
                      layout: str = "class_folders", per_class=None, val_fraction=None
                      ) -> ImageDataset:
    """An image folder of the config's own (see the module's docstring for the options)."""
    classes, splits = imagefolder_files(root, name=name, split_seed=split_seed, path=path,
                                        layout=layout, per_class=per_class,
                                        val_fraction=val_fraction)
    return _build(name, resolution, classes, splits, builder="imagefolder",
                  source=str(Path(root) / path), layout=layout)


# ---------------------------------------------------------------------------------------
# csv
# ---------------------------------------------------------------------------------------

def _read_table(name: str, file: Path) -> pd.DataFrame:
    """The CSV's rows, every cell a string; fails naming the file and what it lacks."""
    # Imported here, not above: every run and cell process imports this module (the data
    # set registry) and only a config-defined CSV set needs pandas, 0.2-0.4 s to import.
    import pandas as pd

    try:
        table = pd.read_csv(file, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise DatasetMissingError(f"{_key(name, 'path')}: cannot read {file} as CSV "
                                  f"({str(error).strip()}); expected columns {CSV_COLUMNS}"
                                  ) from None
    lacking = [column for column in ("path", "label") if column not in table.columns]
    if lacking:
        raise DatasetMissingError(f"{_key(name, 'path')}: {file} lacks column "
                                  f"{', '.join(lacking)} (it has {', '.join(table.columns)}); "
                                  f"expected columns {CSV_COLUMNS}")
    for column in [c for c in ("path", "label", "split") if c in table.columns]:
        allowed = _SPLITS if column == "split" else None
        bad = [i for i, value in enumerate(table[column])
               if not value or (allowed and value not in allowed)]
        if bad:
            raise DatasetMissingError(
                f"{_key(name, 'path')}: {file} row {bad[0] + 2} has {column} "
                f"{table[column].iloc[bad[0]]!r}; allowed: "
                f"{', '.join(allowed) if allowed else 'any non-empty text'}")
    return table


def check_csv(root: Path, *, name: str, path: str, per_class=None, val_fraction=None) -> None:
    """Fail unless ``path`` is a readable CSV with the columns and split values expected."""
    table = _read_table(name, _locate(name, root, path, folder=False))
    _check_split_options(name, "split" in table.columns, per_class, val_fraction)


def _class_order(labels: Sequence[str]) -> list[str]:
    """Class names sorted as ``find_classes`` sorts folders; all-digit names by value."""
    names = set(labels)
    return sorted(names, key=int) if all(n.isdigit() for n in names) else sorted(names)


def csv_files(root: Path, *, name: str, split_seed: int, path: str, per_class=None,
              val_fraction=None) -> tuple[list[str], SplitFiles]:
    """The classes and ``{split: [(file, label), ...]}`` a CSV lists, no decoding."""
    file = _locate(name, root, path, folder=False)
    table = _read_table(name, file)
    files = [file.parent / entry for entry in table["path"]]  # an absolute entry stays
    missing = [f for f in files if not f.is_file()]
    if missing:
        raise DatasetMissingError(f"data set {name!r}: {len(missing)} file(s) listed in {file} "
                                  f"do not exist, e.g. {missing[0]} ({_key(name, 'path')})")
    classes = _class_order(table["label"])
    label_of = {c: i for i, c in enumerate(classes)}
    items = [(f, label_of[label]) for f, label in zip(files, table["label"], strict=True)]
    split_of = list(table["split"]) if "split" in table.columns else None
    return classes, _split_files(name, classes, items, split_of, per_class, val_fraction,
                                 split_seed)


def sizes_csv(**definition) -> tuple[int, int, int]:
    """(train, val, test) sizes from the CSV's rows (no decoding)."""
    return _sizes(csv_files(**definition)[1])


@register("csv", "images listed in a CSV file (path, label[, split])", num_classes=None,
          sizes=sizes_csv, check=check_csv, family=True,
          source_hint="your own CSV with columns path, label[, split]")
def build_csv(resolution: int, *, name: str, root: Path, split_seed: int, path: str,
              per_class=None, val_fraction=None) -> ImageDataset:
    """Images a CSV lists (see the module's docstring for the options)."""
    classes, splits = csv_files(root, name=name, split_seed=split_seed, path=path,
                                per_class=per_class, val_fraction=val_fraction)
    return _build(name, resolution, classes, splits, builder="csv",
                  source=str(Path(root) / path))
