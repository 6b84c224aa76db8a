"""Multi-kernel maximum mean discrepancy (MK-MMD), as in DAN (Long et al., ICML 2015).

The kernel is a sum of Gaussians ``k(a, b) = sum_alpha exp(-|a - b|^2 / (2 alpha sigma^2))``
whose bandwidth ``sigma^2`` is the mean pairwise squared distance over the pooled batch
(detached, so the bandwidth follows the data but is not itself optimised).
"""

from __future__ import annotations

import torch

DEFAULT_ALPHAS = (0.125, 0.25, 0.5, 1.0, 2.0)


def _squared_distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(M, D), (N, D) -> (M, N) squared Euclidean distances.

    Expanded rather than ``cdist(...)**2`` because cdist's square root has no gradient
    at distance 0, which every diagonal of a within-sample matrix hits.
    """
    return (a.pow(2).sum(1, keepdim=True) + b.pow(2).sum(1) - 2.0 * a @ b.T).clamp_min(0.0)


def _bandwidth(pooled: torch.Tensor) -> torch.Tensor:
    """Mean squared distance over distinct pairs of ``pooled`` (N, D); detached scalar."""
    n = pooled.shape[0]
    distances = _squared_distances(pooled, pooled)
    return (distances.sum() / (n * n - n)).detach().clamp_min(1e-12)


def _kernel(squared_distance: torch.Tensor, sigma2: torch.Tensor, alphas) -> torch.Tensor:
    return sum(torch.exp(-squared_distance / (2.0 * a * sigma2)) for a in alphas)


def mk_mmd(x: torch.Tensor, y: torch.Tensor, alphas=DEFAULT_ALPHAS,
           linear: bool = False) -> torch.Tensor:
    """MK-MMD^2 between samples ``x`` (M, D) and ``y`` (N, D); a differentiable scalar.

    ``linear=False``: the unbiased quadratic-time estimator (needs M, N >= 2).
    ``linear=True``: the linear-time estimator over quadruples
    ``(x_2i, x_2i+1, y_2i, y_2i+1)``; uses the first ``2 * min(M, N) // 2`` rows of each.
    Computed in float32 whatever the inputs' dtype and the autocast state.
    """
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y must be (M, D) and (N, D), got {tuple(x.shape)}, {tuple(y.shape)}")
    if min(x.shape[0], y.shape[0]) < 2:
        raise ValueError("MK-MMD needs at least 2 samples on each side")
    # Always float32, autocast or not: under bf16 autocast (a GPU run's loss) the
    # ``|a|^2 + |b|^2 - 2 a.b`` expansion cancels catastrophically in bf16's 8-bit mantissa,
    # which shifts the bandwidth by ~20% and can flip the sign of a near-zero (aligned) MMD.
    # ``.float()`` alone is not enough: autocast would cast the matmul back to bf16.
    with torch.autocast(device_type=x.device.type, enabled=False):
        return _mk_mmd_float32(x.float(), y.float(), alphas, linear)


def _mk_mmd_float32(x: torch.Tensor, y: torch.Tensor, alphas, linear: bool) -> torch.Tensor:
    """:func:`mk_mmd` on validated float32 inputs, with autocast off."""
    sigma2 = _bandwidth(torch.cat([x, y]))
    if linear:
        half = min(x.shape[0], y.shape[0]) // 2
        x1, x2 = x[0:2 * half:2], x[1:2 * half:2]
        y1, y2 = y[0:2 * half:2], y[1:2 * half:2]

        def k(a, b):
            return _kernel((a - b).pow(2).sum(1), sigma2, alphas)

        return (k(x1, x2) + k(y1, y2) - k(x1, y2) - k(x2, y1)).mean()
    m, n = x.shape[0], y.shape[0]
    kxx = _kernel(_squared_distances(x, x), sigma2, alphas)
    kyy = _kernel(_squared_distances(y, y), sigma2, alphas)
    kxy = _kernel(_squared_distances(x, y), sigma2, alphas)
    # Unbiased: the diagonals (k(a, a) = len(alphas)) are left out of the within-sample means.
    within_x = (kxx.sum() - kxx.diagonal().sum()) / (m * (m - 1))
    within_y = (kyy.sum() - kyy.diagonal().sum()) / (n * (n - 1))
    return within_x + within_y - 2.0 * kxy.mean()
