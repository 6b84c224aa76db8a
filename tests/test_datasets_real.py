"""Real data set loaders, on tiny fixtures written in each set's published layout."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from scipy.io import savemat

from bench.datasets import DATASETS, DatasetMissingError, is_available, load_dataset
from bench.datasets.inspect import list_datasets
from bench.datasets.real import chest_patient, chest_xray_files

REAL = ["flowers102", "office31-amazon", "office31-webcam", "office31-dslr", "chest-xray",
        "pneumoniamnist"]


def write_jpeg(path: Path, seed: int, mode: str = "RGB", size: tuple[int, int] = (24, 18)):
    """A small random JPEG (non-square, so loaders must crop)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    shape = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
    Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode).save(path, "JPEG")


def truncated_jpeg(path: Path) -> None:
    buffer = io.BytesIO()
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(buffer, "JPEG")
    path.write_bytes(buffer.getvalue()[:60])


def jpeg_cut_mid_scan(path: Path, keep: float = 0.6) -> None:
    """A large noisy JPEG cut inside its scan data: the header is whole, so PIL opens it."""
    buffer = io.BytesIO()
    noise = np.random.default_rng(0).integers(0, 256, (192, 256, 3), dtype=np.uint8)
    Image.fromarray(noise).save(buffer, "JPEG", quality=95)
    data = buffer.getvalue()
    kept = data[:int(len(data) * keep)]
    assert b"\xff\xda" in kept and len(kept) - kept.index(b"\xff\xda") > 10_000  # mid-scan
    path.write_bytes(kept)
    with Image.open(path) as image:
        assert image.size == (256, 192)


def office_fixture(root: Path, domain: str = "amazon", classes=("back_pack", "bike", "mug"),
                   per_class: int = 6) -> Path:
    folder = root / "office31" / domain / "images"
    for c, name in enumerate(classes):
        for i in range(per_class):
            write_jpeg(folder / name / f"frame_{i:04d}.jpg", seed=100 * c + i)
    return folder


def chest_name(label: int, patient: int, image: int, source: str = "kaggle") -> str:
    """A file name as the download spells it: Kaggle's or Mendeley's."""
    if source == "mendeley":
        return f"{('NORMAL', 'BACTERIA', 'VIRUS')[label + image % 2 * label]}-{patient}-{image:04d}.jpeg"
    if label == 0:
        return f"{('IM', 'NORMAL2-IM')[patient % 2]}-{patient:04d}-{image:04d}.jpeg"
    return f"person{patient}_{('bacteria', 'virus')[image % 2]}_{image}.jpeg"


def chest_fixture(root: Path, splits=("train", "val", "test"), per_class: int = 3,
                  images: int = 1, source: str = "kaggle") -> Path:
    """``per_class`` patients per class and split, each with ``images`` X-rays.

    Every patient's X-rays are a flat grey of its own level, so a test tells the
    patients of a split from its decoded pixels (:func:`chest_levels`).
    """
    base = root / "chest_xray"
    patient = 0
    for split in splits:
        for c, name in enumerate(("NORMAL", "PNEUMONIA")):
            for _ in range(per_class):
                patient += 1
                for k in range(images):
                    path = base / split / name / chest_name(c, patient, k + 1, source)
                    path.parent.mkdir(parents=True, exist_ok=True)
                    Image.new("L", (24, 18), chest_level(patient)).save(path, "JPEG")
    return base


def chest_level(patient: int) -> int:
    assert patient <= 120
    return 10 + 2 * patient


def chest_levels(split) -> set[int]:
    """The grey levels, i.e. the fixture's patients, of a loaded split."""
    return set(split.images[:, 0].flatten(1).float().mean(1).round().int().tolist())


# ---------------------------------------------------------------------------------------
# Missing data
# ---------------------------------------------------------------------------------------

EXPECTED = {
    "flowers102": ["flowers-102/jpg", "imagelabels.mat", "setid.mat", "robots.ox.ac.uk",
                   "download=True"],
    "office31-amazon": ["office31/amazon/images/<class>/*.jpg", "domainadapt"],
    "office31-webcam": ["office31/webcam/images/<class>/*.jpg", "domainadapt"],
    "office31-dslr": ["office31/dslr/images/<class>/*.jpg", "domainadapt"],
    "chest-xray": ["chest_xray/{train,val,test}/{NORMAL,PNEUMONIA}/*.jpeg", "mendeley"],
    "pneumoniamnist": ["pneumoniamnist.npz", "train_images", "zenodo.org", "download=True"],
}


@pytest.mark.parametrize("name", REAL)
def test_missing_data_names_layout_source_and_config_key(tmp_path, name):
    assert not is_available(name, tmp_path)
    with pytest.raises(DatasetMissingError) as error:
        load_dataset(name, 16, root=tmp_path)
    message = str(error.value)
    for fragment in [*EXPECTED[name], "data.root", str(tmp_path), "https://"]:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert isinstance(error.value, FileNotFoundError)


# ---------------------------------------------------------------------------------------
# flowers102
# ---------------------------------------------------------------------------------------

@pytest.fixture
def flowers_root(tmp_path) -> Path:
    base = tmp_path / "flowers-102"
    for i in range(1, 10):
        write_jpeg(base / "jpg" / f"image_{i:05d}.jpg", seed=i)
    savemat(base / "imagelabels.mat", {"labels": np.array([[1, 1, 1, 2, 2, 2, 3, 3, 3]])})
    savemat(base / "setid.mat", {"trnid": np.array([[1, 4, 7]]), "valid": np.array([[2, 5, 8]]),
                                 "tstid": np.array([[3, 6, 9, 2]])})
    return tmp_path


@pytest.mark.filterwarnings("ignore:flowers102")  # the fixture has 3 of 102
def test_flowers102_official_splits(flowers_root):
    assert is_available("flowers102", flowers_root)
    dataset = load_dataset("flowers102", 16, root=flowers_root)
    assert dataset.num_classes == 102 and dataset.classes[0] == "pink primrose"
    assert len(dataset.info["classes_missing"]["train"]) == 99
    assert dataset.train.labels.tolist() == [0, 1, 2]
    assert dataset.test.labels.tolist() == [0, 1, 2, 0]
    assert tuple(dataset.train.images.shape) == (3, 3, 16, 16)
    assert dataset.train.images.dtype == torch.uint8 and not dataset.synthetic
    # Official splits: the split seed changes nothing.
    again = load_dataset("flowers102", 16, root=flowers_root, split_seed=5)
    assert torch.equal(again.test.images, dataset.test.images)
    assert DATASETS["flowers102"].sizes(root=flowers_root, split_seed=0) == (3, 3, 4)


@pytest.mark.filterwarnings("ignore:flowers102")
def test_flowers102_skips_a_corrupt_image(flowers_root):
    bad = flowers_root / "flowers-102" / "jpg" / "image_00006.jpg"
    truncated_jpeg(bad)
    dataset = load_dataset("flowers102", 16, root=flowers_root)
    assert dataset.info["skipped_files"] == [str(bad)]
    assert dataset.test.labels.tolist() == [0, 2, 0]


# ---------------------------------------------------------------------------------------
# office31
# ---------------------------------------------------------------------------------------

def test_office31_stratified_splits(tmp_path):
    office_fixture(tmp_path)
    assert is_available("office31-amazon", tmp_path)
    assert not is_available("office31-webcam", tmp_path)
    dataset = load_dataset("office31-amazon", 16, root=tmp_path)
    assert dataset.classes == ("back_pack", "bike", "mug")
    # 6 per class: test round(0.3 * 6) = 2, val max(1, round(0.6)) = 1, train the rest.
    for split, count in ((dataset.train, 3), (dataset.val, 1), (dataset.test, 2)):
        assert torch.bincount(split.labels).tolist() == [count] * 3
    assert "classes_missing" not in dataset.info and "skipped_files" not in dataset.info
    same = load_dataset("office31-amazon", 16, root=tmp_path, split_seed=0)
    other = load_dataset("office31-amazon", 16, root=tmp_path, split_seed=1)
    assert torch.equal(same.train.images, dataset.train.images)
    assert not torch.equal(other.test.images, dataset.test.images)
    images = [bytes(x) for s in (dataset.train, dataset.val, dataset.test)
              for x in s.images.flatten(1).numpy()]
    assert len(set(images)) == 18  # every file in exactly one split
    counts = load_dataset("office31-amazon", 16, root=tmp_path, per_class=(2, 2, 2))
    assert (len(counts.train), len(counts.val), len(counts.test)) == (6, 6, 6)
    assert DATASETS["office31-amazon"].sizes(root=tmp_path, split_seed=0) == (9, 3, 6)


def test_office31_bad_files_are_skipped_and_counted(tmp_path):
    folder = office_fixture(tmp_path)
    truncated_jpeg(folder / "bike" / "frame_0001.jpg")
    (folder / "mug" / "frame_0002.jpg").write_bytes(b"this is not an image")
    (folder / "mug" / ".DS_Store").write_bytes(b"junk")  # hidden, not an image: ignored
    dataset = load_dataset("office31-amazon", 16, root=tmp_path)
    assert sorted(dataset.info["skipped_files"]) == [str(folder / "bike" / "frame_0001.jpg"),
                                                     str(folder / "mug" / "frame_0002.jpg")]
    assert len(dataset.train) + len(dataset.val) + len(dataset.test) == 16


def test_office31_jpeg_truncated_mid_scan_is_skipped_and_listed(tmp_path):
    folder = office_fixture(tmp_path)
    bad = folder / "bike" / "frame_0003.jpg"
    jpeg_cut_mid_scan(bad)
    dataset = load_dataset("office31-amazon", 16, root=tmp_path)
    assert dataset.info["skipped_files"] == [str(bad)]
    assert len(dataset.train) + len(dataset.val) + len(dataset.test) == 17


def test_office31_class_of_unreadable_files_fails_naming_it(tmp_path):
    folder = office_fixture(tmp_path, per_class=2)
    for path in (folder / "bike").iterdir():
        truncated_jpeg(path)
    with pytest.raises(ValueError, match=r"no readable image in .*bike.*frame_000"):
        load_dataset("office31-amazon", 16, root=tmp_path)


def test_office31_grayscale_images_become_rgb(tmp_path):
    folder = office_fixture(tmp_path, classes=("back_pack", "mug"))
    for i in range(6):
        write_jpeg(folder / "mug" / f"frame_{i:04d}.jpg", seed=i, mode="L")
    dataset = load_dataset("office31-amazon", 16, root=tmp_path)
    mugs = torch.cat([s.images[s.labels == 1] for s in (dataset.train, dataset.val, dataset.test)])
    assert len(mugs) == 6 and mugs.shape[1] == 3
    assert torch.equal(mugs[:, 0], mugs[:, 1]) and torch.equal(mugs[:, 1], mugs[:, 2])


def test_office31_empty_class_folder_fails_naming_it(tmp_path):
    folder = office_fixture(tmp_path)
    (folder / "calculator").mkdir()
    with pytest.raises(ValueError, match=r"empty class folder .*calculator"):
        load_dataset("office31-amazon", 16, root=tmp_path)


def test_office31_tiny_classes_are_reported_missing_from_a_split(tmp_path):
    folder = office_fixture(tmp_path)
    for i in range(3):
        write_jpeg(folder / "pen" / f"frame_{i:04d}.jpg", seed=20 + i)
    # pen: test round(0.5 * 3) = 2, train 1, val the rest = 0.
    with pytest.warns(UserWarning, match="classes missing"):
        dataset = load_dataset("office31-amazon", 16, root=tmp_path, per_class=(1, None, 0.5))
    assert dataset.info["classes_missing"] == {"val": ["pen"]}
    (folder / "pen" / "frame_0002.jpg").unlink()
    # 2 images and the default (rest, 0.1, 0.3): one tested, one validated, none trained.
    with pytest.warns(UserWarning, match="classes missing"):
        dataset = load_dataset("office31-amazon", 16, root=tmp_path)
    assert dataset.info["classes_missing"] == {"train": ["pen"]}


# ---------------------------------------------------------------------------------------
# chest-xray
# ---------------------------------------------------------------------------------------

def test_chest_xray_test_folder_is_test_and_val_is_drawn_from_the_pool(tmp_path):
    chest_fixture(tmp_path)  # 3 patients per class in each of train/, val/, test/
    dataset = load_dataset("chest-xray", 16, root=tmp_path)
    assert dataset.classes == ("normal", "pneumonia")
    # Pool: 6 patients per class; val round(0.1 * 6) = 1 patient per class.
    assert torch.bincount(dataset.val.labels).tolist() == [1, 1]
    assert torch.bincount(dataset.train.labels).tolist() == [5, 5]
    assert dataset.test.labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert chest_levels(dataset.test) == {chest_level(p) for p in range(13, 19)}
    assert chest_levels(dataset.train) | chest_levels(dataset.val) == {
        chest_level(p) for p in range(1, 13)}
    assert torch.equal(dataset.test.images[:, 0], dataset.test.images[:, 2])  # grayscale as RGB
    assert DATASETS["chest-xray"].sizes(root=tmp_path, split_seed=0) == (10, 2, 6)


def test_chest_xray_class_missing_from_test_is_reported(tmp_path):
    base = chest_fixture(tmp_path)
    for path in (base / "test" / "PNEUMONIA").iterdir():
        path.unlink()
    (base / "test" / "PNEUMONIA").rmdir()
    with pytest.warns(UserWarning, match="pneumonia"):
        dataset = load_dataset("chest-xray", 16, root=tmp_path)
    assert dataset.info["classes_missing"] == {"test": ["pneumonia"]}
    assert dataset.test.labels.tolist() == [0, 0, 0]


def move_val_into_train(base: Path) -> None:
    """The Mendeley layout: no val/ folder, its files in train/."""
    for path in sorted((base / "val").rglob("*.jpeg")):
        path.rename(base / "train" / path.parent.name / path.name)
    for folder in sorted((base / "val").iterdir()):
        folder.rmdir()
    (base / "val").rmdir()


def test_chest_xray_with_or_without_val_folder_splits_the_same_pool_alike(tmp_path):
    kaggle = chest_fixture(tmp_path / "kaggle", per_class=10, images=2)
    move_val_into_train(chest_fixture(tmp_path / "mendeley", per_class=10, images=2))
    with_val = load_dataset("chest-xray", 16, root=tmp_path / "kaggle")
    without = load_dataset("chest-xray", 16, root=tmp_path / "mendeley")
    assert not (tmp_path / "mendeley" / "chest_xray" / "val").exists() and (kaggle / "val").is_dir()
    pool = {chest_level(p) for p in range(1, 41)}  # train/ and val/ patients, both classes
    for dataset in (with_val, without):
        # 20 patients per class in the pool: 2 per class validated, with both their images.
        assert torch.bincount(dataset.val.labels).tolist() == [4, 4]
        assert torch.bincount(dataset.train.labels).tolist() == [36, 36]
        assert chest_levels(dataset.val) | chest_levels(dataset.train) == pool
        assert chest_levels(dataset.test) == {chest_level(p) for p in range(41, 61)}
    # Same files, same patients: the split does not depend on the folder they came in.
    assert chest_levels(with_val.val) == chest_levels(without.val)
    facts = with_val.info["val_protocol"], without.info["val_protocol"]
    assert [f["official_val_merged"] for f in facts] == [True, False]
    assert [f["official_val_files"] for f in facts] == [40, 0]
    for fact in facts:
        assert fact["val_fraction"] == 0.1 and fact["grouped_by"] == "patient"
        assert fact["patients"] == {"train": 36, "val": 4, "test": 20}
        assert fact["files_without_patient_id"] == {"train": 0, "val": 0, "test": 0}
    assert DATASETS["chest-xray"].sizes(root=tmp_path / "mendeley", split_seed=0) == (72, 8, 40)
    wider = load_dataset("chest-xray", 16, root=tmp_path / "kaggle", val_fraction=0.25)
    assert torch.bincount(wider.val.labels).tolist() == [10, 10]  # 5 of 20 patients per class
    with pytest.raises(ValueError, match="fraction must be in"):
        load_dataset("chest-xray", 16, root=tmp_path / "kaggle", val_fraction=1.0)


@pytest.mark.parametrize("source", ["kaggle", "mendeley"])
@pytest.mark.parametrize("split_seed", [0, 1, 2])
def test_chest_xray_no_patient_in_both_train_and_val(tmp_path, source, split_seed):
    base = chest_fixture(tmp_path, per_class=12, images=3, source=source)
    if source == "mendeley":
        move_val_into_train(base)
        # A Mendeley patient id spans the classes: patient 1 also has a pneumonia X-ray.
        Image.new("L", (24, 18), chest_level(1)).save(
            base / "train" / "PNEUMONIA" / chest_name(1, 1, 9, source), "JPEG")
    splits, info = chest_xray_files(tmp_path, split_seed)
    patients = {split: {chest_patient(path) for path, _ in items} for split, items in splits.items()}
    assert None not in patients["train"] | patients["val"]
    assert not patients["train"] & patients["val"]
    assert len(patients["val"]) == info["val_protocol"]["patients"]["val"] > 0
    dataset = load_dataset("chest-xray", 16, root=tmp_path, split_seed=split_seed)
    assert not chest_levels(dataset.train) & chest_levels(dataset.val)
    assert len(dataset.val) == 3 * len(chest_levels(dataset.val)) + (
        chest_level(1) in chest_levels(dataset.val))  # every image of a validated patient


def test_chest_xray_split_seed_fixes_the_split(tmp_path):
    chest_fixture(tmp_path, per_class=10, images=2)
    dataset = load_dataset("chest-xray", 16, root=tmp_path, split_seed=0)
    same = load_dataset("chest-xray", 16, root=tmp_path, split_seed=0)
    other = load_dataset("chest-xray", 16, root=tmp_path, split_seed=1)
    assert torch.equal(same.val.images, dataset.val.images)
    assert torch.equal(same.train.images, dataset.train.images)
    assert chest_levels(other.val) != chest_levels(dataset.val)
    assert torch.equal(other.test.images, dataset.test.images)  # test is the test folder
    assert chest_xray_files(tmp_path, 1) == chest_xray_files(tmp_path, 1)


def test_chest_xray_file_without_patient_id_loads_as_its_own_group(tmp_path):
    base = chest_fixture(tmp_path, per_class=10)
    odd = [base / "train" / "NORMAL" / "scan.jpeg", base / "val" / "PNEUMONIA" / "IMG_0001.jpeg",
           base / "test" / "NORMAL" / "person_x.jpeg"]
    for i, path in enumerate(odd):
        Image.new("L", (24, 18), 5 + i).save(path, "JPEG")
    assert [chest_patient(path) for path in odd] == [None, None, None]
    dataset = load_dataset("chest-xray", 16, root=tmp_path)
    facts = dataset.info["val_protocol"]
    assert sum(facts["files_without_patient_id"].values()) == 3
    assert facts["files_without_patient_id"]["test"] == 1
    assert len(dataset.train) + len(dataset.val) == 40 + 2 and len(dataset.test) == 21
    assert {5, 6} <= chest_levels(dataset.train) | chest_levels(dataset.val)
    assert DATASETS["chest-xray"].sizes(root=tmp_path, split_seed=0) == (
        len(dataset.train), len(dataset.val), len(dataset.test))


@pytest.mark.parametrize("name, patient", [
    ("person1234_bacteria_3001.jpeg", "person1234"), ("person7_virus_13.jpeg", "person7"),
    ("IM-0115-0001.jpeg", "IM-115"), ("NORMAL2-IM-0115-0001.jpeg", "NORMAL2-IM-115"),
    ("NORMAL-1003233-0001.jpeg", "patient-1003233"), ("VIRUS-1003233-0002.jpeg", "patient-1003233"),
    ("BACTERIA-40699-0001.jpeg", "patient-40699"), ("scan.jpeg", None), ("IM-0115.jpeg", None)])
def test_chest_patient_ids_from_file_names(name, patient):
    assert chest_patient(Path("train/NORMAL") / name) == patient


def test_chest_xray_empty_class_folder_fails_naming_it(tmp_path):
    base = chest_fixture(tmp_path)
    for path in (base / "val" / "NORMAL").iterdir():
        path.unlink()
    with pytest.raises(ValueError, match=r"empty class folder .*val.NORMAL"):
        load_dataset("chest-xray", 16, root=tmp_path)


# ---------------------------------------------------------------------------------------
# pneumoniamnist
# ---------------------------------------------------------------------------------------

def test_pneumoniamnist_npz(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {}
    for split, n in (("train", 6), ("val", 2), ("test", 4)):
        arrays[f"{split}_images"] = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        arrays[f"{split}_labels"] = (np.arange(n) % 2).reshape(n, 1).astype(np.uint8)
    np.savez(tmp_path / "pneumoniamnist.npz", **arrays)
    assert is_available("pneumoniamnist", tmp_path)
    dataset = load_dataset("pneumoniamnist", 32, root=tmp_path)
    assert dataset.classes == ("normal", "pneumonia")
    assert tuple(dataset.train.images.shape) == (6, 3, 32, 32)
    assert dataset.test.labels.tolist() == [0, 1, 0, 1]
    assert DATASETS["pneumoniamnist"].sizes(root=tmp_path, split_seed=0) == (6, 2, 4)
    at_28 = load_dataset("pneumoniamnist", 28, root=tmp_path)
    assert torch.equal(at_28.train.images[:, 1], torch.from_numpy(arrays["train_images"]))


def test_pneumoniamnist_corrupt_npz_names_the_file(tmp_path):
    (tmp_path / "pneumoniamnist.npz").write_bytes(b"PK\x03\x04 broken")
    with pytest.raises(ValueError, match="pneumoniamnist.npz.*download it again"):
        load_dataset("pneumoniamnist", 16, root=tmp_path)


# ---------------------------------------------------------------------------------------
# Listing and caching real data
# ---------------------------------------------------------------------------------------

def test_list_datasets_counts_real_sets_without_decoding(tmp_path):
    office_fixture(tmp_path)
    row = list_datasets(tmp_path).set_index("name")
    assert row.loc["office31-amazon", "available"]
    assert (row.loc["office31-amazon", ["train", "val", "test"]].tolist()) == [9, 3, 6]
    assert not row.loc["office31-dslr", "available"]


def test_real_cache_is_keyed_by_root(tmp_path):
    office_fixture(tmp_path / "a")
    office_fixture(tmp_path / "b", classes=("mug", "pen"))
    a = load_dataset("office31-amazon", 16, root=tmp_path / "a", cache_dir=tmp_path / "cache")
    b = load_dataset("office31-amazon", 16, root=tmp_path / "b", cache_dir=tmp_path / "cache")
    assert a.classes == ("back_pack", "bike", "mug") and b.classes == ("mug", "pen")
    cached = load_dataset("office31-amazon", 16, root=tmp_path / "a", cache_dir=tmp_path / "cache")
    assert torch.equal(cached.train.images, a.train.images)
    assert len(list((tmp_path / "cache").glob("*.pt"))) == 2


@pytest.mark.parametrize("size", [28, 64, 128, 224])
def test_pneumoniamnist_download_uses_medmnists_url_and_checksum(tmp_path, monkeypatch, size):
    """Every size is fetched with medmnist's own URL and MD5 (the download itself mocked)."""
    medmnist_info = pytest.importorskip("medmnist.info")
    from torchvision.datasets import utils

    fetched = []

    def fake_download(url, root, filename, md5):
        fetched.append((url, filename, md5))
        arrays = {f"{split}_{part}": (np.zeros((2, size, size), np.uint8) if part == "images"
                                      else np.array([[0], [1]], np.uint8))
                  for split in ("train", "val", "test") for part in ("images", "labels")}
        np.savez(Path(root) / filename, **arrays)

    monkeypatch.setattr(utils, "download_url", fake_download)
    dataset = load_dataset("pneumoniamnist", 16, root=tmp_path / "new", size=size, download=True)
    info, flag = medmnist_info.INFO["pneumoniamnist"], "" if size == 28 else f"_{size}"
    assert fetched == [(info[f"url{flag}"], f"pneumoniamnist{flag}.npz", info[f"MD5{flag}"])]
    assert len(dataset.train) == 2
    load_dataset("pneumoniamnist", 16, root=tmp_path / "new", size=size, download=True)
    assert len(fetched) == 1  # a file already there is read, not fetched again


def test_pneumoniamnist_download_without_medmnist_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "medmnist", None)  # import medmnist -> ImportError
    with pytest.raises(DatasetMissingError, match=r"pip install 'tlbench\[medmnist\]'"):
        load_dataset("pneumoniamnist", 16, root=tmp_path, download=True)
@pytest.mark.parametrize("protocol", ["held_out", "standard"])
def test_office_protocols_on_the_published_layout(tmp_path, protocol):
    from bench.config import run_config
    from bench.train import run
    from tests.conftest import tiny_config

    for domain in ("amazon", "webcam"):
        office_fixture(tmp_path, domain)
    config = tiny_config()
    config["data"]["root"] = str(tmp_path)
    config["pairs"] = {"a-w": {"source": "office31-amazon", "target": "office31-webcam",
                               "target_labels": False, "protocol": protocol}}
    record = run(run_config(config, "a-w", "source_only", 0), progress=False)
    assert record["status"] == "ok", record["error"]
    target = load_dataset("office31-webcam", 32, root=str(tmp_path))
    source = load_dataset("office31-amazon", 32, root=str(tmp_path))
    sizes = {split: len(getattr(target, split).labels) for split in ("train", "val", "test")}
    source_sizes = {split: len(getattr(source, split).labels) for split in ("train", "val", "test")}
    data = record["data"]
    assert data["protocol"] == protocol and data["val"] == source_sizes["val"]
    if protocol == "standard":  # every target image adapted to and scored
        assert data["test"] == data["other"] == sum(sizes.values()) == 18
        assert data["train"] == source_sizes["train"] + source_sizes["test"]
        assert data["roles"]["test"] == "office31-webcam/train+val+test"
    else:
        assert (data["test"], data["other"]) == (sizes["test"], sizes["train"])
        assert data["train"] == source_sizes["train"]


def test_protocol_on_a_labelled_target_pair_names_the_key():
    from bench.config import ConfigError, run_config
    from tests.conftest import tiny_config

    config = tiny_config()
    config["pairs"]["imagenet-digits"]["protocol"] = "standard"
    with pytest.raises(ConfigError, match=r"`pairs.imagenet-digits.protocol` applies only"):
        run_config(config, "imagenet-digits", "full", 0)
