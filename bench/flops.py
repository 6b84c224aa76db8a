"""Hardware-independent compute: the FLOPs of one training step and one evaluation pass.

Seconds depend on the machine, FLOPs do not: ``torch.utils.flop_counter.FlopCounterMode``
counts the floating-point operations of the matrix products and convolutions that one
training step (forward and backward, with the run's frozen and trainable stages) and one
evaluation forward pass dispatch. A run multiplies them by the images it trained and
evaluated on (bench.train). Counting runs one real step outside the training, and leaves
the network as it found it: its buffers (BatchNorm statistics), gradients, mode and the
random number generators. It is measured once per configuration: once per process, and,
given a folder, once per code (a file per configuration and code fingerprint, read by
every later process -- the pairs of a sweep with the same class count and a tuning
trial's defaults share a count; in the CI sweep counting was a quarter of a 4-step run).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from bench.io import read_json, write_atomic

# (configuration, frozen stages, batch shape) -> (training step FLOPs, forward FLOPs).
_MEASURED: dict[tuple, tuple[int, int]] = {}


def measured_once(key: tuple, count: Callable[[], tuple[int, int]],
                  folder: str | Path | None = None) -> tuple[int, int]:
    """``count()`` the first time ``key`` is asked for; its result after.

    Kept in this process and, with ``folder``, in ``folder/flops/`` for every process of
    the same code (:func:`bench.provenance.code_fingerprint`).
    """
    if key not in _MEASURED:
        path = None if folder is None else Path(folder) / "flops" / f"{_digest(key)}.json"
        stored = None if path is None else _read_count(path)
        _MEASURED[key] = stored or count()
        if path is not None and stored is None:
            write_atomic(path, json.dumps({"key": list(key), "flops": _MEASURED[key]}, default=str))
    return _MEASURED[key]


def _read_count(path: Path) -> tuple[int, int] | None:
    """A stored count; None when there is none or it is unreadable (it is counted again)."""
    try:
        return tuple(read_json(path)["flops"])
    except (OSError, ValueError, KeyError):
        return None


def _digest(key: tuple) -> str:
    """The file name of a count: the configuration's key and the code that counted it."""
    text = json.dumps([list(key), _code()], default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@functools.cache
def _code() -> str:
    from bench.provenance import code_fingerprint  # hashes every source: once per process

    return code_fingerprint()


def step_flops(strategy, x: torch.Tensor, labels: torch.Tensor, other: torch.Tensor | None,
               applied: int) -> tuple[int, int]:
    """FLOPs of one training step on this batch, and of evaluating it (forward only).

    Args:
        strategy: the run's strategy, its network frozen as in the step to count.
        x: the batch's inputs to stage ``applied``.
        labels: the batch's labels.
        other: the other domain's batch, for strategies that adapt (else None).
        applied: how many leading stages ``x`` has been through (not counted).

    Returns:
        (forward + backward FLOPs of the loss, forward FLOPs in eval mode), no optimizer
        step: an optimizer's element-wise update is not a FLOP FlopCounterMode counts.
    """
    net = strategy.network
    saved = {name: buffer.detach().clone() for name, buffer in net.named_buffers()}
    was_training = net.training
    with torch.random.fork_rng(devices=[x.device] if x.device.type == "cuda" else []):
        net.train()
        with FlopCounterMode(display=False) as counter:
            loss, _ = strategy.loss(x, labels, other, applied)
            loss.backward()
        train = counter.get_total_flops()
        net.eval()
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            net(x, applied)
        forward = counter.get_total_flops()
    net.zero_grad(set_to_none=True)
    with torch.no_grad():
        for name, buffer in net.named_buffers():
            buffer.copy_(saved[name])
    net.train(was_training)
    return int(train), int(forward)
