"""What a cheaper search would cost and select: ``python -m bench.perf_search TRIALS_DIR``.

Replays a finished tuned sweep's trials (``results/tuning/trials/PAIR/STRATEGY/trialK.json``)
under successive-halving schemes, without training anything: a trial's score at a rung of
``steps`` is its best validation accuracy among the evaluations up to ``steps`` (what a
run stopped there would restore, as early stopping does), and its cost the seconds its
history logged up to there (training steps and their validation passes). A trial
promoted to the next rung pays only the steps beyond the last one. The protocol's own
selection (:func:`bench.tuning.select_trial`: the best validation accuracy, ties to the
lower trial), run on the records' own validation accuracy, is what every scheme is
compared with; the first scheme, one rung at the full budget, replays it.

The replay is exact for pause-and-resume halving (a promoted trial continues its run,
the learning-rate schedule set by the full budget, as ASHA does with checkpoints); a
halving that restarted each rung with a shorter cosine would train differently. The
test pass and the tuned runs at the reporting seeds cost the same under every scheme and
are not counted. "Regret" is the full-budget validation accuracy of the protocol's pick
minus that of the scheme's pick, in points.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from bench.argparsing import Parser
from bench.tuning import select_trial, trial_entry


@dataclass(frozen=True)
class Scheme:
    """A search as rungs (steps, trials): the best ``trials`` so far train on to ``steps``.

    The first rung's ``trials`` is every trial; the pick is the best at the last rung.
    """

    name: str
    rungs: tuple[tuple[int, int], ...]

    def replay(self, trials: list[dict]) -> tuple[int, float]:
        """(index of the trial this search selects, seconds of training and validation it spends)."""
        alive, trained, seconds = list(range(len(trials))), [0] * len(trials), 0.0
        for steps, survivors in self.rungs:
            alive = sorted(alive, key=lambda k: (-best_val(trials[k], trained[k]), k))[:survivors]
            for k in alive:
                seconds += logged_seconds(trials[k], steps) - logged_seconds(trials[k], trained[k])
                trained[k] = steps
        return min(alive, key=lambda k: (-best_val(trials[k], trained[k]), k)), seconds


def schemes(budget: int, trials: int) -> list[Scheme]:
    """The protocol (every trial at the full budget) and successive halving with η = 2."""
    quarter, half = budget // 4, budget // 2
    second, third = max(1, trials // 2), max(1, trials // 4)
    return [Scheme(f"protocol: {trials} trials × {budget} steps", ((budget, trials),)),
            Scheme(f"halving: {trials}×{quarter}, best {second} to {half}, best {third} to {budget} steps",
                   ((quarter, trials), (half, second), (budget, third))),
            Scheme(f"halving: {trials}×{quarter}, best {second} to {half} steps",
                   ((quarter, trials), (half, second))),
            Scheme(f"best of {trials}×{half} steps", ((half, trials),)),
            Scheme(f"best of {trials}×{quarter} steps", ((quarter, trials),))]


def best_val(trial: dict, steps: int) -> float:
    """Best validation accuracy logged up to ``steps``; -1 for a failed run or none logged."""
    if trial["status"] != "ok":
        return -1.0
    values = [h["val_accuracy"] for h in trial.get("history") or []
              if h["step"] <= steps and h["val_accuracy"] is not None]
    return max(values, default=-1.0)


def logged_seconds(trial: dict, steps: int) -> float:
    """Seconds the run's history logged up to ``steps``: training and validation passes."""
    return sum(h["seconds"] for h in trial.get("history") or [] if h["step"] <= steps)


def load_trials(trials_dir: Path) -> dict[tuple[str, str], list[dict]]:
    """{(pair, strategy): trial records in trial order} of a tuned sweep's trials folder."""
    cells = {}
    for folder in sorted(p for p in trials_dir.glob("*/*") if p.is_dir()):
        paths = sorted(folder.glob("trial*.json"), key=lambda p: int(p.stem.removeprefix("trial")))
        cells[(folder.parent.name, folder.name)] = [json.loads(p.read_text()) for p in paths]
    if not cells:
        raise FileNotFoundError(f"no trial records under {trials_dir}: expected "
                                f"PAIR/STRATEGY/trialK.json, as `results/tuning/trials` holds")
    return cells


def replay_table(cells: dict[tuple[str, str], list[dict]]) -> pd.DataFrame:
    """One row per scheme: its cost, and how well it selects.

    Seconds of training and validation, their ratio to the protocol's, how often it
    selects the protocol's trial, and the mean and largest regret of its picks.
    """
    first = next(iter(cells.values()))
    # The protocol's own pick, by bench.tuning's rule on each record's val_accuracy.
    picks = {cell: select_trial([trial_entry(k, record, "", ()) for k, record in enumerate(trials)])["trial"]
             for cell, trials in cells.items()}
    rows = []
    for scheme in schemes(first[0]["max_steps"], len(first)):
        seconds, same, regrets = 0.0, 0, []
        for cell, trials in cells.items():
            chosen, spent = scheme.replay(trials)
            seconds += spent
            same += chosen == picks[cell]
            full_budget = best_val(trials[picks[cell]], math.inf) - best_val(trials[chosen], math.inf)
            regrets.append(100 * full_budget)
        rows.append({"search": scheme.name, "train+val s": seconds,
                     "selects as the protocol": f"{same} of {len(cells)}",
                     "mean regret (pt)": sum(regrets) / len(regrets), "max regret (pt)": max(regrets)})
    table = pd.DataFrame(rows)
    table.insert(2, "÷ protocol", table["train+val s"] / table["train+val s"].iloc[0])
    return table


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m bench.perf_search", description=(
        "Replay a tuned sweep's trials under successive halving: what it would cost, and "
        "how often it would select what the protocol (every trial at the full budget) did."))
    parser.add_argument("trials_dir", type=Path, nargs="?", default=Path("results/tuning/trials"),
                        help="a tuned sweep's trials folder")
    args = parser.parse_args(argv)
    try:
        cells = load_trials(args.trials_dir)
    except FileNotFoundError as error:
        parser.error(str(error))
    stops = sum(t.get("stop_reason") == "early_stop" for trials in cells.values() for t in trials)
    total = sum(len(trials) for trials in cells.values())
    print(f"{len(cells)} (pair, strategy) searches, {total} trials, {stops} stopped early")
    print(replay_table(cells).to_markdown(index=False, floatfmt=".2f"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
