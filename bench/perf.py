"""Speed benchmark: ``python -m bench.perf [--summary results/summary.csv] | --compile``.

Measured in one process, side by side, so machine noise hits both sides alike:

1. harness overhead: a ``full`` run's training images/s divided by a bare PyTorch
   loop's (same network, batch size, resolution, optimiser, number of steps, data in
   memory);
2. feature extraction with the frozen-feature cache vs recomputing features every step,
   same seed and steps (accuracy must agree);
3. ``partial`` (``trainable_stages`` = 2) with the frozen-prefix cache vs without;
4. start-up: the fixed cost of a run (process start, imports, data, network, record:
   job wall time minus training and evaluation seconds) in a job of its own (``python -m bench run``)
   and amortised in a cell of several seeds (``python -m bench cell``), as the workflow
   runs them;
5. with ``--summary``, the sweep's time per pair cell and the fixed cost per run;

and what the channels-last memory layout buys over NCHW in the bare loop. ``--compile``
measures what ``torch.compile`` buys instead (:mod:`bench.perf_compile`).

Overhead compares training-loop images/s. The cache comparisons time whole runs
(training and evaluation: a cache also serves the validation and test passes), once
with a cold cache that the run computes itself, and once warm, as in a sweep where
every seed and shots budget after the first finds it.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F

from bench.activations import model_inputs
from bench.config import load_config, run_config
from bench.layout import cell_benchmark_path
from bench.models import create_backbone
from bench.optim import make_optimizer
from bench.perf_compile import compile_rows
from bench.protocol import load_pair, select_roles
from bench.strategies import STRATEGIES
from bench.train import Trainer

PAIR = "imagenet-synflowers"


def _config(base: dict, strategy: str, steps: int, cache_dir: str, seed: int = 0, **params):
    # Exactly ``steps`` steps (no early stopping): the compared runs do the same work.
    base = {**base, "train": {**base["train"], "max_steps": steps, "patience": 0,
                              "eval_every": min(steps, base["train"]["eval_every"])}}
    base["strategy_params"] = {**base.get("strategy_params", {}),
                               strategy: {**base.get("strategy_params", {}).get(strategy, {}),
                                          **params}}
    return run_config(base, PAIR, strategy, seed, cache_dir=cache_dir)


def bare_loop_images_per_second(config, steps: int, channels_last: bool = True) -> float:
    """The same training steps as ``full`` with nothing around them.

    In bench.train's channels-last layout, or NCHW to measure what that layout buys.
    """
    torch.manual_seed(0)
    target, source = load_pair(config)
    roles = select_roles(config, target, source, uses_other=False)
    images, labels = roles["train"].images, roles["train"].labels
    backbone, _ = create_backbone(config.backbone, pretrained=True, resolution=config.resolution)
    strategy = STRATEGIES["full"](config, backbone, target.num_classes)
    net = strategy.network
    if channels_last:
        net = net.to(memory_format=torch.channels_last)  # as bench.train does
    optimizer = make_optimizer(strategy, config)
    net.train()
    generator = torch.Generator().manual_seed(0)
    seen, started = 0, time.perf_counter()
    order = torch.randperm(len(labels), generator=generator)
    for step in range(steps):
        begin = (step * config.batch_size) % len(labels)
        index = order[begin:begin + config.batch_size]
        if len(index) < 2:
            index = order[:config.batch_size]
        x = model_inputs(backbone, images[index])
        if not channels_last:
            x = x.contiguous()
        loss = F.cross_entropy(net(x), labels[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        seen += len(index)
    return seen / (time.perf_counter() - started)


def _timed_run(config, cache_frozen: bool) -> tuple[float, dict]:
    """Wall seconds of a whole run (training and evaluation, data already cached)."""
    started = time.perf_counter()
    record = Trainer(config, progress=False, cache_frozen=cache_frozen).run()
    return time.perf_counter() - started, record


def sweep_shares(summary_csv: str | Path) -> str:
    """Item 5: where a finished sweep's time went, per pair cell, as Markdown.

    Job seconds are the wall time of each pair's cell job (every run of the pair,
    bench.cell) as Snakemake's ``benchmark:`` file beside the summary recorded it:
    process start-up, data loading, training, evaluation, records. Training seconds are
    the run records' own ``train_seconds``, summed over the pair; what is left over,
    per run, is the fixed cost a cell amortises.

    Args:
        summary_csv: the sweep's ``summary.csv``; its folder holds ``benchmarks/``.

    Returns:
        A headline and a Markdown table, pairs by job seconds, most first.
    """
    summary = pd.read_csv(summary_csv, dtype={"shots": str})
    results = Path(summary_csv).parent
    share = summary.groupby("pair").agg(runs=("seed", "size"),
                                        train_seconds=("train_seconds", "sum"))
    share["job_seconds"] = [_job_seconds(cell_benchmark_path(results, pair)) for pair in share.index]
    share["other_s_per_run"] = (share["job_seconds"] - share["train_seconds"]) / share["runs"]
    share["job_share_%"] = 100 * share["job_seconds"] / share["job_seconds"].sum()
    share = share.sort_values("job_seconds", ascending=False)
    job, train = share["job_seconds"].sum(), share["train_seconds"].sum()
    return (f"sweep time by pair cell ({summary_csv}: {len(summary)} runs in {len(share)} cell "
            f"jobs, {job / 60:.1f} min of cell jobs, {train / 60:.1f} min ({100 * train / job:.0f}%)"
            f" of it training, the rest start-up, data, evaluation and records):\n"
            + share.to_markdown(floatfmt=".1f"))


def _job_seconds(tsv: str) -> float:
    """Wall seconds of one job from its Snakemake benchmark file; NaN when it has none."""
    return pd.read_csv(tsv, sep="\t")["s"].iloc[0] if Path(tsv).exists() else float("nan")


Row = tuple[str, str, float]  # (measure, the two values, their ratio)


def _timed_command(base: dict, strategy: str, seeds: list[int], data_cache: str,
                   out: Path) -> tuple[float, float]:
    """Wall seconds of one ``python -m bench`` process training ``seeds``, and its runs' work.

    The work: each run's training and evaluation seconds (``train_seconds``,
    ``eval_seconds``); the rest of the wall time is the fixed cost.

    One seed: ``bench run``, a job of the one-run-per-job workflow; several: ``bench cell``.
    """
    records = [out / f"seed{seed}.json" for seed in seeds]
    command = ([sys.executable, "-m", "bench", "run", "--seed", str(seeds[0]), "--out", str(records[0])]
               if len(seeds) == 1 else
               [sys.executable, "-m", "bench", "cell", "--seeds", *map(str, seeds),
                "--out", *map(str, records)])
    command += ["--config-json", json.dumps(base), "--pair", PAIR, "--strategy", strategy,
                "--cache-dir", data_cache, "--threads", str(torch.get_num_threads()), "--quiet"]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    wall = time.perf_counter() - started
    costs = [json.loads(r.read_text())["cost"] for r in records]
    return wall, sum(cost["train_seconds"] + cost["eval_seconds"] for cost in costs)


def startup_rows(base: dict, cell_runs: int, data_cache: str) -> list[Row]:
    """Item 4: fixed seconds per run (wall − training − evaluation) alone ÷ amortised in a cell.

    The fixed cost is what a run pays whatever it trains: process start and imports,
    loading its data, building its network, counting its FLOPs, writing its record.
    Measured on processes started as the workflow starts them, after one unmeasured run
    that makes the data and activation caches (every job of a sweep finds them made),
    with 2 steps and one validation per run (their seconds are subtracted anyway).
    """
    base = {**base, "train": {**base["train"], "max_steps": 2, "patience": 0, "eval_every": 2}}
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for strategy in ("feature_extraction", "full"):
            _timed_command(base, strategy, [0], data_cache, Path(folder))  # warms the caches
            wall, train = _timed_command(base, strategy, [0], data_cache, Path(folder))
            alone = wall - train
            wall, train = _timed_command(base, strategy, list(range(cell_runs)), data_cache,
                                         Path(folder))
            amortised = (wall - train) / cell_runs
            rows.append((f"start-up, {strategy}: fixed s per run alone ÷ amortised in a cell "
                         f"of {cell_runs} (wall − training − evaluation)",
                         f"{alone:.2f} / {amortised:.2f}",
                         alone / amortised))
    return rows


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.perf", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="config.yaml")
    parser.add_argument("--steps", type=int, default=60,
                        help="optimiser steps per run, no early stopping (default 60: six "
                             "passes over the pair's ~300 training images)")
    parser.add_argument("--repeats", type=int, default=3, help="repeats of the overhead pair")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cell-runs", type=int, default=24,
                        help="runs in the start-up measurement's cell (item 4; default 24, "
                             "a default-sweep pair cell's 8 strategies x 3 seeds)")
    parser.add_argument("--summary", default=None, help="a sweep's summary.csv (item 5)")
    parser.add_argument("--compile", action="store_true",
                        help="instead of items 1-5: what torch.compile buys (bench.perf_compile)")
    parser.add_argument("--compile-mode", default="default",
                        help="torch.compile mode, e.g. max-autotune-no-cudagraphs")
    parser.add_argument("--compile-dynamic", choices=("auto", "false", "true"), default="auto",
                        help="torch.compile dynamic= (auto: None, static until a shape changes)")
    return parser.parse_args(argv)


def overhead_rows(base: dict, steps: int, repeats: int, data_cache: str) -> list[Row]:
    """Item 1 and the memory layout: harness ÷ bare loop, channels-last ÷ NCHW (img/s).

    Harness and bare loop alternate, ``repeats`` times each, best of each (timeit's
    rule: the fastest repeat is the least disturbed one). The first training in a
    process also pays one-off costs (oneDNN kernel selection, allocator growth), so an
    unmeasured warm-up run comes first.
    """
    full_config = _config(base, "full", steps, data_cache)
    Trainer(full_config, progress=False).run()
    harness, bare, nchw = 0.0, 0.0, 0.0
    for _ in range(repeats):
        full = Trainer(full_config, progress=False).run()
        harness = max(harness, full["cost"]["images_per_second"])
        bare = max(bare, bare_loop_images_per_second(full_config, full["steps"]))
        nchw = max(nchw, bare_loop_images_per_second(full_config, full["steps"],
                                                     channels_last=False))
    return [("harness overhead: full run img/s ÷ bare loop img/s",
             f"{harness:.1f} / {bare:.1f}", harness / bare),
            ("layout: bare loop img/s channels-last ÷ NCHW", f"{bare:.1f} / {nchw:.1f}",
             bare / nchw)]


def cache_rows(base: dict, steps: int, data_cache: str) -> list[Row]:
    """Items 2 and 3: whole-run seconds without the frozen cache ÷ with it, cold and warm.

    Each row also gives the accuracy gap to the uncached run, which must be zero.
    """
    rows = []
    for strategy, params in (("feature_extraction", {}), ("partial", {"trainable_stages": 2})):
        config = _config(base, strategy, steps, data_cache, **params)
        name = f"{strategy}{' k=2' if params else ''}"
        uncached_s, uncached = _timed_run(config, cache_frozen=False)
        # Cold: computing the activation cache is part of this run's time.
        shutil.rmtree(Path(data_cache) / "activations", ignore_errors=True)
        cold_s, cold = _timed_run(config, cache_frozen=True)
        # Warm: as in the sweep, where one job per pair computed it for every seed.
        warm_s, warm = _timed_run(config, cache_frozen=True)
        for label, seconds, record in (("cold cache", cold_s, cold), ("warm cache", warm_s, warm)):
            gap = 100 * abs(record["metrics"]["accuracy"] - uncached["metrics"]["accuracy"])
            rows.append((f"{name}, {label}: uncached s ÷ cached s (accuracy gap {gap:.2f} pt)",
                         f"{uncached_s:.2f} / {seconds:.2f}", uncached_s / seconds))
    return rows


def main(argv: list[str] | None = None) -> int:
    """Measure items 1-4 (and 5 with ``--summary``) and print them as Markdown tables."""
    args = _parse_args(argv)
    torch.set_num_threads(args.threads)
    base = load_config(args.config)
    if args.compile:
        return compile_report(base, args)
    with tempfile.TemporaryDirectory() as data_cache:
        # Warm the data set cache so neither side of a comparison pays data generation.
        load_pair(_config(base, "full", 1, data_cache))
        rows = (overhead_rows(base, args.steps, args.repeats, data_cache)
                + cache_rows(base, args.steps, data_cache)
                + startup_rows(base, args.cell_runs, data_cache))
    table = pd.DataFrame(rows, columns=["measure", "values", "ratio"])
    print(f"pair {PAIR}, {args.steps} steps, {args.threads} thread(s), "
          f"resolution {base['resolution']}")
    print(table.to_markdown(index=False, floatfmt=".2f"))
    if args.summary:
        print()
        print(sweep_shares(args.summary))
    return 0


def compile_report(base: dict, args: argparse.Namespace) -> int:
    """``--compile``: print bench.perf_compile's table for the config's defaults."""
    options = {"mode": args.compile_mode,
               "dynamic": {"auto": None, "false": False, "true": True}[args.compile_dynamic]}
    with tempfile.TemporaryDirectory() as data_cache:
        rows = compile_rows(lambda strategy, seed, params: _config(
            base, strategy, args.steps, data_cache, seed, **params),
            args.repeats, options)
    print(f"torch.compile {options}, pair {PAIR}, {args.steps} steps, {args.threads} "
          f"thread(s), resolution {base['resolution']}, batch {base['train']['batch_size']}")
    print(pd.DataFrame(rows).set_index("strategy").T.to_markdown(floatfmt=".2f"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
