"""Hardware-independent compute: the FLOPs of one training step and one evaluation pass.

Seconds depend on the machine, FLOPs do not: ``torch.utils.flop_counter.FlopCounterMode``
counts the floating-point operations of the matrix products and convolutions that one
training step (forward and backward, with the run's frozen and trainable stages) and one
evaluation forward pass dispatch. A run multiplies them by the images it trained and
evaluated on (bench.train). Counting runs one real step outside the training, so it is
measured once per configuration and process, and leaves the network as it found it:
its buffers (BatchNorm statistics), gradients, mode and the random number generators.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

import torch
from torch.utils.flop_counter import FlopCounterMode

# (configuration, frozen stages, batch shape) -> (training step FLOPs, forward FLOPs).
_MEASURED: dict[Hashable, tuple[int, int]] = {}


def measured_once(key: Hashable, count: Callable[[], tuple[int, int]]) -> tuple[int, int]:
    """``count()`` the first time ``key`` is asked for in this process; its result after."""
    if key not in _MEASURED:
        _MEASURED[key] = count()
    return _MEASURED[key]


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
