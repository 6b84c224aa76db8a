"""Break each headline promise on purpose, one at a time, and check the fast tests notice.

Each entry of BUGS is a deliberate bug: one edit to one source file that breaks one
promise of the README or docs (docs/TESTING.md lists them). For each, the script applies
the edit, runs the fast tests (`pytest -m "not slow" -x`, or the entry's own tests), and
restores the file, whatever happens. A bug the tests do not catch is a promise without a
guard; the script then exits 1.

    python scripts/break_promises.py            # every bug (about 12 minutes on 2 cores)
    python scripts/break_promises.py ntg atomic # only these
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Bug:
    name: str
    promise: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...] = ()  # default: the whole fast set


BUGS = [
    Bug("select-on-test", "the evaluation is selected on validation accuracy",
        "bench/train.py",
        'self._accuracy(inputs.tensors["val"], inputs.val_labels,',
        'self._accuracy(inputs.tensors["test"], inputs.test_labels,'),
    Bug("keep-last-epoch", "the best validation evaluation's weights are tested",
        "bench/train.py", 'if evaluation["val_accuracy"] > fit.best_val:', "if True:"),
    Bug("ties-keep-later", "ties keep the earlier evaluation",
        "bench/train.py", 'if evaluation["val_accuracy"] > fit.best_val:',
        'if evaluation["val_accuracy"] >= fit.best_val:'),
    Bug("no-early-stop", "early stopping fires once patience runs out",
        "bench/convergence.py", "and evaluations_since_best(history, settled_step) >= patience",
        "and evaluations_since_best(history, settled_step) > patience",
        ("tests/test_convergence.py", "-k", "early_stop or cannot_improve")),
    Bug("budget-converges", "a run whose best evaluation is among its last two did not converge",
        "bench/convergence.py", ">= CONVERGED_TAIL", ">= 0",
        ("tests/test_convergence.py", "-k", "converged_flag")),
    Bug("budget-shrinks", "the schedule spans max_steps, not the steps a run takes",
        "bench/optim.py", "warmup_cosine(config.max_steps,", "warmup_cosine(config.eval_every,",
        ("tests/test_convergence.py", "tests/test_optim.py", "-k", "cannot_improve or warmup")),
    Bug("budget-per-epoch", "the step budget does not shrink with the data (1 shot)",
        "bench/train.py", "while fit.steps < config.max_steps:",
        "while fit.steps < min(config.max_steps, 4 * len(inputs.train_labels) // 8):",
        ("tests/test_convergence.py", "-k", "does_not_shrink")),
    Bug("old-key-unnamed", "an old epoch key fails naming its replacement",
        "bench/schema.py", "    if _retired(error):\n", "    if False:\n",
        ("tests/test_convergence.py", "-k", "old_epoch_key")),
    Bug("office-val-on-target", "Office-31 protocol: selection on held-out source",
        "bench/roles.py",
        'False: {"train": "source", "val": "source"', 'False: {"train": "source", "val": "target"'),
    Bug("cache-ignores-shots", "the cache changes speed, not results (shots subsets)",
        "bench/train.py",
        "            activations = activations[role.index]\n", "            pass\n"),
    Bug("head-ignores-seed", "different seeds give a different head",
        "bench/train.py",
        "torch.manual_seed(config.seed)  # the head", "torch.manual_seed(0)  # the head"),
    Bug("ntg-by-position", "NTG is paired by seed",
        "bench/stats.py",
        'pd.concat({"a": a, "b": b}, axis=1, join="inner")',
        'pd.concat({"a": a.reset_index(drop=True), "b": b.reset_index(drop=True)}, axis=1, '
        'join="inner")'),
    Bug("write-in-place", "files are written through a temporary file and a rename",
        "bench/io.py",
        "        with os.fdopen(handle, mode) as out:",
        "        os.close(handle)\n        Path(temporary).unlink()\n"
        "        temporary = path\n        with open(path, mode) as out:"),
    Bug("decode-truncated-jpeg", "a truncated image is skipped and listed",
        "bench/datasets/real.py",
        # One statement after the imports, so that ruff (a test too) passes and the
        # behaviour's own test is the one that catches it.
        "\nOFFICE_PER_CLASS: tuple",
        '\n__import__("PIL.ImageFile").ImageFile.LOAD_TRUNCATED_IMAGES = True\n'
        "OFFICE_PER_CLASS: tuple"),
    Bug("dan-without-mmd", "DAN adds mmd_weight x MK-MMD to the loss",
        "bench/strategies/dan.py",
        'ce + self.params["mmd_weight"] * mmd', "ce + 0 * mmd"),
    Bug("decay-reversed", "discriminative LR decays from the head down to the stem",
        "bench/strategies/discriminative_lr.py",
        "** (self.num_stages - stage)", "** (stage + 1)"),
    Bug("unfreeze-early", "gradual unfreezing: the head alone in the first interval",
        "bench/strategies/gradual_unfreeze.py",
        "unfrozen = step // (int", "unfrozen = (step + 1) // (int"),
    Bug("probe-trains-backbone", "feature extraction trains only the head",
        "bench/strategies/feature_extraction.py",
        "return self.num_stages", "return self.num_stages - 1"),
    Bug("select-trial-on-test", "tuning selects the trial on validation accuracy",
        "bench/tuning.py", 'record["metrics"].get(SELECTION_METRIC)',
        'record["metrics"].get("accuracy")'),
    Bug("tuned-at-selection-seed", "no tuned result is reported at the selection seed",
        "bench/tuning.py", '    if tuning["selection_seed"] in config["seeds"]:',
        '    if False:', ("tests/test_tuning.py", "-m", "not slow")),
]


def fast_tests(tests: tuple[str, ...] = ()) -> tuple[bool, str]:
    """Run ``tests`` (default: the fast set) until the first failure.

    Returns (passed?, the first failing test or pytest's last line).
    """
    result = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                             *(tests or ("-m", "not slow"))], cwd=REPO, capture_output=True,
                            text=True)
    lines = result.stdout.strip().splitlines()
    failed = [line.split(" - ")[0].removeprefix("FAILED ") for line in lines
              if line.startswith("FAILED ")]
    return result.returncode == 0, (failed or lines[-1:] or [result.stderr[-300:]])[0]


def caught(bug: Bug) -> tuple[bool, str]:
    """Apply ``bug``, run its tests, restore the file; (did a test fail?, which)."""
    path = REPO / bug.path
    original = path.read_text()
    try:
        path.write_text(original.replace(bug.old, bug.new, 1))
        passed, detail = fast_tests(bug.tests)
    finally:
        path.write_text(original)
    return not passed, detail


def main(names: list[str]) -> int:
    bugs = [bug for bug in BUGS if not names or bug.name in names]
    unknown = set(names) - {bug.name for bug in BUGS}
    if unknown:
        raise SystemExit(f"unknown bug(s) {sorted(unknown)}; known: {[b.name for b in BUGS]}")
    stale = [bug.name for bug in bugs if bug.old not in (REPO / bug.path).read_text()]
    if stale:
        raise SystemExit(f"the code no longer contains the text that {', '.join(stale)} break(s); "
                         "update BUGS in scripts/break_promises.py")
    # Against a suite that already fails, every bug would look caught.
    passed, detail = fast_tests()
    if not passed:
        raise SystemExit(f"the fast tests fail before any bug is applied ({detail}); fix that first")
    missed = []
    for bug in bugs:
        started = time.monotonic()
        found, last = caught(bug)
        print(f"{'caught' if found else 'MISSED'}  {bug.name:22} {time.monotonic() - started:4.0f} s"
              f"  {bug.promise}\n        by {last}", flush=True)
        if not found:
            missed.append(bug.name)
    print(f"{len(bugs) - len(missed)} of {len(bugs)} deliberate bugs caught by the fast tests")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
