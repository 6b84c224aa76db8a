"""Data sets a config defines (``data.sets``): image folders and CSV lists, on tiny fixtures.

Each test writes its own few PNG and JPEG files in ``tmp_path``; the slow tests run
such a set through ``python -m bench run`` and through Snakemake.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from PIL import Image

from bench.config import ConfigError, check_sweep, data_settings, run_config
from bench.datasets import DatasetMissingError, define, load_dataset
from bench.datasets.cache import cache_key
from bench.datasets.decode import decode
from bench.datasets.inspect import list_datasets
from tests.conftest import REPO, tiny_config

CLASSES = ("cat", "dog", "owl")


def write_image(path: Path, seed: int) -> Path:
    """A small random image, non-square; PNG or JPEG by its suffix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 256, (18, 26, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return path


def class_folders(folder: Path, per_class: int = 6, classes=CLASSES) -> Path:
    """``folder/CLASS/*``: PNGs and JPEGs, one file that is not an image."""
    for c, name in enumerate(classes):
        for i in range(per_class):
            write_image(folder / name / f"{i:02d}.{'png' if i % 2 else 'jpg'}", 100 * c + i)
    (folder / classes[0] / "notes.txt").write_text("not an image")
    return folder


def split_folders(folder: Path, splits=("train", "test"), per_class: int = 5) -> Path:
    for s, split in enumerate(splits):
        class_folders(folder / split, per_class)
        for path in (folder / split).rglob("*.png"):  # distinct pixels per split
            write_image(path, 1000 * (s + 1) + hash(path.name) % 100)
    return folder


def csv_list(folder: Path, with_split: bool) -> Path:
    """``folder/list.csv`` over ``folder/images``: relative paths, one absolute."""
    class_folders(folder / "images")
    rows = ["path,label" + (",split" if with_split else "")]
    for i, path in enumerate(sorted((folder / "images").rglob("*.*g"))):
        entry = str(path) if i == 0 else path.relative_to(folder).as_posix()
        rows.append(f"{entry},{path.parent.name}" + (f",{('train', 'test')[i % 3 == 0]}"
                                                      if with_split else ""))
    (folder / "list.csv").write_text("\n".join(rows) + "\n")
    return folder / "list.csv"


def load(root: Path, definition: dict, **kwargs):
    return load_dataset("mine", 16, root=root, definition=definition, **kwargs)


# ---------------------------------------------------------------------------------------
# imagefolder
# ---------------------------------------------------------------------------------------

def test_class_folders_split_per_class_by_split_seed(tmp_path):
    class_folders(tmp_path / "pets")
    definition = {"builder": "imagefolder", "path": "pets", "per_class": [3, 1, 2]}
    dataset = load(tmp_path, definition)
    assert dataset.classes == CLASSES and not dataset.synthetic
    assert (len(dataset.train), len(dataset.val), len(dataset.test)) == (9, 3, 6)
    assert torch.bincount(dataset.test.labels).tolist() == [2, 2, 2]
    assert tuple(dataset.train.images.shape[1:]) == (3, 16, 16)
    assert dataset.info["layout"] == "class_folders"
    again = load(tmp_path, definition)
    other = load_dataset("mine", 16, root=tmp_path, definition=definition, split_seed=1)
    assert torch.equal(again.test.images, dataset.test.images)
    assert not torch.equal(other.test.images, dataset.test.images)
    assert define("mine", definition).sizes(root=tmp_path, split_seed=0) == (9, 3, 6)


def test_class_folders_decode_as_the_real_sets_do(tmp_path):
    """Same pixels as bench.datasets.decode, the real sets' decoder."""
    class_folders(tmp_path / "pets", per_class=2, classes=("only",))
    dataset = load(tmp_path, {"builder": "imagefolder", "path": str(tmp_path / "pets"),
                              "per_class": [2, 0, 0]})
    expected = torch.stack([decode(p, 16) for p in sorted((tmp_path / "pets/only").glob("*g"))])
    assert torch.equal(dataset.train.images, expected)


def test_split_folders_keep_test_and_hold_val_out_of_train(tmp_path):
    split_folders(tmp_path / "xr")
    definition = {"builder": "imagefolder", "path": "xr", "layout": "split_folders",
                  "val_fraction": 0.2}
    dataset = load(tmp_path, definition)
    assert dataset.classes == CLASSES
    assert (len(dataset.train), len(dataset.val), len(dataset.test)) == (12, 3, 15)
    test_files = sorted((tmp_path / "xr/test").rglob("*.*g"))
    assert torch.equal(dataset.test.images, torch.stack([decode(p, 16) for p in test_files]))


def test_split_folders_with_a_val_folder_use_it(tmp_path):
    split_folders(tmp_path / "xr", splits=("train", "val", "test"), per_class=2)
    dataset = load(tmp_path, {"builder": "imagefolder", "path": "xr", "layout": "split_folders"})
    assert (len(dataset.train), len(dataset.val), len(dataset.test)) == (6, 6, 6)


# ---------------------------------------------------------------------------------------
# csv
# ---------------------------------------------------------------------------------------

def test_csv_with_split_column_relative_and_absolute_paths(tmp_path):
    listing = csv_list(tmp_path / "lists", with_split=True)
    dataset = load(tmp_path, {"builder": "csv", "path": "lists/list.csv"})
    rows = listing.read_text().splitlines()[1:]
    tests = [row for row in rows if row.endswith(",test")]
    assert dataset.classes == CLASSES
    assert len(dataset.test) == len(tests)
    assert len(dataset.train) + len(dataset.val) == len(rows) - len(tests) and len(dataset.val)


def test_csv_without_split_column_splits_like_class_folders(tmp_path):
    csv_list(tmp_path, with_split=False)
    from_csv = load(tmp_path, {"builder": "csv", "path": "list.csv", "per_class": [3, 1, 2]})
    from_folders = load(tmp_path, {"builder": "imagefolder", "path": "images",
                                   "per_class": [3, 1, 2]})
    for split in ("train", "val", "test"):
        assert torch.equal(getattr(from_csv, split).images, getattr(from_folders, split).images)


@pytest.mark.parametrize(("text", "words"), [
    ("file,label\na.png,cat\n", ["lacks column path", "path, label[, split]"]),
    ("path,label,split\nimages/cat/00.jpg,cat,holdout\n", ["row 2", "'holdout'", "train, val, test"]),
    ("path,label\nimages/cat/99.jpg,cat\n", ["1 file(s)", "99.jpg", "do not exist"]),
])
def test_bad_csv_names_the_file_and_the_problem(tmp_path, text, words):
    class_folders(tmp_path / "images")
    (tmp_path / "bad.csv").write_text(text)
    with pytest.raises(DatasetMissingError) as error:
        load(tmp_path, {"builder": "csv", "path": "bad.csv"})
    for word in words:
        assert word in str(error.value)


# ---------------------------------------------------------------------------------------
# Checked with the config: bad paths, wrong layouts, bad definitions
# ---------------------------------------------------------------------------------------

def config_with(definition: dict | None, name: str = "mine", **data) -> dict:
    """The tiny default config with one pair whose target is ``name``."""
    config = tiny_config()
    config["data"].update(data)
    if definition is not None:
        config["data"]["sets"] = {name: definition}
    config["pairs"] = {"own": {"source": "photos", "target": name, "target_labels": True}}
    config["data_efficiency"] = {"pairs": [], "strategies": [], "shots": []}
    return config


def config_error(config: dict) -> str:
    with pytest.raises(ConfigError) as error:
        check_sweep(config)
    return str(error.value)


def test_bad_path_names_the_key_and_the_path(tmp_path):
    missing = str(tmp_path / "nowhere")
    message = config_error(config_with({"builder": "imagefolder", "path": missing}))
    assert message == f"config key `data.sets.mine.path` = {missing!r}: no such folder"
    message = config_error(config_with({"builder": "csv", "path": "x.csv"}, root=str(tmp_path)))
    assert "`data.sets.mine.path` = 'x.csv': no such file" in message
    assert str(tmp_path / "x.csv") in message and "\n" not in message


@pytest.mark.parametrize(("layout", "make", "words"), [
    ("class_folders", split_folders, ["layout: split_folders", "PATH/CLASS/*.jpg"]),
    ("split_folders", class_folders, ["no train/ folder", "it holds cat, dog, owl",
                                      "PATH/train/CLASS/*.jpg"]),
])
def test_wrong_layout_says_the_expected_layout(tmp_path, layout, make, words):
    make(tmp_path / "data")
    message = config_error(config_with({"builder": "imagefolder", "path": str(tmp_path / "data"),
                                        "layout": layout}))
    for word in [f"`data.sets.mine.layout` = {layout!r}", str(tmp_path / "data"), *words]:
        assert word in message


def test_empty_class_folder_fails_naming_it(tmp_path):
    class_folders(tmp_path / "pets")
    (tmp_path / "pets" / "yak").mkdir()
    with pytest.raises(DatasetMissingError, match=r"empty class folder .*pets/yak"):
        load(tmp_path, {"builder": "imagefolder", "path": "pets"})


@pytest.mark.parametrize(("definition", "name", "words"), [
    ({"builder": "imagefolder", "path": "p", "wat": 1}, "mine",
     ["'wat'", "data.sets.mine", "layout", "per_class"]),
    ({"builder": "zip", "path": "p"}, "mine", ["data.sets.mine.builder", "'zip'", "imagefolder"]),
    ({"builder": "csv", "path": "p", "layout": "split_folders"}, "mine",
     ["`data.sets.mine.layout` is not an option of builder csv"]),
    ({"builder": "imagefolder", "path": "p"}, "digits", ["data.sets.digits", "built-in"]),
])
def test_bad_definition_names_the_key(tmp_path, definition, name, words):
    message = config_error(config_with(definition, name=name))
    for word in words:
        assert word in message, message


def test_split_option_of_the_other_kind_is_rejected(tmp_path):
    class_folders(tmp_path / "pets")
    message = config_error(config_with({"builder": "imagefolder", "path": str(tmp_path / "pets"),
                                        "val_fraction": 0.2}))
    assert "`data.sets.mine.val_fraction`" in message and "per_class" in message


def test_unknown_data_set_and_unknown_root_name_are_config_errors(tmp_path):
    assert "'mine' is not a data set" in config_error(config_with(None))
    config = config_with(None, name="digits", roots={"digitz": str(tmp_path)})
    assert "`data.roots.digitz` names no data set" in config_error(config)


# ---------------------------------------------------------------------------------------
# Roots, caching, listing, what a run is given
# ---------------------------------------------------------------------------------------

def test_a_run_gets_the_definition_and_the_data_sets_own_root(tmp_path):
    class_folders(tmp_path / "elsewhere" / "pets")
    config = config_with({"builder": "imagefolder", "path": "pets"},
                         roots={"mine": str(tmp_path / "elsewhere"), "photos": "/photos"})
    run = run_config(config, "own", "partial", 0)
    kwargs = run.data().load_kwargs("mine")
    assert kwargs["root"] == str(tmp_path / "elsewhere")
    assert kwargs["definition"] == {"builder": "imagefolder", "path": "pets"}
    assert run.data().load_kwargs("digits")["root"] == "data"  # no root of its own
    assert run.data().load_kwargs("photos")["root"] == "/photos"
    assert len(load_dataset("mine", 16, **kwargs).test) == 6
    class_folders(tmp_path / "copy" / "pets")
    moved = run_config({**config, "data": {**config["data"], "roots": {"mine": str(tmp_path / "copy")}}},
                       "own", "partial", 0)
    assert moved.config_hash() == run.config_hash()  # where files live is not the run


def test_editing_the_definition_rebuilds_the_cache(tmp_path):
    class_folders(tmp_path / "pets")
    first = {"builder": "imagefolder", "path": "pets", "per_class": [3, 1, 2]}
    edited = {**first, "per_class": [2, 2, 2]}
    keys = [cache_key(define("mine", d), 16, tmp_path, 0, {}) for d in (first, edited, first)]
    assert keys[0] != keys[1] and keys[0] == keys[2]
    cache = tmp_path / "cache"
    assert len(load(tmp_path, first, cache_dir=cache).train) == 9
    assert len(load(tmp_path, edited, cache_dir=cache).train) == 6
    assert len(list(cache.glob("mine-*.pt"))) == 2
    assert len(load(tmp_path, first, cache_dir=cache).train) == 9


def test_list_datasets_shows_a_configs_own_sets(tmp_path):
    class_folders(tmp_path / "pets")
    data = data_settings(config_with({"builder": "imagefolder", "path": "pets"},
                                     root=str(tmp_path)))
    row = list_datasets(data=data).set_index("name").loc["mine"]
    assert row["available"] and row[["train", "val", "test"]].tolist() == [9, 3, 6]
    assert "mine" not in set(list_datasets(tmp_path)["name"])


# ---------------------------------------------------------------------------------------
# Through `python -m bench run` and Snakemake
# ---------------------------------------------------------------------------------------

def own_data_config(tmp_path: Path) -> dict:
    """The tiny config with two pairs on an image folder (both layouts) and a CSV list.

    Own roots for two of them, an absolute CSV path for the third; ``data.root`` is empty.
    """
    class_folders(tmp_path / "own" / "pets")
    split_folders(tmp_path / "own" / "xr")
    csv_list(tmp_path / "own" / "listed", with_split=False)
    config = config_with(None, root=str(tmp_path / "nothing-here"),
                         roots={"pets": str(tmp_path / "own"), "xr": str(tmp_path / "own")})
    config["data"]["sets"] = {
        "pets": {"builder": "imagefolder", "path": "pets", "per_class": [3, 1, 2]},
        "xr": {"builder": "imagefolder", "path": "xr", "layout": "split_folders"},
        "listed": {"builder": "csv", "path": str(tmp_path / "own/listed/list.csv")}}
    config["pairs"] = {"pets-xr": {"source": "pets", "target": "xr", "target_labels": True},
                       "pets-listed": {"source": "pets", "target": "listed",
                                       "target_labels": False}}
    return config


def bench_run(config_file: Path, pair: str, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bench", "run", "--config", str(config_file),
                           "--pair", pair, "--strategy", "partial", "--seed", "0",
                           "--out", str(out), "--quiet"],
                          capture_output=True, text=True, cwd=REPO, timeout=600)


@pytest.mark.slow
def test_bench_run_trains_on_data_sets_defined_only_in_the_config(tmp_path):
    config = own_data_config(tmp_path)
    config_file = tmp_path / "own.yaml"
    config_file.write_text(yaml.safe_dump(config))
    for pair, classes in (("pets-xr", 3), ("pets-listed", 3)):
        result = bench_run(config_file, pair, tmp_path / f"{pair}.json")
        assert result.returncode == 0, result.stderr[-3000:]
        record = json.loads((tmp_path / f"{pair}.json").read_text())
        assert record["status"] == "ok", record["error"]
        assert record["data"]["num_classes"] == classes
    config["data"]["sets"]["xr"]["path"] = "xray"
    config_file.write_text(yaml.safe_dump(config))
    result = bench_run(config_file, "pets-xr", tmp_path / "bad.json")
    assert result.returncode == 2 and not (tmp_path / "bad.json").exists()
    assert result.stderr.strip().splitlines() == [
        f"python -m bench run: error: config key `data.sets.xr.path` = 'xray': no such folder "
        f"(resolved against the data root: {tmp_path / 'own' / 'xray'})"]


@pytest.mark.slow
def test_snakemake_sweeps_data_sets_defined_only_in_the_config(tmp_path):
    """Two runs (one strategy, one seed, 4 steps) over config.yaml, on three own sets."""
    from sweep import snakemake

    config = own_data_config(tmp_path)
    sweep = {key: config[key] for key in ("data", "pairs", "data_efficiency", "resolution")}
    sweep.update(strategies=["partial"], seeds=[0], results_dir="results/own",
                 train={"max_steps": 4, "eval_every": 4, "batch_size": 8})
    config_file = tmp_path / "own.yaml"
    config_file.write_text(yaml.safe_dump(sweep))
    workdir = tmp_path / "work"
    workdir.mkdir()
    result = snakemake(workdir, "--cores", "2", "results/own/summary.csv",
                       configfiles=(config_file,), timeout=1200)
    assert result.returncode == 0, result.stderr[-5000:]
    summary = pd.read_csv(workdir / "results/own/summary.csv")
    assert sorted(summary["pair"]) == ["pets-listed", "pets-xr"]
    assert list(summary["status"]) == ["ok", "ok"]
    prepared = sorted(p.name for p in (workdir / "results/own/cache/data").glob("*.prepared"))
    assert [p.split("-r")[0] for p in prepared] == ["listed", "pets", "xr"]
