"""Look at the data sets: a table of what is there, and a picture of each.

Backs ``python -m bench data list`` (:func:`list_datasets`; given a config's data
settings it lists the config's own sets too) and
``python -m bench data show NAME --out grid.png`` (:func:`show_grid`, drawing
:func:`grid_figure`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure  # not pyplot: no GUI backend, no global state

from bench.datasets import DATASETS, define, is_available, load_dataset
from bench.datasets.base import ImageDataset
from bench.settings import DataSettings

_COLUMNS = ["name", "synthetic", "offline", "available", "classes", "train", "val", "test",
            "description", "source_hint"]


def list_datasets(root: str | Path = "data", data: DataSettings | None = None) -> pd.DataFrame:
    """One row per data set: registered ones in registry order, then a config's own.

    Columns: name, synthetic, offline, available, classes (number; 0 = unlabelled;
    missing for a config-defined set), train / val / test (split sizes with default
    options; missing values for sets that are not available), description, source_hint
    (where to get a real set). Split sizes are counted without decoding images, so the
    table takes seconds.

    Args:
        root: folder of the real data sets, when no ``data`` is given.
        data: a config's data settings (``bench.config.data_settings(config)``): its
            roots, and its defined sets (``data.sets``) listed too.
    """
    data = data or DataSettings(root=str(root))
    specs = [*DATASETS.values(), *(define(name, definition)
                                   for name, definition in data.sets.items())]
    rows = []
    for spec in specs:
        where = Path(data.root_of(spec.name))
        available = is_available(spec, where)
        sizes = (spec.sizes(root=where, split_seed=data.split_seed) if available
                 else (None, None, None))
        rows.append([spec.name, spec.synthetic, spec.offline, available, spec.num_classes,
                     *sizes, spec.description, spec.source_hint])
    table = pd.DataFrame(rows, columns=_COLUMNS)
    for column in ("classes", "train", "val", "test"):
        table[column] = table[column].astype("Int64")
    return table


def show_grid(name: str, out: str | Path, *, root: str | Path = "data", resolution: int = 64,
              per_class: int = 8, seed: int = 0, cache_dir: str | Path | None = None,
              options: dict | None = None) -> Path:
    """Write a PNG of training images of data set ``name`` (see :func:`grid_figure`).

    ``options`` go to :func:`~bench.datasets.load_dataset` (a dict, since the data
    sets' own ``per_class`` option is not the grid's). Returns the path written.
    """
    dataset = load_dataset(name, resolution, root=root, cache_dir=cache_dir,
                           **(options or {}))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    grid_figure(dataset, per_class=per_class, seed=seed).savefig(out)
    return out


def grid_figure(dataset: ImageDataset, *, per_class: int = 8, seed: int = 0) -> Figure:
    """A matplotlib figure of training images: one row per class, labelled on the left.

    Rows show up to ``per_class`` random training images of each class (drawn by
    ``seed``) at the data set's resolution, each shown at least 96 px wide; an
    unlabelled set shows a plain grid of ``per_class`` columns and 6 rows. The title
    names the set and says "(synthetic)" for generated stand-ins.
    """
    rows, names = _grid_rows(dataset, per_class, seed)
    resolution = dataset.resolution
    pad = max(1, resolution // 32)
    mosaic = _mosaic(dataset.train.images, rows, per_class, pad)

    # Lay the figure out in pixels (at 100 dpi) so each tile shows at least 96 px wide.
    zoom = max(1, round(96 / resolution))
    left, top, margin, dpi = (150 if dataset.classes else 10), 50, 10, 100
    width, height = mosaic.shape[1] * zoom, mosaic.shape[0] * zoom
    total_w, total_h = left + width + margin, top + height + margin
    figure = Figure(figsize=(total_w / dpi, total_h / dpi), dpi=dpi)
    axes = figure.add_axes((left / total_w, margin / total_h, width / total_w, height / total_h))
    axes.imshow(mosaic, interpolation="nearest")
    axes.set_xticks([])
    axes.set_yticks([pad + r * (resolution + pad) + resolution / 2 for r in range(len(rows))],
                    names, fontsize=11)
    axes.tick_params(length=0)
    for spine in axes.spines.values():
        spine.set_visible(False)
    title = f"{dataset.name} (synthetic)" if dataset.synthetic else dataset.name
    detail = f"{dataset.num_classes} classes" if dataset.classes else "unlabelled"
    figure.suptitle(f"{title}: {detail}, training images at {resolution} px", fontsize=13,
                    y=1 - 15 / total_h, va="top")
    return figure


def _grid_rows(dataset: ImageDataset, per_class: int, seed: int
               ) -> tuple[list[torch.Tensor], list[str]]:
    """Training-image indices of each grid row, and the row labels (class names or "")."""
    labels = dataset.train.labels
    generator = torch.Generator().manual_seed(seed)
    if dataset.classes:
        rows = [torch.nonzero(labels == label).flatten() for label in range(dataset.num_classes)]
        rows = [row[torch.randperm(len(row), generator=generator)[:per_class]] for row in rows]
        return rows, list(dataset.classes)
    order = torch.randperm(len(labels), generator=generator)[:6 * per_class]
    rows = [order[i:i + per_class] for i in range(0, len(order), per_class)]
    return rows, [""] * len(rows)


def _mosaic(images: torch.Tensor, rows: list[torch.Tensor], per_class: int, pad: int
            ) -> np.ndarray:
    """The images of ``rows`` tiled on white, ``pad`` px apart: ``uint8 (H, W, 3)``."""
    resolution = int(images.shape[-1])
    cell = resolution + pad
    mosaic = np.full((len(rows) * cell + pad, per_class * cell + pad, 3), 255, np.uint8)
    for r, row in enumerate(rows):
        for c, index in enumerate(row.tolist()):
            mosaic[pad + r * cell:pad + r * cell + resolution,
                   pad + c * cell:pad + c * cell + resolution] = (
                images[index].permute(1, 2, 0).numpy())
    return mosaic
