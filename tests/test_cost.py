"""Cost accounting: own training apart from shared cache work, amortised; images; FLOPs; GPU reads."""

from __future__ import annotations

import time

import pytest
import torch
from test_aggregate import make_record

from bench import activations, device, train
from bench.config import run_config
from bench.figures import accuracy_vs_time_figure
from bench.flops import step_flops
from bench.summary import summary_frame
from bench.tables.paper import cost_table
from tests.conftest import tiny_config

SLOW_PREFIX = 0.4  # seconds added to every frozen-prefix computation, to see where it lands


@pytest.fixture
def slow_prefix(monkeypatch):
    """Make computing frozen activations measurably slow, in the cache job and in runs."""
    original = activations.frozen_prefix

    def slow(*args, **kwargs):
        time.sleep(SLOW_PREFIX)
        return original(*args, **kwargs)

    monkeypatch.setattr(activations, "frozen_prefix", slow)
    monkeypatch.setattr(train, "frozen_prefix", slow)


def _feature_run(cache_dir, seed: int = 0, shots=None) -> dict:
    config = run_config(tiny_config(), "imagenet-digits", "feature_extraction", seed,
                        shots=shots, cache_dir=str(cache_dir))
    return train.run(config, progress=False)


def test_amortised_cost_of_feature_extraction_shares_the_features_computed_once(tmp_path,
                                                                              slow_prefix):
    """The first run computes the features; the time, stored in the cache files, is shared."""
    records = [_feature_run(tmp_path, seed) for seed in (0, 1)] + [_feature_run(tmp_path, 0, 2)]
    job = records[0]["cost"]["cache_seconds"]
    assert job >= 3 * SLOW_PREFIX  # train, val and test split, each computed once, by the first
    assert [r["data"]["activation_cache"] for r in records] == ["computed", "hit", "hit"]
    for record in records:
        assert record["cost"]["cache_seconds"] == job
        assert record["cost"]["train_seconds"] < SLOW_PREFIX  # its own training: a linear head
    summary = summary_frame(records)
    amortised = {(row.seed, row.shots): row.total_seconds_amortised for row in summary.itertuples()}
    for record in records:
        own = record["cost"]["train_seconds"] + record["cost"]["prepare_seconds"]
        shots = record["shots"] or "all"
        assert amortised[record["seed"], shots] == pytest.approx(own + job / 3)
    table = cost_table(summary)  # main runs only (shots = all), the share still over all 3
    expected = summary[summary["shots"] == "all"]["total_seconds_amortised"].mean()
    assert table.cells.loc["Feature extraction", "Total, amortised (s)"] == f"{expected:,.1f}"
    assert expected > 3 * SLOW_PREFIX / 3


def test_a_run_that_computes_the_cache_keeps_that_work_out_of_its_own_time(tmp_path, slow_prefix):
    record = _feature_run(tmp_path)
    assert record["data"]["activation_cache"] == "computed"
    cost = record["cost"]
    assert cost["cache_seconds"] >= 3 * SLOW_PREFIX
    assert cost["train_seconds"] < SLOW_PREFIX and cost["prepare_seconds"] < SLOW_PREFIX
    assert [entry["file"].split("-")[1] for entry in cost["cache_files"]] == ["test", "train", "val"]
    hit = _feature_run(tmp_path, seed=1)["cost"]
    assert hit["cache_files"] == cost["cache_files"]  # the time read back from the files


def test_amortised_share_counts_each_file_once_over_the_runs_that_read_it():
    """Two pairs share the target's test split: its time is split four ways, not twice two."""
    records = [make_record(pair, "feature_extraction", seed)
               for pair in ("a-digits", "b-digits") for seed in (0, 1)]
    for record in records:
        source = record["pair"][0]
        record["cost"]["cache_files"] = [{"file": f"{source}-train", "seconds": 8.0},
                                         {"file": "digits-test", "seconds": 4.0}]
    summary = summary_frame(records)
    assert list(summary["cache_seconds_amortised"]) == [8 / 2 + 4 / 4] * 4


def test_records_from_before_the_cost_fields_still_aggregate():
    records = [make_record("p", strategy, seed) for strategy in ("full", "feature_extraction")
               for seed in (0, 1)]
    for record in records:
        record["cost"] = {key: record["cost"][key] for key in list(record["cost"])[:7]}
    summary = summary_frame(records)
    assert summary["total_seconds_amortised"].isna().all()
    table = cost_table(summary)
    assert table.cells.loc["Full FT", "Total, amortised (s)"] == "—"
    assert table.cells.loc["Full FT", "Train time (s)"] != "—"
    assert any("predate" in note for note in table.notes)
    figure = accuracy_vs_time_figure(summary)
    assert figure.get_supxlabel() == "Training time (s, log scale)"
    assert accuracy_vs_time_figure(summary_frame([make_record("p", "full", 0)])) \
        .get_supxlabel() == "Total time, amortised (s, log scale)"


def test_images_per_second_counts_the_other_domains_batch_too(tmp_path):
    costs = {strategy: train.run(run_config(tiny_config(), "imagenet-digits", strategy, 0,
                                            cache_dir=str(tmp_path)), progress=False)["cost"]
             for strategy in ("dan", "full")}
    dan, full = costs["dan"], costs["full"]
    assert dan["other_domain_images"] == dan["train_images"] > 0
    assert full["other_domain_images"] == 0
    for cost in (dan, full):
        processed = cost["train_images"] + cost["other_domain_images"]
        assert cost["images_per_second"] == pytest.approx(processed / cost["train_seconds"])
    assert full["train_flops"] > dan["train_flops"] / 2 > 0  # DAN's frozen prefix is cached


def test_feature_extraction_flops_are_the_linear_heads_by_hand(tmp_path):
    """Cached features: a step is the head's forward (2·D·C per image) and weight gradient (2·D·C)."""
    record = _feature_run(tmp_path)
    features, classes = 1280, record["data"]["num_classes"]
    per_image = 2 * features * classes
    assert record["cost"]["train_flops"] == 2 * per_image * record["cost"]["train_images"]
    evaluated = record["data"]["val"] * len(record["history"]) + record["data"]["test"]
    assert record["cost"]["eval_flops"] == per_image * evaluated


class _Net(torch.nn.Module):
    """A linear layer after BatchNorm, called as the strategies' networks are: (x, applied)."""

    def __init__(self):
        super().__init__()
        self.norm, self.linear = torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 3)

    def forward(self, x, applied):
        return self.linear(self.norm(x))


class _Strategy:
    def __init__(self):
        self.network = _Net()

    def loss(self, x, y, other, applied):
        return torch.nn.functional.cross_entropy(self.network(x, applied), y), {}


def test_step_flops_by_hand_and_the_network_left_as_found():
    strategy, x, y = _Strategy(), torch.randn(5, 4), torch.tensor([0, 1, 2, 0, 1])
    before = {k: v.clone() for k, v in strategy.network.state_dict().items()}
    rng = torch.get_rng_state()
    strategy.network.eval()
    train_flops, forward = step_flops(strategy, x, y, None, 0)
    # addmm forward 2·B·in·out; backward: the weight's gradient 2·B·in·out and the
    # normalised input's 2·B·out·in (BatchNorm's affine weight needs it).
    assert forward == 2 * 5 * 4 * 3
    assert train_flops == 3 * forward
    for key, value in strategy.network.state_dict().items():
        assert torch.equal(value, before[key]), key  # BatchNorm statistics restored
    assert all(p.grad is None for p in strategy.network.parameters())
    assert not strategy.network.training and torch.equal(torch.get_rng_state(), rng)


# ---------------------------------------------------------------------- GPU reads


def test_device_reads_are_plain_on_the_cpu(monkeypatch):
    def no_cuda(*args):
        raise AssertionError("a CUDA call on the CPU path")

    for name in ("synchronize", "memory_allocated", "reset_peak_memory_stats",
                 "max_memory_allocated"):
        monkeypatch.setattr(torch.cuda, name, no_cuda)
    cpu = torch.device("cpu")
    device.synchronize(cpu)
    device.start_peak(cpu)
    assert device.allocated_bytes(cpu) is None and device.peak_bytes(cpu) is None
    assert abs(device.clock(cpu) - time.perf_counter()) < 1


def test_gpu_clock_waits_for_the_device_and_peaks_restart_after_the_data(monkeypatch):
    calls = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda d: calls.append("synchronize"))
    monkeypatch.setattr(torch.cuda, "reset_peak_memory_stats", lambda d: calls.append("reset"))
    monkeypatch.setattr(torch.cuda, "memory_allocated", lambda d: 1000)
    monkeypatch.setattr(torch.cuda, "max_memory_allocated", lambda d: 5000)
    monkeypatch.setattr(time, "perf_counter", lambda: calls.append("read") or 1.0)
    cuda = torch.device("cuda")
    assert device.clock(cuda) == 1.0
    assert calls == ["synchronize", "read"]
    calls.clear()
    device.start_peak(cuda)
    assert calls == ["synchronize", "reset"]
    assert device.allocated_bytes(cuda) == 1000 and device.peak_bytes(cuda) == 5000


def test_data_residency_is_measured_apart_and_the_peak_restarts_after_it(monkeypatch, tmp_path):
    """The trainer reads allocated memory before and after moving the data, then resets the peak."""
    events, allocated = [], iter([100, 350])

    def allocated_bytes(device):
        events.append("allocated")
        return next(allocated)

    monkeypatch.setattr(train, "allocated_bytes", allocated_bytes)
    monkeypatch.setattr(train, "start_peak", lambda device: events.append("reset"))
    monkeypatch.setattr(train, "peak_bytes", lambda device: 900)
    record = _feature_run(tmp_path)
    assert events == ["allocated", "allocated", "reset"]
    assert record["cost"]["data_accelerator_bytes"] == 250
    assert record["cost"]["peak_accelerator_bytes"] == 900


def test_evaluation_seconds_are_the_runs_validations_and_test_apart_from_training(monkeypatch):
    """Every evaluation batch made 1 s slower: eval_seconds grows by that, train_seconds not."""
    slow, original = 1.0, train.autocast
    config = run_config(tiny_config(), "imagenet-digits", "full", 0)
    plain = train.run(config, progress=False)

    def slow_when_evaluating(device):
        if not torch.is_grad_enabled():  # evaluation runs under no_grad, training steps do not
            time.sleep(slow)
        return original(device)

    monkeypatch.setattr(train, "autocast", slow_when_evaluating)
    record = train.run(config, progress=False)
    passes = len(record["history"]) + 1  # the validations and the test, one batch each
    assert record["cost"]["eval_seconds"] >= passes * slow  # every sleep is inside it
    assert record["cost"]["train_seconds"] - plain["cost"]["train_seconds"] < slow


def test_a_flop_count_is_made_once_per_configuration_and_code_and_kept_on_disk(tmp_path,
                                                                                monkeypatch):
    """A later process (here: the in-process memory emptied) reads the count; other code
    counts again; no folder keeps it in the process only."""
    from bench import flops

    calls = []

    def count():
        calls.append(1)
        return 1000 + len(calls), 10

    key = ("efficientnet_lite0", "full", 12, "{}", 0, (32, 3, 32, 32))
    monkeypatch.setattr(flops, "_MEASURED", {})
    assert flops.measured_once(key, count, tmp_path) == (1001, 10)
    assert flops.measured_once(key, count, tmp_path) == (1001, 10) and len(calls) == 1
    monkeypatch.setattr(flops, "_MEASURED", {})  # a new process
    assert flops.measured_once(key, count, tmp_path) == (1001, 10) and len(calls) == 1
    monkeypatch.setattr(flops, "_MEASURED", {})
    monkeypatch.setattr(flops, "_code", lambda: "other code")
    assert flops.measured_once(key, count, tmp_path) == (1002, 10) and len(calls) == 2
    monkeypatch.setattr(flops, "_MEASURED", {})
    assert flops.measured_once(key, count) == (1003, 10) and len(calls) == 3
    assert len(list((tmp_path / "flops").glob("*.json"))) == 2
