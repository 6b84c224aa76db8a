"""One run: ``RunConfig -> RunRecord``.

Train on the labelled split, pick the epoch by validation accuracy (never the test
set), report the selected model's test metrics and what training cost. Stages that a
strategy keeps frozen for the whole run are computed once, before the first epoch,
when augmentation is off; with augmentation on they still take no backward pass.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from bench.activations import EVAL_BATCH, ActivationCache, frozen_prefix, model_inputs
from bench.datasets import DATASETS
from bench.device import autocast, device_description, peak_host_rss_bytes, resolve_device
from bench.metrics import classification_metrics
from bench.models import create_backbone
from bench.protocol import Role, load_pair, select_roles
from bench.provenance import git_revision, library_versions
from bench.settings import RunConfig
from bench.strategies import STRATEGIES


def _batches(n: int, batch_size: int, generator: torch.Generator):
    """Shuffled index batches; a last batch of one is dropped (BatchNorm needs two)."""
    order = torch.randperm(n, generator=generator)
    for begin in range(0, n, batch_size):
        index = order[begin:begin + batch_size]
        if len(index) > 1:
            yield index


def _augment(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random crop (padding 1/8 of the side, reflect) and horizontal flip, per batch."""
    pad = max(1, x.shape[-1] // 8)
    padded = F.pad(x.float(), (pad, pad, pad, pad), mode="reflect").to(x.dtype)
    dy, dx = torch.randint(0, 2 * pad + 1, (2,), generator=generator).tolist()
    x = padded[..., dy:dy + x.shape[-2], dx:dx + x.shape[-1]]
    if torch.rand(1, generator=generator).item() < 0.5:
        x = x.flip(-1)
    return x


class Trainer:
    """Holds the device-side state of one run; :func:`run` is the entry point."""

    def __init__(self, config: RunConfig, progress: bool = True, cache_frozen: bool = True):
        self.config = config
        self.progress = progress
        # False runs frozen stages at every step (still without backward): only the speed
        # benchmark (bench.perf) turns this off, to measure what the cache saves.
        self.cache_frozen = cache_frozen
        self.device = resolve_device(config.device)
        self.cuda = self.device.type == "cuda"

    def _inputs(self, x: torch.Tensor, start: int) -> torch.Tensor:
        """Images -> normalised float; cached activations pass through."""
        return x if start > 0 else model_inputs(self.strategy.network.backbone, x)

    def _frozen_activations(self, role: Role, stop: int) -> tuple[torch.Tensor, str]:
        """A role's inputs to stage ``stop``: from the activation cache when it can be shared.

        Returns the tensor on the run's device and ``"hit"``, ``"computed"`` (the cache
        file was written by this run) or ``"not cached"`` (no cache folder, or random
        weights: a frozen random prefix is not shared between seeds).
        """
        backbone = self.strategy.network.backbone

        def compute(images):
            return frozen_prefix(backbone, images, stop, self.device)

        if not (self.config.cache_dir and self.weights):
            return compute(role.images), "not cached"
        cache = ActivationCache(self.config.cache_dir, self.config.backbone, self.weights,
                                self.config.resolution, self.config.split_seed,
                                self.config.data_options, self.device)
        activations, status = cache.get(role.dataset, role.split, stop, compute)
        if role.index is not None:
            activations = activations[role.index]
        return activations.to(self.device, non_blocking=True), status

    @torch.no_grad()
    def _predict(self, x: torch.Tensor, start: int) -> torch.Tensor:
        net = self.strategy.network
        net.eval()
        predictions = []
        for begin in range(0, len(x), EVAL_BATCH):
            with autocast(self.device):
                logits = net(self._inputs(x[begin:begin + EVAL_BATCH], start), start)
            predictions.append(logits.argmax(1))
        return torch.cat(predictions).cpu()

    def _roles(self) -> dict[str, Role]:
        config = self.config
        target, source = load_pair(config)
        roles = select_roles(config, target, source, STRATEGIES[config.strategy].uses_other_domain)
        self.num_classes = target.num_classes
        self.sizes = {role: len(r.labels) for role, r in roles.items()}
        self.sizes["num_classes"] = target.num_classes
        # Which split played which role: the record shows the protocol that ran.
        self.sizes["roles"] = {role: f"{r.dataset.name}/{r.split}" for role, r in roles.items()}
        for dataset in (target, source):
            if dataset is not None and dataset.info:
                self.sizes[f"{dataset.name}_info"] = dataset.info
        return roles

    def run(self) -> dict:
        config = self.config
        torch.manual_seed(config.seed)
        np.random.seed(config.seed)
        strategy_cls = STRATEGIES[config.strategy]
        roles = self._roles()
        backbone, self.weights = create_backbone(config.backbone, strategy_cls.pretrained)
        torch.manual_seed(config.seed)  # the head's initialisation depends on the seed alone
        self.strategy = strategy = strategy_cls(config, backbone, self.num_classes)
        net = strategy.network.to(self.device)
        # Channels-last: cuDNN's and oneDNN's fastest convolution layout; on this
        # project's 2-core CPU it trains EfficientNet-Lite0 1.8x faster than NCHW.
        net = net.to(memory_format=torch.channels_last)
        if self.cuda:
            torch.backends.cudnn.benchmark = True
            torch.cuda.reset_peak_memory_stats(self.device)

        started = time.perf_counter()
        start = strategy.always_frozen() if self.cache_frozen and not config.augment else 0
        net.set_frozen(start)
        net.eval()
        tensors, cache = {}, "none"
        for name, role in roles.items():
            if start:
                tensors[name], cache = self._frozen_activations(role, start)
            else:
                tensors[name] = role.images.to(self.device, non_blocking=True)
        train_y = roles["train"].labels.to(self.device)
        val_y, test_y = roles["val"].labels, roles["test"].labels
        precompute_seconds = time.perf_counter() - started

        groups = strategy.param_groups()
        import timm.optim  # late: only runs that train need it

        self.optimizer = optimizer = timm.optim.create_optimizer_v2(
            groups, opt=config.optimizer, lr=config.lr, weight_decay=config.weight_decay)
        steps_per_epoch = max(1, len(train_y) // config.batch_size
                              + (len(train_y) % config.batch_size > 1))
        total_steps = config.epochs * steps_per_epoch
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: 0.5 * (1 + math.cos(math.pi * min(step, total_steps)
                                                        / total_steps)))
        generator = torch.Generator().manual_seed(config.seed)

        history, best_val, best_state, best_epoch = [], -1.0, None, None
        status, diverged_epoch, train_images, train_seconds = "ok", None, 0, precompute_seconds
        last_mmd = None
        bar = tqdm(total=total_steps, disable=not self.progress, leave=False,
                   desc=f"{config.pair} {config.strategy} s{config.seed}", unit="batch")
        for epoch in range(config.epochs):
            epoch_started = time.perf_counter()
            net.set_frozen(max(start, strategy.frozen_stages(epoch)))
            net.train()
            losses, mmds = [], []
            for index in _batches(len(train_y), config.batch_size, generator):
                index = index.to(self.device)
                x = tensors["train"][index]
                if config.augment:
                    x = _augment(x, generator)
                other = None
                if strategy.uses_other_domain:
                    pick = torch.randint(0, len(tensors["other"]), (len(index),),
                                         generator=generator)
                    other = tensors["other"][pick.to(self.device)]
                    if config.augment:
                        other = _augment(other, generator)
                    other = self._inputs(other, start)
                with autocast(self.device):
                    loss, extras = strategy.loss(self._inputs(x, start), train_y[index], other,
                                                 start)
                if not torch.isfinite(loss):
                    status, diverged_epoch = "diverged", epoch + 1
                    break
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                scheduler.step()
                losses.append(loss.detach())
                if "mmd" in extras:
                    mmds.append(extras["mmd"])
                train_images += len(index)
                bar.update(1)
            train_seconds += time.perf_counter() - epoch_started
            if status == "diverged":
                break
            val_accuracy = float((self._predict(tensors["val"], start)
                                  == val_y).float().mean())
            last_mmd = float(torch.stack(mmds).mean()) if mmds else None
            history.append({"epoch": epoch + 1,
                            "train_loss": float(torch.stack(losses).mean()) if losses else None,
                            "val_accuracy": val_accuracy,
                            "seconds": time.perf_counter() - epoch_started, "mmd": last_mmd})
            bar.set_postfix(val=f"{val_accuracy:.3f}")
            if val_accuracy > best_val:  # strictly better: ties keep the earlier epoch
                best_val, best_epoch = val_accuracy, epoch + 1
                best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        bar.close()

        metrics = {**NO_METRICS, "mmd": last_mmd}
        if status == "ok":
            net.load_state_dict(best_state)
            predicted = self._predict(tensors["test"], start)
            metrics.update(classification_metrics(test_y, predicted, self.num_classes),
                           val_accuracy=best_val)
        trainable = {id(p) for g in groups for p in g["params"]}
        cost = {
            "train_seconds": train_seconds,
            "images_per_second": train_images / train_seconds if train_seconds > 0 else None,
            "peak_accelerator_bytes": (int(torch.cuda.max_memory_allocated(self.device))
                                       if self.cuda else None),
            "peak_host_rss_bytes": peak_host_rss_bytes(),
            "trainable_params": sum(p.numel() for p in net.parameters() if id(p) in trainable),
            "total_params": sum(p.numel() for p in net.parameters()),
            "train_images": train_images,
        }
        return make_record(
            self.config, pretrained=self.weights, status=status,
            error=f"non-finite loss in epoch {diverged_epoch}" if status == "diverged" else None,
            diverged_epoch=diverged_epoch, best_epoch=best_epoch, metrics=metrics,
            history=history, cost=cost, device=device_description(self.device),
            data={**self.sizes, "frozen_prefix_stages": start, "activation_cache": cache})


def run(config: RunConfig, progress: bool = True) -> dict:
    """Train and measure one run; returns its record (see run.schema.json).

    A diverged run (non-finite loss) returns status ``diverged``; other errors raise.
    """
    torch.set_num_threads(config.threads)
    return Trainer(config, progress).run()


# A record's metrics before (or without) an evaluation: every key, each null.
NO_METRICS = dict.fromkeys(("accuracy", "balanced_accuracy", "macro_f1", "val_accuracy", "mmd"))


def make_record(config: RunConfig, *, pretrained, status: str, error: str | None,
                diverged_epoch: int | None, best_epoch: int | None, metrics: dict,
                history: list, cost: dict, data: dict, device: str) -> dict:
    """A run record (run.schema.json): the run's config and provenance around its results."""
    return {
        "schema_version": 1,
        "pair": config.pair, "source": config.source, "target": config.target,
        "target_labels": config.target_labels, "synthetic": is_synthetic(config),
        "strategy": config.strategy, "seed": config.seed, "shots": config.shots,
        "backbone": config.backbone, "pretrained": pretrained,
        "resolution": config.resolution, "epochs": config.epochs,
        "hparams": config.hparams(), "status": status, "error": error,
        "diverged_epoch": diverged_epoch, "best_epoch": best_epoch,
        "metrics": metrics, "history": history, "cost": cost, "data": data, "device": device,
        "versions": library_versions(), "git_revision": git_revision(),
        "config_hash": config.config_hash(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def failed_record(config: RunConfig, error: BaseException) -> dict:
    """The record of a run that raised: every field present, metrics null."""
    return make_record(
        config, pretrained=None, status="failed", error=f"{type(error).__name__}: {error}",
        diverged_epoch=None, best_epoch=None,
        metrics=dict(NO_METRICS),
        history=[],
        cost={"train_seconds": 0.0, "images_per_second": None, "peak_accelerator_bytes": None,
              "peak_host_rss_bytes": peak_host_rss_bytes(), "trainable_params": 0,
              "total_params": 0, "train_images": 0},
        data={}, device="unknown")


def is_synthetic(config: RunConfig) -> bool:
    """True when the pair's source or target set is a generated stand-in."""
    return any(name in DATASETS and DATASETS[name].synthetic
               for name in (config.source, config.target))
