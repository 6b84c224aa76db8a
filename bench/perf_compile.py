"""What ``torch.compile`` buys a run: ``python -m bench.perf --compile``.

For ``full``, ``scratch`` and ``partial`` (``trainable_stages`` = 2, on the cached frozen
prefix) at the config's resolution, batch size and optimiser, in one process:

- the first compiled epoch, whose extra time over the steady compiled steps is the
  compile time (the last, smaller batch of an epoch compiles a graph of its own);
- steady step times, eager and compiled, alternating epoch by epoch so that load on a
  shared machine hits both alike, medians of full-size batches;
- a second compiled network (the next seed of a cell): its extra first-epoch time and
  the graphs Dynamo compiled for it (none when the kernels are reused);
- the break-even number of steps (compile seconds ÷ seconds saved per step) and the
  end-to-end training time of one run and of a 3-seed cell, eager and compiled.

Only the training steps are timed: a compiled network's validation and test passes
(no gradient, other batch sizes) compile further graphs of their own, which only adds
to the compiled side. Inductor writes its kernels to a fresh cache folder, so the first
strategy's compile is cold; ``scratch`` runs after ``full`` and finds the same graph in
that folder, as every cell after a sweep's first would.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time

import torch
import torch._dynamo

from bench.train import Trainer

CELL_SEEDS = 3
TIMED = (("full", {}), ("scratch", {}), ("partial", {"trainable_stages": 2}))


class Stepper:
    """A run's network, inputs and optimiser, stepped epoch by epoch as bench.train does."""

    def __init__(self, config, compile_options: dict | None):
        self.trainer = Trainer(config, progress=False)
        self.inputs = self.trainer._prepare_inputs(self.trainer._build())
        self.trainer._optimizer()
        self.optimizer = self.trainer.optimizer
        self.network = self.trainer.strategy.network
        if compile_options is not None:
            self.network.compile(**compile_options)
        self.network.set_frozen(self.inputs.applied)
        self.generator = torch.Generator().manual_seed(config.seed)

    def epoch(self) -> list[tuple[int, float]]:
        """One pass over the training split: [(batch size, seconds)] per step."""
        trainer, inputs, applied = self.trainer, self.inputs, self.inputs.applied
        self.network.train()
        steps = []
        order = torch.randperm(len(inputs.train_labels), generator=self.generator)
        # bench.train's batches: the last one smaller (its own graph), one of one dropped.
        for index in (i for i in order.split(trainer.config.batch_size) if len(i) > 1):
            started = time.perf_counter()
            x = trainer._inputs(inputs.tensors["train"][index], applied)
            loss, _ = trainer.strategy.loss(x, inputs.train_labels[index], None, applied)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            steps.append((len(index), time.perf_counter() - started))
        return steps


def _steady(epochs: list[list[tuple[int, float]]], batch_size: int) -> float:
    """Median seconds of the full-size steps."""
    return statistics.median(s for epoch in epochs for n, s in epoch if n == batch_size)


def _first_epoch(stepper: Stepper, steady: float) -> tuple[float, int]:
    """Extra seconds of a compiled network's first epoch over steady steps, graphs compiled."""
    graphs = torch._dynamo.utils.counters["stats"]["unique_graphs"]
    steps = stepper.epoch()
    extra = sum(s for _, s in steps) - steady * len(steps)
    return extra, torch._dynamo.utils.counters["stats"]["unique_graphs"] - graphs


def measure(config_of, strategy: str, params: dict, repeats: int, options: dict) -> dict:
    """One strategy's eager and compiled step times, compile seconds and what they add up to.

    Args:
        config_of: (strategy, seed, params) -> RunConfig.
        strategy: the strategy's name.
        params: its settings (``strategy_params``).
        repeats: eager/compiled epoch pairs timed after the first compiled epoch.
        options: keyword arguments of ``torch.compile``.
    """
    config = config_of(strategy, 0, params)
    eager, compiled = Stepper(config, None), Stepper(config, options)
    eager.epoch()  # the eager side's one-off costs (oneDNN kernel selection, allocator)
    graphs = torch._dynamo.utils.counters["stats"]["unique_graphs"]
    first = compiled.epoch()
    graphs = torch._dynamo.utils.counters["stats"]["unique_graphs"] - graphs
    eager_epochs, compiled_epochs = [], []
    for _ in range(repeats):
        eager_epochs.append(eager.epoch())
        compiled_epochs.append(compiled.epoch())
    batch = config.batch_size
    eager_s, compiled_s = _steady(eager_epochs, batch), _steady(compiled_epochs, batch)
    compile_s = sum(s for _, s in first) - compiled_s * len(first)
    next_seed_s, next_seed_graphs = _first_epoch(Stepper(config_of(strategy, 1, params),
                                                         options), compiled_s)
    steps = config.max_steps  # the budget: the most steps a run takes
    saved = eager_s - compiled_s
    cell_compile = compile_s + (CELL_SEEDS - 1) * max(next_seed_s, 0.0)
    return {"strategy": strategy, "graphs": graphs, "eager step s": eager_s,
            "compiled step s": compiled_s, "compile s": compile_s,
            "next seed: extra s": next_seed_s, "next seed: new graphs": next_seed_graphs,
            "break-even steps": compile_s / saved if saved > 0 else float("inf"),
            "run steps": steps, "run s eager": steps * eager_s,
            "run s compiled": compile_s + steps * compiled_s,
            "cell s eager": CELL_SEEDS * steps * eager_s,
            "cell s compiled": cell_compile + CELL_SEEDS * steps * compiled_s}


def compile_rows(config_of, repeats: int, options: dict) -> list[dict]:
    """:func:`measure` for ``full``, ``scratch``, ``partial``; one fresh on-disk kernel cache.

    Dynamo's in-memory cache is reset before each strategy, as a cell's own process
    would start; inductor's on-disk cache is kept, as a sweep's cells share it.
    """
    rows = []
    with tempfile.TemporaryDirectory() as kernels:
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = kernels
        for strategy, params in TIMED:
            torch._dynamo.reset()  # as a new cell's process: nothing compiled in memory
            rows.append(measure(config_of, strategy, params, repeats, options))
    return rows
