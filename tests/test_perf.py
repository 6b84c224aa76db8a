"""The speed benchmark's sweep split (bench.perf.sweep_shares): one Snakemake benchmark
file per cell job, its wall time set against the cell's summed training seconds."""

import pandas as pd

from bench.layout import cell_benchmark_path
from bench.perf import sweep_shares


def test_sweep_shares_reads_one_benchmark_per_cell(tmp_path):
    summary = pd.DataFrame(
        [("p", "full", seed, "all", 2.0) for seed in (0, 1, 2)]
        + [("p", "full", seed, "5", 1.0) for seed in (0, 1, 2)]
        + [("p", "feature_extraction", seed, "all", 0.5) for seed in (0, 1, 2)],
        columns=["pair", "strategy", "seed", "shots", "train_seconds"])
    summary.to_csv(tmp_path / "summary.csv", index=False)
    for strategy, shots, wall in (("full", "all", 10.0), ("full", "5", 6.0),
                                  ("feature_extraction", "all", 5.5)):
        tsv = tmp_path.joinpath(cell_benchmark_path(".", "p", strategy, shots))
        tsv.parent.mkdir(parents=True, exist_ok=True)
        tsv.write_text(f"s\th:m:s\n{wall}\t0:00:{wall}\n")
    text = sweep_shares(tmp_path / "summary.csv")
    assert "9 runs in 3 cell jobs" in text
    table = text.splitlines()[2:]
    full = next(line for line in table if line.startswith("| full"))
    # 2 cells, 6 runs, 16 s of jobs, 9 s of training: 3.5 s per cell besides training.
    assert [cell.strip() for cell in full.strip("|").split("|")][1:6] == ["2.0", "6.0", "16.0", "9.0", "8.0"]
    assert full.split("|")[7].strip() == "3.5"
