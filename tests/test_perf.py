"""The speed benchmark's sweep split (bench.perf.sweep_shares): one Snakemake benchmark
file per pair cell job, its wall time set against the pair's summed training seconds."""

import pandas as pd

from bench.layout import cell_benchmark_path
from bench.perf import sweep_shares


def test_sweep_shares_reads_one_benchmark_per_pair_cell(tmp_path):
    summary = pd.DataFrame(
        [("p", "full", seed, "all", 2.0) for seed in (0, 1, 2)]
        + [("p", "full", seed, "5", 1.0) for seed in (0, 1, 2)]
        + [("q", "feature_extraction", seed, "all", 0.5) for seed in (0, 1, 2)],
        columns=["pair", "strategy", "seed", "shots", "train_seconds"])
    summary.to_csv(tmp_path / "summary.csv", index=False)
    for pair, wall in (("p", 12.0), ("q", 5.5)):
        tsv = tmp_path.joinpath(cell_benchmark_path(".", pair))
        tsv.parent.mkdir(parents=True, exist_ok=True)
        tsv.write_text(f"s\th:m:s\n{wall}\t0:00:{wall}\n")
    text = sweep_shares(tmp_path / "summary.csv")
    assert "9 runs in 2 cell jobs" in text
    table = text.splitlines()[2:]
    row = next(line for line in table if line.startswith("| p"))
    # 6 runs, 9 s of training, 12 s of job: 0.5 s per run besides training, 68.6% of jobs.
    assert [cell.strip() for cell in row.strip("|").split("|")][1:] == ["6.0", "9.0", "12.0", "0.5", "68.6"]
