import numpy as np
import pytest
import torch

from bench.config import run_config
from bench.mmd import DEFAULT_ALPHAS, mk_mmd
from bench.models import create_backbone
from bench.strategies import STRATEGIES
from tests.conftest import tiny_config


def numpy_mk_mmd(x: np.ndarray, y: np.ndarray, alphas=DEFAULT_ALPHAS, linear=False) -> float:
    """MK-MMD^2 written out loop by loop, straight from the definition."""
    pooled = np.concatenate([x, y])
    n = len(pooled)
    sigma2 = sum(((pooled[i] - pooled[j]) ** 2).sum()
                 for i in range(n) for j in range(n) if i != j) / (n * n - n)

    def k(a, b):
        d = ((a - b) ** 2).sum()
        return sum(np.exp(-d / (2 * alpha * sigma2)) for alpha in alphas)

    if linear:
        half = min(len(x), len(y)) // 2
        terms = [k(x[2 * i], x[2 * i + 1]) + k(y[2 * i], y[2 * i + 1])
                 - k(x[2 * i], y[2 * i + 1]) - k(x[2 * i + 1], y[2 * i]) for i in range(half)]
        return float(np.mean(terms))
    m, n_y = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n_y) for j in range(n_y) if i != j) / (n_y * (n_y - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n_y)) / (m * n_y)
    return float(xx + yy - 2 * xy)


@pytest.mark.parametrize("linear", [False, True])
def test_matches_direct_numpy_computation(linear):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(6, 3)), rng.normal(loc=0.7, size=(8, 3))
    expected = numpy_mk_mmd(x, y, linear=linear)
    got = mk_mmd(torch.tensor(x), torch.tensor(y), linear=linear).item()
    assert got == pytest.approx(expected, rel=1e-4, abs=1e-6)


@pytest.mark.parametrize("linear", [False, True])
def test_matches_numpy_with_more_rows_in_x_and_a_bandwidth_below_one(linear):
    """The bandwidth is the data's own (mean squared distance 0.02 here, no floor near 1),
    and the linear estimator pairs the first 2 * min(M, N) // 2 rows of the larger side."""
    rng = np.random.default_rng(3)
    x, y = 0.05 * rng.normal(size=(9, 3)), 0.05 * rng.normal(loc=1.0, size=(6, 3))
    expected = numpy_mk_mmd(x, y, linear=linear)
    got = mk_mmd(torch.tensor(x), torch.tensor(y), linear=linear).item()
    assert got == pytest.approx(expected, rel=1e-4, abs=1e-6)


def test_two_rows_a_side_are_enough_one_on_either_side_is_not():
    g = torch.Generator().manual_seed(3)
    for linear in (False, True):
        x, y = torch.randn(2, 3, generator=g), torch.randn(2, 3, generator=g) + 1.0
        assert torch.isfinite(mk_mmd(x, y, linear=linear))
    with pytest.raises(ValueError, match="at least 2"):
        mk_mmd(torch.zeros(4, 3), torch.zeros(1, 3))
    with pytest.raises(ValueError, match=r"\(M, D\)"):
        mk_mmd(torch.zeros(4, 3, 1), torch.zeros(4, 3))


def test_near_zero_for_one_distribution_and_grows_with_mean_shift():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(200, 8, generator=g), torch.randn(200, 8, generator=g)
    same = mk_mmd(x, y).item()
    shifted = [mk_mmd(x, y + shift).item() for shift in (0.5, 1.0, 2.0)]
    assert abs(same) < 0.05  # sampling noise of the unbiased estimator at n=200
    assert same < shifted[0] < shifted[1] < shifted[2]


def test_linear_estimator_separates_shifted_samples():
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(256, 8, generator=g), torch.randn(256, 8, generator=g)
    assert abs(mk_mmd(x, y, linear=True).item()) < 0.1
    assert mk_mmd(x, y + 2.0, linear=True).item() > 1.0


def test_differentiable_and_finite_gradient():
    g = torch.Generator().manual_seed(2)
    x = torch.randn(16, 4, generator=g, requires_grad=True)
    y = torch.randn(16, 4, generator=g) + 1.0
    loss = mk_mmd(x, y)
    loss.backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    # Moving x along the negative gradient reduces the discrepancy.
    with torch.no_grad():
        assert mk_mmd(x - 0.5 * x.grad / x.grad.norm(), y) < loss


@pytest.mark.parametrize("linear", [False, True])
def test_float32_under_bf16_autocast_in_the_aligned_regime(linear):
    # A GPU run's loss runs under bf16 autocast; the CPU's bf16 autocast casts matmuls the
    # same way. Two samples of one distribution (MMD near zero, where the cancellation in
    # |a|^2 + |b|^2 - 2 a.b matters most), off-centre like pooled post-activation features.
    g = torch.Generator().manual_seed(0)
    x = (torch.randn(64, 32, generator=g) + 2.0).requires_grad_()
    y = torch.randn(64, 32, generator=g) + 2.0
    expected = mk_mmd(x, y, linear=linear)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = mk_mmd(x.bfloat16(), y.bfloat16(), linear=linear)
        got_fp32_inputs = mk_mmd(x, y, linear=linear)
    assert got.dtype == got_fp32_inputs.dtype == torch.float32
    assert got_fp32_inputs.item() == pytest.approx(expected.item(), abs=1e-4)
    # bf16 inputs carry only their own rounding error, not the matmul's.
    assert got.item() == pytest.approx(mk_mmd(x.bfloat16(), y.bfloat16(), linear=linear).item(),
                                       abs=1e-6)
    got_fp32_inputs.backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_rejects_bad_shapes():
    with pytest.raises(ValueError, match=r"\(M, D\)"):
        mk_mmd(torch.zeros(4, 3), torch.zeros(4, 2))
    with pytest.raises(ValueError, match="at least 2"):
        mk_mmd(torch.zeros(1, 3), torch.zeros(4, 3))


def _dan_loss(mmd_weight: float, strategy: str = "dan",
              shared_label_space: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """DAN's loss and MK-MMD on one fixed batch (32 px inputs, 4 + 4 images), same weights."""
    config = tiny_config()
    if strategy == "dan":
        config["strategy_params"]["dan"] = {"mmd_weight": mmd_weight}
    run = run_config(config, "synoffice-a-w", strategy, 0)
    torch.manual_seed(0)
    backbone, _ = create_backbone(run.backbone, pretrained=False, resolution=run.resolution)
    dan = STRATEGIES[strategy](run, backbone, num_classes=3,
                               shared_label_space=shared_label_space)
    generator = torch.Generator().manual_seed(1)
    x, other = torch.randn(2, 4, 3, 32, 32, generator=generator)
    y = torch.tensor([0, 1, 2, 0])
    loss, extras = dan.loss(x, y, other, 0)
    return loss, extras["mmd"]


def test_source_only_is_dan_without_the_mmd_term():
    dan_without, dan_mmd = _dan_loss(0.0)
    source_only, measured = _dan_loss(0.0, "source_only")
    assert torch.equal(source_only, dan_without)  # same network, batches and weights
    assert torch.equal(measured, dan_mmd)  # the discrepancy is still measured


def test_dan_aligns_logits_only_in_a_shared_label_space():
    _, both = _dan_loss(1.0)
    _, features_only = _dan_loss(1.0, shared_label_space=False)
    assert not torch.isclose(features_only, both)  # the logit term is left out


def test_dan_adds_mmd_weight_times_mk_mmd_to_the_classification_loss():
    without, mmd = _dan_loss(0.0)
    weighted, same_mmd = _dan_loss(2.5)
    assert mmd > 0 and torch.equal(mmd, same_mmd)
    assert weighted.item() == pytest.approx(without.item() + 2.5 * mmd.item(), rel=1e-5)
