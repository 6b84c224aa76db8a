"""Speed benchmark: ``python -m bench.perf [--summary results/summary.csv]``.

Measured in one process, side by side, so machine noise hits both sides alike:

1. harness overhead: a ``full`` run's training images/s divided by a bare PyTorch
   loop's (same network, batch size, resolution, optimiser, number of steps, data in
   memory);
2. feature extraction with the frozen-feature cache vs recomputing features every step,
   same seed and steps (accuracy must agree);
3. ``partial`` (``trainable_stages`` = 2) with the frozen-prefix cache vs without;
4. with ``--summary``, the sweep's time per strategy and its share;

and what the channels-last memory layout buys over NCHW in the bare loop.

Overhead compares training-loop images/s. The cache comparisons time whole runs
(training and evaluation: a cache also serves the validation and test passes), once
with a cold cache that the run computes itself, and once warm, as in a sweep where
every seed and shots budget after the first finds it.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F

from bench.activations import model_inputs
from bench.config import load_config, run_config
from bench.layout import run_benchmark_path
from bench.models import create_backbone
from bench.optim import make_optimizer
from bench.protocol import load_pair, select_roles
from bench.strategies import STRATEGIES
from bench.train import Trainer

PAIR = "imagenet-synflowers"


def _config(base: dict, strategy: str, steps: int, cache_dir: str, **params):
    # Exactly ``steps`` steps (no early stopping): the compared runs do the same work.
    base = {**base, "train": {**base["train"], "max_steps": steps, "patience": 0,
                              "eval_every": min(steps, base["train"]["eval_every"])}}
    base["strategy_params"] = {**base.get("strategy_params", {}),
                               strategy: {**base.get("strategy_params", {}).get(strategy, {}),
                                          **params}}
    return run_config(base, PAIR, strategy, 0, cache_dir=cache_dir)


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
    """Item 4: where a finished sweep's time went, per strategy, as Markdown.

    Job seconds are the wall time of each run job as Snakemake's ``benchmark:`` file
    beside the summary recorded it (process start-up, data loading, training,
    evaluation); training seconds are the run record's own ``train_seconds``.

    Args:
        summary_csv: the sweep's ``summary.csv``; its folder holds ``benchmarks/``.

    Returns:
        A headline and a Markdown table, strategies by job seconds, most first.
    """
    summary = pd.read_csv(summary_csv, dtype={"shots": str})
    results = Path(summary_csv).parent
    job_seconds = []
    for row in summary.itertuples():
        tsv = Path(run_benchmark_path(results, row.pair, row.strategy, row.seed, row.shots))
        job_seconds.append(pd.read_csv(tsv, sep="\t")["s"].iloc[0] if tsv.exists() else float("nan"))
    summary["job_seconds"] = job_seconds
    share = summary.groupby("strategy").agg(runs=("job_seconds", "size"),
                                            job_seconds=("job_seconds", "sum"),
                                            train_seconds=("train_seconds", "sum"))
    share["job_share_%"] = 100 * share["job_seconds"] / share["job_seconds"].sum()
    share["train_share_%"] = 100 * share["train_seconds"] / share["train_seconds"].sum()
    share = share.sort_values("job_seconds", ascending=False)
    return (f"sweep time by strategy ({summary_csv}: {len(summary)} runs, "
            f"{share['job_seconds'].sum() / 60:.1f} min of run jobs, "
            f"{share['train_seconds'].sum() / 60:.1f} min of it training):\n"
            + share.to_markdown(floatfmt=".1f"))


Row = tuple[str, str, float]  # (measure, the two values, their ratio)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.perf", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="config.yaml")
    parser.add_argument("--steps", type=int, default=60,
                        help="optimiser steps per run, no early stopping (default 60: six "
                             "passes over the pair's ~300 training images)")
    parser.add_argument("--repeats", type=int, default=3, help="repeats of the overhead pair")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--summary", default=None, help="a sweep's summary.csv (item 4)")
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
    """Measure items 1-3 (and 4 with ``--summary``) and print them as Markdown tables."""
    args = _parse_args(argv)
    torch.set_num_threads(args.threads)
    base = load_config(args.config)
    with tempfile.TemporaryDirectory() as data_cache:
        # Warm the data set cache so neither side of a comparison pays data generation.
        load_pair(_config(base, "full", 1, data_cache))
        rows = (overhead_rows(base, args.steps, args.repeats, data_cache)
                + cache_rows(base, args.steps, data_cache))
    table = pd.DataFrame(rows, columns=["measure", "values", "ratio"])
    print(f"pair {PAIR}, {args.steps} steps, {args.threads} thread(s), "
          f"resolution {base['resolution']}")
    print(table.to_markdown(index=False, floatfmt=".2f"))
    if args.summary:
        print()
        print(sweep_shares(args.summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
