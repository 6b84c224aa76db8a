"""The search replay (bench.perf_search): what successive halving would select and cost,
from trial records' validation histories, against the protocol's full-budget selection."""

import json

import pytest

from bench.perf_search import Scheme, load_trials, main, replay_table


def trial(curve: list[float], status: str = "ok") -> dict:
    """A trial record with a validation accuracy every 50 steps, each 50 steps taking 1 s.

    Its metrics' val_accuracy is the best one, as a run keeps its best evaluation.
    """
    return {"status": status, "max_steps": 200, "stop_reason": "budget",
            "metrics": {"val_accuracy": max(curve)},
            "history": [{"step": 50 * (i + 1), "val_accuracy": v, "seconds": 1.0}
                        for i, v in enumerate(curve)]}


# Trial 1 leads early and stalls; trial 2 starts slowly and ends best.
TRIALS = [trial([0.5, 0.6, 0.6, 0.6]), trial([0.8, 0.8, 0.8, 0.8]),
          trial([0.4, 0.7, 0.9, 0.95]), trial([0.6, 0.65, 0.7, 0.7])]


def test_the_protocol_selects_the_best_full_budget_trial_and_pays_every_step():
    chosen, seconds = Scheme("protocol", ((200, 4),)).replay(TRIALS)
    assert (chosen, seconds) == (2, 16.0)


def test_halving_pays_a_promoted_trial_only_the_steps_beyond_its_last_rung():
    # 4 trials × 1 s to step 50; trials 1 and 3 (best at 50) 1 s more to 100; trial 1 2 s more.
    chosen, seconds = Scheme("halving", ((50, 4), (100, 2), (200, 1))).replay(TRIALS)
    assert (chosen, seconds) == (1, 4.0 + 2.0 + 2.0)


def test_a_failed_trial_never_wins():
    trials = [trial([0.5] * 4), trial([0.99] * 4, status="failed")]
    assert Scheme("protocol", ((200, 2),)).replay(trials)[0] == 0


def test_the_table_measures_agreement_and_regret_against_the_protocol():
    table = replay_table({("p", "s"): TRIALS}).set_index("search")
    protocol, quick = table.iloc[0], table.loc["best of 4×50 steps"]
    assert (protocol["÷ protocol"], protocol["selects as the protocol"]) == (1.0, "1 of 1")
    assert quick["selects as the protocol"] == "0 of 1"
    assert quick["max regret (pt)"] == pytest.approx(15.0)  # 0.95 - 0.80
    assert quick["÷ protocol"] == pytest.approx(4 / 16)


def test_load_trials_reads_trials_in_trial_order_and_names_the_layout_when_empty(tmp_path, capsys):
    folder = tmp_path / "p" / "s"
    folder.mkdir(parents=True)
    for k in (10, 2, 0, 1):
        folder.joinpath(f"trial{k}.json").write_text(json.dumps({"trial": k}))
    assert [t["trial"] for t in load_trials(tmp_path)[("p", "s")]] == [0, 1, 2, 10]
    with pytest.raises(SystemExit) as stop:
        main([str(tmp_path / "nothing")])
    assert stop.value.code == 2
    assert "PAIR/STRATEGY/trialK.json" in capsys.readouterr().err
