"""One run: ``RunConfig -> RunRecord``.

Train on the labelled split for at most ``train.max_steps`` optimiser steps, validate
every ``train.eval_every`` steps, keep the weights of the best validation accuracy
(never the test set) and stop early once ``train.patience`` validations in a row bring
nothing strictly better (:mod:`bench.convergence`); report the kept weights' test
metrics, whether the run converged, and what training cost. A budget in steps, not
epochs, as DomainBed's ``steps`` / ``checkpoint_freq``: it does not shrink with the
data, so a 1-shot run may take as many steps as a full one. Stages that a strategy
keeps frozen for the whole budget are computed once, before the first step, when
augmentation is off; with augmentation on they still take no backward pass.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import torch
from tqdm.auto import tqdm

from bench.activations import EVAL_BATCH, ActivationCache, Cached, frozen_prefix, model_inputs
from bench.augment import random_resized_crop_flip
from bench.convergence import converged, stop_early
from bench.datasets import DATASETS
from bench.device import (
    allocated_bytes,
    autocast,
    clock,
    device_description,
    peak_bytes,
    peak_host_rss_bytes,
    resolve_device,
    start_host_peak,
    start_peak,
)
from bench.flops import measured_once, step_flops
from bench.metrics import classification_metrics
from bench.models import create_backbone
from bench.optim import make_optimizer, make_scheduler
from bench.protocol import Role, load_pair, select_roles
from bench.provenance import git_revision, library_versions
from bench.settings import RunConfig
from bench.strategies import STRATEGIES

log = logging.getLogger(__name__)


def _batches(n: int, batch_size: int, generator: torch.Generator):
    """One epoch of shuffled index batches; a last batch of one is dropped (BatchNorm)."""
    order = torch.randperm(n, generator=generator)
    for begin in range(0, n, batch_size):
        index = order[begin:begin + batch_size]
        if len(index) > 1:
            yield index


def _endless_batches(n: int, batch_size: int, generator: torch.Generator):
    """Epoch after epoch of :func:`_batches` (DomainBed's ``InfiniteDataLoader``)."""
    if n < 2:
        raise ValueError(f"{n} training image(s): a training step needs at least 2")
    while True:
        yield from _batches(n, batch_size, generator)


@dataclass
class Inputs:
    """A run's tensors on its device, ready to train on.

    ``tensors`` maps each role to its images or, when the run caches its frozen prefix,
    to the activations entering stage ``applied`` (the leading stages already applied).
    """

    tensors: dict[str, torch.Tensor]
    train_labels: torch.Tensor  # on the run's device
    val_labels: torch.Tensor
    test_labels: torch.Tensor
    applied: int
    cache: str  # the activation cache's status: "none", "hit", "computed", "not cached"
    seconds: float  # spent making them, shared cache files this run computed excluded
    # The activation cache files read (shared with other runs): name -> what computing it took.
    cache_files: dict[str, Cached] = field(default_factory=dict)
    data_bytes: int | None = None  # accelerator memory the data holds; None on the CPU


@dataclass
class Fit:
    """What training produced: the history of evaluations and the best one's weights."""

    history: list = field(default_factory=list)
    best_val: float = -1.0
    best_step: int | None = None
    best_state: dict | None = None
    diverged_step: int | None = None
    steps: int = 0  # optimiser steps taken
    stop_reason: str = "budget"  # early_stop | budget | diverged (bench.convergence)
    train_images: int = 0
    train_seconds: float = 0.0
    eval_seconds: float = 0.0  # every validation and the test pass
    last_mmd: float | None = None

    @property
    def status(self) -> str:
        return "ok" if self.diverged_step is None else "diverged"

    def training(self) -> dict:
        """The record's fields on how training went and ended."""
        return {"steps": self.steps, "stop_reason": self.stop_reason,
                "converged": converged(self.history, self.stop_reason),
                "best_step": self.best_step, "diverged_step": self.diverged_step}


class Trainer:
    """One run, as named steps.

    The steps: build the network, prepare its inputs, make the optimizer, fit (train
    ``eval_every`` steps, validate, keep the best; stop early or at the budget), test,
    record. :func:`run` is the entry point.
    """

    def __init__(self, config: RunConfig, progress: bool = True, cache_frozen: bool = True):
        self.config = config
        self.progress = progress
        # False runs frozen stages at every step (still without backward): only the speed
        # benchmark (bench.perf) turns this off, to measure what the cache saves.
        self.cache_frozen = cache_frozen
        self.device = resolve_device(config.device)
        self.cuda = self.device.type == "cuda"
        self.name = (f"{config.pair} {config.strategy} seed {config.seed}"
                     + (f" shots {config.shots}" if config.shots else ""))  # in its log lines

    def run(self) -> dict:
        start_host_peak()  # the run's own peak, not an earlier run's of its cell
        roles = self._build()
        inputs = self._prepare_inputs(roles)
        self._optimizer()
        config = self.config
        log.info("%s: %d training images, up to %d steps (%d of warm-up), validating every "
                 "%d, patience %d, on %s", self.name, len(inputs.train_labels), config.max_steps,
                 config.warmup_steps, config.eval_every, config.patience,
                 device_description(self.device))
        fit = self._fit(inputs)
        return make_record(
            self.config, pretrained=self.weights, status=fit.status,
            error=f"non-finite loss at step {fit.diverged_step}" if fit.diverged_step else None,
            training=fit.training(),
            metrics=self._test(fit, inputs), history=fit.history, cost=self._cost(fit, inputs),
            device=device_description(self.device),
            data={**self.sizes, "frozen_prefix_stages": inputs.applied,
                  "activation_cache": inputs.cache})

    # ------------------------------------------------------------------------ steps

    def _build(self) -> dict[str, Role]:
        """Load the pair's splits and build the strategy's network on the device."""
        config = self.config
        torch.manual_seed(config.seed)
        np.random.seed(config.seed)
        strategy_cls = STRATEGIES[config.strategy]
        roles = self._roles()
        # A strategy that trains no stage shares one pretrained backbone per process. Not
        # on a GPU: the shared copy would stay resident there and count in the next
        # runs' accelerator peak.
        shared = strategy_cls.pretrained and not strategy_cls.trains_backbone and not self.cuda
        backbone, self.weights = create_backbone(config.backbone, strategy_cls.pretrained,
                                                 config.resolution, shared=shared)
        torch.manual_seed(config.seed)  # the head's initialisation depends on the seed alone
        self.strategy = strategy_cls(config, backbone, self.num_classes,
                                     self.sizes["shared_label_space"])
        if shared and self.strategy.always_frozen() < backbone.num_stages:
            raise TypeError(f"strategy {config.strategy!r} sets trains_backbone = False but "
                            f"trains backbone stages: it would change the shared backbone")
        # Channels-last: cuDNN's and oneDNN's fastest convolution layout
        # (docs/PERFORMANCE.md has the measurement).
        self.strategy.network.to(self.device).to(memory_format=torch.channels_last)
        if self.cuda:
            torch.backends.cudnn.benchmark = True
        return roles

    def _roles(self) -> dict[str, Role]:
        config = self.config
        target, source = load_pair(config)
        roles = select_roles(config, target, source, STRATEGIES[config.strategy].uses_other_domain)
        self.num_classes = target.num_classes
        self.sizes = {role: len(r.labels) for role, r in roles.items()}
        self.sizes["num_classes"] = target.num_classes
        self.sizes["shared_label_space"] = (source is not None
                                            and tuple(source.classes) == tuple(target.classes))
        # Which split played which role: the record shows the protocol that ran.
        self.sizes["roles"] = {role: f"{r.dataset.name}/{r.split}" for role, r in roles.items()}
        if not config.target_labels:
            self.sizes["protocol"] = config.protocol
        for dataset in (target, source):
            if dataset is not None and dataset.info:
                self.sizes[f"{dataset.name}_info"] = dataset.info
        return roles

    def _prepare_inputs(self, roles: dict[str, Role]) -> Inputs:
        """Every role's tensors on the device; the always-frozen prefix applied once.

        On a GPU the accelerator's peak is measured from here on: the data's residency
        is recorded apart (``data_bytes``), so the training peak is not mostly data.
        """
        started, before = clock(self.device), allocated_bytes(self.device)
        net = self.strategy.network
        applied = (self.strategy.always_frozen()
                   if self.cache_frozen and not self.config.augment else 0)
        net.set_frozen(applied)
        net.eval()
        tensors, cache, files = {}, "none", {}
        for name, role in roles.items():
            if applied:
                tensors[name], status, role_files = self._frozen_activations(role, applied)
                cache = "computed" if "computed" in (cache, status) else status  # any role's
                for file, cached in role_files.items():  # the first read is the one that computed
                    files.setdefault(file, cached)
            else:
                tensors[name] = role.images.to(self.device, non_blocking=True)
        train_labels = roles["train"].labels.to(self.device)
        data_bytes = None if before is None else allocated_bytes(self.device) - before
        start_peak(self.device)
        shared_work = sum(c.seconds for c in files.values() if c.status == "computed")
        return Inputs(tensors, train_labels, roles["val"].labels, roles["test"].labels, applied,
                      cache, clock(self.device) - started - shared_work, files, data_bytes)

    def _optimizer(self) -> None:
        """The config's timm optimizer (:mod:`bench.optim`) and its per-step schedule.

        The schedule spans the whole budget (``max_steps``) wherever early stopping ends
        the run.
        """
        self.optimizer = make_optimizer(self.strategy, self.config)
        self.groups = self.optimizer.param_groups
        self.scheduler = make_scheduler(self.optimizer, self.config)

    def _fit(self, inputs: Inputs) -> Fit:
        """Train ``eval_every`` steps at a time; validate after each, keep the best weights.

        Stops when patience runs out (:func:`bench.convergence.stop_early`), at the
        budget (``max_steps``), or at a non-finite loss. Strictly better only: ties keep
        the earlier evaluation. Logs one line per evaluation; the progress bar shows only
        on a terminal or in a notebook (tqdm's ``disable=None``), so a log file gets no carriage returns.
        """
        config = self.config
        generator = torch.Generator().manual_seed(config.seed)
        batches = _endless_batches(len(inputs.train_labels), config.batch_size, generator)
        fit, settled = Fit(), self.strategy.settled_step()
        bar = tqdm(total=config.max_steps, disable=None if self.progress else True,
                   leave=False, desc=self.name, unit="step")
        while fit.steps < config.max_steps:
            started = clock(self.device)
            steps = min(config.eval_every, config.max_steps - fit.steps)
            losses, mmds = self._train_interval(inputs, batches, steps, fit, generator, bar)
            fit.train_seconds += clock(self.device) - started
            if fit.diverged_step is not None:
                fit.stop_reason = "diverged"
                log.warning("%s: step %d/%d: non-finite loss, the run stops (diverged)",
                            self.name, fit.diverged_step, config.max_steps)
                break
            fit.last_mmd = float(torch.stack(mmds).mean()) if mmds else None
            self._end_interval(fit, {
                "step": fit.steps, "epoch": round(fit.train_images / len(inputs.train_labels), 3),
                "train_loss": _mean_loss(losses), "mmd": fit.last_mmd,
                "val_accuracy": self._accuracy(inputs.tensors["val"], inputs.val_labels,
                                               inputs.applied, fit),
                "seconds": clock(self.device) - started})  # validation included
            bar.set_postfix(val=f"{fit.history[-1]['val_accuracy']:.3f}")
            if fit.steps < config.max_steps and stop_early(fit.history, config.patience, settled):
                fit.stop_reason = "early_stop"
                break
        bar.close()
        return fit

    def _end_interval(self, fit: Fit, evaluation: dict) -> None:
        """Record and log an evaluation; keep the weights if they validate best so far."""
        fit.history.append(evaluation)
        loss = "-" if evaluation["train_loss"] is None else f"{evaluation['train_loss']:.4f}"
        log.info("%s: step %d/%d  train loss %s  val accuracy %.1f%%  %.1f s", self.name,
                 evaluation["step"], self.config.max_steps, loss,
                 100 * evaluation["val_accuracy"], evaluation["seconds"])
        if evaluation["val_accuracy"] > fit.best_val:
            fit.best_val, fit.best_step = evaluation["val_accuracy"], evaluation["step"]
            fit.best_state = {k: v.detach().clone()
                              for k, v in self.strategy.network.state_dict().items()}

    def _train_interval(self, inputs: Inputs, batches, steps: int, fit: Fit, generator, bar):
        """``steps`` optimiser steps on the next batches, counted in ``fit``.

        A non-finite loss sets ``fit.diverged_step`` and ends the interval. Freezes what
        the strategy's schedule says at each step. Returns [(loss, images)] and [mmd] of
        the steps taken.
        """
        config, strategy, applied = self.config, self.strategy, inputs.applied
        strategy.network.train()
        losses, mmds = [], []
        for _ in range(steps):
            frozen = max(applied, strategy.frozen_stages(fit.steps))
            if frozen != strategy.network.frozen:  # a mode switch costs (network.py)
                strategy.network.set_frozen(frozen)
            index = next(batches).to(self.device)
            x = inputs.tensors["train"][index]
            if config.augment:
                x = random_resized_crop_flip(x, generator)
            other = self._other_domain_batch(inputs, len(index), generator)
            with autocast(self.device):
                loss, extras = strategy.loss(self._inputs(x, applied),
                                             inputs.train_labels[index], other, applied)
            if not torch.isfinite(loss):
                fit.diverged_step = fit.steps + 1
                return losses, mmds
            self._step(loss)
            fit.steps, fit.train_images = fit.steps + 1, fit.train_images + len(index)
            losses.append((loss.detach(), len(index)))
            if "mmd" in extras:
                mmds.append(extras["mmd"])
            bar.update(1)
        return losses, mmds

    def _step(self, loss: torch.Tensor) -> None:
        """One optimiser step and one step of the learning-rate schedule."""
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.scheduler.step()

    def _other_domain_batch(self, inputs: Inputs, size: int, generator) -> torch.Tensor | None:
        """A random batch of the other domain's images, for strategies that adapt."""
        if not self.strategy.uses_other_domain:
            return None
        pick = torch.randint(0, len(inputs.tensors["other"]), (size,), generator=generator)
        other = inputs.tensors["other"][pick.to(self.device)]
        if self.config.augment:
            other = random_resized_crop_flip(other, generator)
        return self._inputs(other, inputs.applied)

    def _test(self, fit: Fit, inputs: Inputs) -> dict:
        """Test metrics of the best validation's weights (none for a diverged run)."""
        metrics = {**NO_METRICS, "mmd": fit.last_mmd}
        if fit.status == "ok":
            self.strategy.network.load_state_dict(fit.best_state)
            predicted = self._predict(inputs.tensors["test"], inputs.applied, fit)
            metrics.update(classification_metrics(inputs.test_labels, predicted, self.num_classes),
                           val_accuracy=fit.best_val)
        return metrics

    def _cost(self, fit: Fit, inputs: Inputs) -> dict:
        """What the run cost (run.schema.json ``cost``): its own work apart from shared work."""
        net = self.strategy.network
        trainable = {id(p) for g in self.groups for p in g["params"]}
        # Strategies that adapt take a batch of the other domain, as large, at every step.
        other_images = fit.train_images if self.strategy.uses_other_domain else 0
        seconds = [c.seconds for c in inputs.cache_files.values()]
        return {
            "train_seconds": fit.train_seconds,
            "eval_seconds": fit.eval_seconds,
            "prepare_seconds": inputs.seconds,
            "cache_seconds": None if None in seconds else sum(seconds),
            "cache_files": [{"file": file, "seconds": cached.seconds}
                            for file, cached in sorted(inputs.cache_files.items())],
            "images_per_second": ((fit.train_images + other_images) / fit.train_seconds
                                  if fit.train_seconds > 0 else None),
            "peak_accelerator_bytes": peak_bytes(self.device),  # before the FLOP count's step
            "data_accelerator_bytes": inputs.data_bytes,
            "peak_host_rss_bytes": peak_host_rss_bytes(),
            "trainable_params": sum(p.numel() for p in net.parameters() if id(p) in trainable),
            "total_params": sum(p.numel() for p in net.parameters()),
            "train_images": fit.train_images,
            "other_domain_images": other_images,
            **self._flops(fit, inputs),
        }

    def _flops(self, fit: Fit, inputs: Inputs) -> dict:
        """Training and evaluation FLOPs (:mod:`bench.flops`), from one counted step per setting.

        Each step's FLOPs per labelled image are those of its frozen setting (the
        strategy's schedule by step), times the images per step; evaluation: a forward
        pass over the validation split per evaluation and over the test split once.
        """
        taken = fit.steps + (fit.diverged_step is not None)
        if not taken:
            return {"train_flops": 0, "eval_flops": 0}
        size = min(self.config.batch_size, len(inputs.train_labels))
        batch = self._inputs(inputs.tensors["train"][:size], inputs.applied)
        other = (self._inputs(inputs.tensors["other"][:size], inputs.applied)
                 if self.strategy.uses_other_domain else None)
        labels = inputs.train_labels[:size]
        settings = Counter(max(inputs.applied, self.strategy.frozen_stages(step))
                           for step in range(taken))
        train = forward = 0.0
        for frozen, steps in settings.items():
            step, forward = measured_once(
                self._flops_key(frozen, batch),
                lambda f=frozen: self._count(f, batch, labels, other, inputs.applied),
                self.config.cache_dir)
            train += step / size * fit.train_images * steps / taken
        evaluated = len(inputs.val_labels) * len(fit.history)
        evaluated += len(inputs.test_labels) if fit.status == "ok" else 0
        return {"train_flops": int(train), "eval_flops": int(forward / size * evaluated)}

    def _flops_key(self, frozen: int, batch: torch.Tensor) -> tuple:
        """What one configuration's FLOPs per step depend on (the seed is not among them)."""
        return (self.config.backbone, self.config.strategy, self.num_classes,
                json.dumps(self.config.hparams(), sort_keys=True, default=str),
                frozen, tuple(batch.shape))

    def _count(self, frozen: int, batch, labels, other, applied: int) -> tuple[int, int]:
        """Count one training step's FLOPs with ``frozen`` leading stages frozen."""
        net = self.strategy.network
        previous = net.frozen
        net.set_frozen(frozen)
        try:
            return step_flops(self.strategy, batch, labels, other, applied)
        finally:
            net.set_frozen(previous)

    # ---------------------------------------------------------------------- helpers

    def _inputs(self, x: torch.Tensor, applied: int) -> torch.Tensor:
        """Images -> normalised float; activations of applied stages pass through."""
        return x if applied > 0 else model_inputs(self.strategy.network.backbone, x)

    def _frozen_activations(self, role: Role,
                            stop: int) -> tuple[torch.Tensor, str, dict[str, Cached]]:
        """A role's inputs to stage ``stop``: from the activation cache when it can be shared.

        Returns the tensor on the run's device; ``"hit"``, ``"computed"`` (the cache
        file was written by this run) or ``"not cached"`` (no cache folder, or random
        weights: a frozen random prefix is not shared between seeds); and the cache
        files read, by name.
        """
        backbone = self.strategy.network.backbone

        def compute(images):
            return frozen_prefix(backbone, images, stop, self.device)

        if not (self.config.cache_dir and self.weights):
            return compute(role.images), "not cached", {}
        cache = ActivationCache(self.config.cache_dir, self.config.backbone, self.weights,
                                self.config.resolution, self.config.split_seed,
                                self.config.data_options, self.device)
        # One cache file per split, shared by the roles that join it with others.
        parts = [cache.get(role.dataset, part, stop, compute) for part in role.parts]
        activations = torch.cat([part.activations for part in parts])
        status = "computed" if any(part.status == "computed" for part in parts) else "hit"
        if role.index is not None:
            activations = activations[role.index]
        return (activations.to(self.device, non_blocking=True), status,
                {part.file: part for part in parts})

    @torch.no_grad()
    def _predict(self, x: torch.Tensor, applied: int, fit: Fit) -> torch.Tensor:
        """Predicted classes of ``x``; the seconds it took count as ``fit``'s evaluation."""
        started = clock(self.device)
        net = self.strategy.network
        net.eval()
        predictions = []
        for begin in range(0, len(x), EVAL_BATCH):
            with autocast(self.device):
                logits = net(self._inputs(x[begin:begin + EVAL_BATCH], applied), applied)
            predictions.append(logits.argmax(1))
        predicted = torch.cat(predictions).cpu()
        fit.eval_seconds += clock(self.device) - started
        return predicted

    def _accuracy(self, x: torch.Tensor, labels: torch.Tensor, applied: int, fit: Fit) -> float:
        return float((self._predict(x, applied, fit) == labels).float().mean())


def _mean_loss(losses: list[tuple[torch.Tensor, int]]) -> float | None:
    """Mean of the steps' losses, each step weighing the same."""
    return float(torch.stack([loss for loss, _ in losses]).mean()) if losses else None


def run(config: RunConfig, progress: bool = True) -> dict:
    """Train and measure one run; returns its record (see run.schema.json).

    A diverged run (non-finite loss) returns status ``diverged``; other errors raise.
    """
    torch.set_num_threads(config.threads)
    return Trainer(config, progress).run()


# A record's metrics before (or without) an evaluation: every key, each null.
NO_METRICS = dict.fromkeys(("accuracy", "balanced_accuracy", "macro_f1", "val_accuracy", "mmd"))


def make_record(config: RunConfig, *, pretrained, status: str, error: str | None,
                training: dict, metrics: dict, history: list, cost: dict, data: dict,
                device: str) -> dict:
    """A run record (run.schema.json): the run's config and provenance around its results.

    ``training``: how training went and ended (:meth:`Fit.training`'s keys).
    """
    return {
        "schema_version": 2,
        "pair": config.pair, "source": config.source, "target": config.target,
        "target_labels": config.target_labels, "synthetic": is_synthetic(config),
        "strategy": config.strategy, "seed": config.seed, "shots": config.shots,
        "backbone": config.backbone, "pretrained": pretrained,
        "resolution": config.resolution, "max_steps": config.max_steps,
        "hparams": config.hparams(), "status": status, "error": error, **training,
        "metrics": metrics, "history": history, "cost": cost, "data": data, "device": device,
        "versions": dict(library_versions()), "git_revision": git_revision(),
        "config_hash": config.config_hash(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def failed_record(config: RunConfig, error: BaseException) -> dict:
    """The record of a run that raised: every field present, metrics null."""
    return make_record(
        config, pretrained=None, status="failed", error=f"{type(error).__name__}: {error}",
        training={"steps": 0, "stop_reason": None, "converged": False, "best_step": None,
                  "diverged_step": None},
        metrics=dict(NO_METRICS),
        history=[],
        cost={"train_seconds": 0.0, "eval_seconds": 0.0, "prepare_seconds": 0.0, "cache_seconds": 0.0,
              "cache_files": [], "images_per_second": None, "peak_accelerator_bytes": None,
              "data_accelerator_bytes": None, "peak_host_rss_bytes": peak_host_rss_bytes(),
              "trainable_params": 0, "total_params": 0, "train_images": 0,
              "other_domain_images": 0, "train_flops": 0, "eval_flops": 0},
        data={}, device="unknown")


def is_synthetic(config: RunConfig) -> bool:
    """True when the pair's source or target set is a generated stand-in."""
    return any(name in DATASETS and DATASETS[name].synthetic
               for name in (config.source, config.target))
