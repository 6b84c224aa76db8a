"""The data set registry, splits, shots, caching, and the offline and synthetic sets."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest
import torch

import bench.datasets.synthetic as synthetic
from bench.datasets import (
    DATASETS,
    UNLABELLED,
    DatasetSpec,
    is_available,
    load_dataset,
    resize_images,
    stratified_split,
)
from bench.datasets.base import shots_index
from bench.datasets.inspect import grid_figure, list_datasets, show_grid

SYNTHETIC = ["synflowers", "synoffice-amazon", "synoffice-webcam", "synoffice-dslr", "synxray"]
SMALL = {"per_class": (3, 2, 2)}  # images per class for fast synthetic builds


@pytest.fixture(scope="module")
def small_sets() -> dict:
    """Every synthetic set at 32 px with 3 / 2 / 2 images per class, built once."""
    return {name: load_dataset(name, 32, split_seed=0, **SMALL) for name in SYNTHETIC}


# ---------------------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------------------

def test_registry_lists_every_set_with_its_facts():
    expected = {*SYNTHETIC, "digits", "photos", "flowers102", "office31-amazon",
                "office31-webcam", "office31-dslr", "chest-xray", "pneumoniamnist"}
    assert set(DATASETS) == expected
    for name, spec in DATASETS.items():
        assert isinstance(spec, DatasetSpec) and spec.name == name
        assert spec.offline == (spec.source_hint == "")
        assert spec.synthetic == (name in SYNTHETIC)
        assert callable(spec.builder) and callable(spec.sizes)
    assert DATASETS["photos"].num_classes == 0
    assert DATASETS["flowers102"].num_classes == 102
    assert DATASETS["office31-dslr"].num_classes == 31
    with pytest.raises(AttributeError):
        DATASETS["digits"].name = "other"  # frozen


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(KeyError, match="synflowers") as error:
        load_dataset("imagenet", 32)
    assert "digits" in str(error.value) and "pneumoniamnist" in str(error.value)
    with pytest.raises(KeyError, match="unknown data set 'nope'"):
        is_available("nope")


def test_unknown_option_and_bad_resolution_are_refused():
    with pytest.raises(ValueError, match="no option 'shots'.*per_class"):
        load_dataset("synflowers", 32, shots=3)
    with pytest.raises(ValueError, match="resolution"):
        load_dataset("digits", 4)


def test_offline_sets_are_available_and_real_ones_are_not(tmp_path):
    for name, spec in DATASETS.items():
        assert is_available(name, tmp_path) == spec.offline


# ---------------------------------------------------------------------------------------
# Splits
# ---------------------------------------------------------------------------------------

LABELS = np.repeat(np.arange(4), [10, 12, 15, 9])


def test_split_is_deterministic_disjoint_and_per_class():
    first = stratified_split(LABELS, (3, 2, 4), seed=7)
    again = stratified_split(LABELS, (3, 2, 4), seed=7)
    other = stratified_split(LABELS, (3, 2, 4), seed=8)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(first, other, strict=True))
    train, val, test = first
    assert not set(train) & set(val) and not set(train) & set(test) and not set(val) & set(test)
    for part, count in zip(first, (3, 2, 4), strict=True):
        assert np.bincount(LABELS[part], minlength=4).tolist() == [count] * 4
        assert part.dtype == np.int64 and np.all(np.diff(part) > 0)


def test_split_fractions_and_rest():
    train, val, test = stratified_split(LABELS, (None, 0.1, 0.3), seed=0)
    assert np.bincount(LABELS[test]).tolist() == [3, 4, 4, 3]  # round(0.3 n)
    assert np.bincount(LABELS[val]).tolist() == [1, 1, 2, 1]  # at least 1
    assert len(train) + len(val) + len(test) == len(LABELS)
    _, _, rest = stratified_split(LABELS, (2, 2, None), seed=0)
    assert np.bincount(LABELS[rest]).tolist() == [6, 8, 11, 5]


def test_fewer_training_examples_never_change_the_test_set():
    _, val_a, test_a = stratified_split(LABELS, (4, 2, 3), seed=3)
    _, val_b, test_b = stratified_split(LABELS, (1, 2, 3), seed=3)
    np.testing.assert_array_equal(test_a, test_b)
    np.testing.assert_array_equal(val_a, val_b)


def test_split_too_small_class_is_named():
    with pytest.raises(ValueError, match="class 'd' has 9 examples"):
        stratified_split(LABELS, (5, 2, 3), seed=0, classes=("a", "b", "c", "d"))


def test_split_of_an_unlabelled_set():
    labels = np.full(20, UNLABELLED)
    train, val, test = stratified_split(labels, (12, 3, 5), seed=0)
    assert (len(train), len(val), len(test)) == (12, 3, 5)
    assert len(set(train) | set(val) | set(test)) == 20


# ---------------------------------------------------------------------------------------
# Synthetic sets
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", SYNTHETIC)
def test_synthetic_shapes_dtypes_and_sizes(small_sets, name):
    dataset = small_sets[name]
    assert dataset.name == name and dataset.synthetic
    assert dataset.num_classes == DATASETS[name].num_classes >= 2
    for split, count in zip((dataset.train, dataset.val, dataset.test), (3, 2, 2), strict=True):
        assert split.images.dtype == torch.uint8 and split.labels.dtype == torch.int64
        assert tuple(split.images.shape[1:]) == (3, 32, 32)
        assert torch.bincount(split.labels).tolist() == [count] * dataset.num_classes
    assert dataset.resolution == 32
    assert DATASETS[name].sizes(root="data", split_seed=0, **SMALL) == tuple(
        len(s) for s in (dataset.train, dataset.val, dataset.test))


@pytest.mark.parametrize("name", ["synflowers", "synxray"])
def test_synthetic_is_bit_identical_and_seeded(small_sets, name):
    again = load_dataset(name, 32, split_seed=0, **SMALL)
    for split in ("train", "val", "test"):
        assert torch.equal(getattr(again, split).images, getattr(small_sets[name], split).images)
    resplit = load_dataset(name, 32, split_seed=1, **SMALL)
    assert not torch.equal(resplit.train.images, again.train.images)
    # The split seed moves images between splits; it does not change the images.
    pool = torch.cat([again.train.images, again.val.images, again.test.images])
    repool = torch.cat([resplit.train.images, resplit.val.images, resplit.test.images])
    assert sorted(map(bytes, pool.flatten(1).numpy())) == sorted(
        map(bytes, repool.flatten(1).numpy()))
    other = load_dataset(name, 32, split_seed=0, generation_seed=1, **SMALL)
    assert not torch.equal(other.train.images, again.train.images)


def test_splits_do_not_overlap(small_sets):
    dataset = small_sets["synflowers"]
    seen = [set(map(bytes, s.images.flatten(1).numpy()))
            for s in (dataset.train, dataset.val, dataset.test)]
    assert not seen[0] & seen[1] and not seen[0] & seen[2] and not seen[1] & seen[2]


def test_more_images_per_class_only_append():
    a = load_dataset("synflowers", 32, per_class=(1, 0, 0))
    b = load_dataset("synflowers", 32, per_class=(1, 0, 1))
    # Image 0 of each class is the same however many are asked for.
    pool = set(map(bytes, torch.cat([b.train.images, b.test.images]).flatten(1).numpy()))
    assert set(map(bytes, a.train.images.flatten(1).numpy())) <= pool


def test_office_domains_share_classes_and_differ_in_style(small_sets):
    domains = [small_sets[f"synoffice-{d}"] for d in ("amazon", "webcam", "dslr")]
    assert domains[0].classes == domains[1].classes == domains[2].classes
    assert "mug" in domains[0].classes and len(domains[0].classes) >= 10
    mean_pixel = [d.train.images.float().mean().item() for d in domains]
    assert mean_pixel[0] > 200  # product shots on white
    assert mean_pixel[1] < mean_pixel[2] < mean_pixel[0]  # webcams are dim


def test_synxray_is_grayscale(small_sets):
    images = small_sets["synxray"].train.images
    assert torch.equal(images[:, 0], images[:, 1]) and torch.equal(images[:, 1], images[:, 2])
    assert small_sets["synxray"].classes == ("normal", "pneumonia")


def test_resolution_above_the_canvas_is_drawn_large():
    dataset = load_dataset("synoffice-dslr", 160, per_class=(1, 0, 0))
    assert tuple(dataset.train.images.shape) == (12, 3, 160, 160)


# ---------------------------------------------------------------------------------------
# Shots
# ---------------------------------------------------------------------------------------

def test_shots_keep_exactly_k_per_class(small_sets):
    dataset = small_sets["synflowers"]
    two = dataset.with_shots(2, seed=0)
    assert torch.bincount(two.train.labels).tolist() == [2] * dataset.num_classes
    assert torch.equal(two.test.images, dataset.test.images)
    assert torch.equal(dataset.with_shots(2, seed=0).train.images, two.train.images)
    assert dataset.with_shots(None, seed=0) is dataset


def test_too_many_shots_name_the_class(small_sets):
    dataset = small_sets["synflowers"]
    with pytest.raises(ValueError, match=r"shots=4 .* class '\w+'"):
        dataset.with_shots(4, seed=0)


def test_shots_equal_to_a_class_size_keep_the_whole_class():
    labels = torch.tensor([2, 0, 1, 0, 2, 1])
    assert shots_index(labels, 2, seed=0).tolist() == [0, 1, 2, 3, 4, 5]


def test_too_many_shots_without_class_names_name_the_label():
    with pytest.raises(ValueError, match="class 0 "):  # class 0 has 1 example, not 2
        shots_index(torch.tensor([0, 1, 1]), 2, seed=0)


# ---------------------------------------------------------------------------------------
# Offline real data
# ---------------------------------------------------------------------------------------

def test_digits():
    dataset = load_dataset("digits", 16)
    assert dataset.classes == tuple("0123456789") and not dataset.synthetic
    assert (len(dataset.train), len(dataset.val), len(dataset.test)) == (300, 200, 1297)
    assert torch.bincount(dataset.train.labels).tolist() == [30] * 10
    images = dataset.test.images
    assert images.shape[1:] == (3, 16, 16) and torch.equal(images[:, 0], images[:, 2])
    assert images.max() > 200  # 0-16 ink scaled to 0-255
    assert torch.equal(load_dataset("digits", 16).train.images, dataset.train.images)


def test_photos_are_unlabelled_crops():
    dataset = load_dataset("photos", 32, crops=(10, 3, 4))
    assert dataset.classes == () and dataset.num_classes == 0
    assert (len(dataset.train), len(dataset.val), len(dataset.test)) == (10, 3, 4)
    assert bool((dataset.train.labels == UNLABELLED).all())
    assert len(dataset.info["photos"]) >= 10 and "astronaut" in dataset.info["photos"]
    assert dataset.train.images.float().std() > 20  # real pictures, not blank
    with pytest.raises(ValueError, match="labelled"):
        dataset.with_shots(1, seed=0)


def test_resize_images_accepts_gray_and_channels_last():
    gray = np.zeros((2, 8, 8), np.uint8)
    gray[:, ::2] = 255  # stripes: antialiased downsizing averages them
    out = resize_images(gray, 4)
    assert out.shape == (2, 3, 4, 4) and out.dtype == torch.uint8
    assert 100 < out.float().mean() < 155 and out.float().std() < 30
    rgb = np.random.default_rng(0).integers(0, 255, (1, 8, 8, 3), dtype=np.uint8)
    assert torch.equal(resize_images(rgb, 8)[0].permute(1, 2, 0), torch.from_numpy(rgb[0]))


# ---------------------------------------------------------------------------------------
# Cache
# ---------------------------------------------------------------------------------------

def test_cache_round_trip(tmp_path, monkeypatch):
    built = load_dataset("synxray", 32, cache_dir=tmp_path, **SMALL)
    files = list(tmp_path.glob("*.pt"))
    assert len(files) == 1 and files[0].name.startswith("synxray-r32-s0-")

    def fail(resolution, *, root, split_seed, per_class=None, generation_seed=0):
        raise AssertionError("the cache should have been used")

    # The same module as the real builder, so the same code fingerprint and cache key.
    fail.__module__ = synthetic.build_synxray.__module__
    monkeypatch.setitem(DATASETS, "synxray", dataclasses.replace(DATASETS["synxray"], builder=fail))
    cached = load_dataset("synxray", 32, cache_dir=tmp_path, **SMALL)
    assert cached.classes == built.classes and cached.synthetic and cached.name == "synxray"
    for split in ("train", "val", "test"):
        assert torch.equal(getattr(cached, split).images, getattr(built, split).images)
        assert torch.equal(getattr(cached, split).labels, getattr(built, split).labels)
    monkeypatch.undo()

    load_dataset("synxray", 32, cache_dir=tmp_path, split_seed=1, **SMALL)
    load_dataset("synxray", 32, cache_dir=tmp_path, per_class=(2, 2, 2))
    assert len(list(tmp_path.glob("*.pt"))) == 3  # keyed by seed and options
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*"))


def test_corrupt_cache_is_rebuilt(tmp_path):
    built = load_dataset("digits", 8, cache_dir=tmp_path)
    (path,) = tmp_path.glob("*.pt")
    path.write_bytes(b"not a torch file")
    with pytest.warns(UserWarning, match="rebuilding"):
        rebuilt = load_dataset("digits", 8, cache_dir=tmp_path)
    assert torch.equal(rebuilt.train.images, built.train.images)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = load_dataset("digits", 8, cache_dir=tmp_path)  # the rebuilt file is sound
    assert not [w for w in caught if "rebuilding" in str(w.message)]
    assert torch.equal(again.test.labels, built.test.labels)


# ---------------------------------------------------------------------------------------
# Inspection
# ---------------------------------------------------------------------------------------

def test_list_datasets(tmp_path):
    table = list_datasets(tmp_path)
    assert isinstance(table, pd.DataFrame)
    assert list(table["name"]) == list(DATASETS)
    row = table.set_index("name")
    assert row.loc["synflowers", "synthetic"] and row.loc["synflowers", "available"]
    assert row.loc["synflowers", "train"] == 360 and row.loc["digits", "test"] == 1297
    assert not row.loc["flowers102", "available"] and pd.isna(row.loc["flowers102", "train"])
    assert "flowers-102" in row.loc["flowers102", "source_hint"]


def test_grid_figure_rows_and_title(small_sets, tmp_path):
    figure = grid_figure(small_sets["synflowers"], per_class=2)
    axes = figure.axes[0]
    assert [t.get_text() for t in axes.get_yticklabels()] == list(synthetic.FLOWER_CLASSES)
    assert "synflowers (synthetic)" in figure.texts[0].get_text()
    photos = load_dataset("photos", 16, crops=(12, 1, 1))
    assert "(synthetic)" not in grid_figure(photos, per_class=4).texts[0].get_text()
    out = show_grid("synxray", tmp_path / "grid.png", resolution=32, per_class=2, options=SMALL)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
