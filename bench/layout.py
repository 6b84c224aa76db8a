"""Where a sweep's per-run files go, and how a shots budget is spelled in their names.

A run is one (pair, strategy, seed, shots) cell of a sweep. Its files are named
``{pair}/{strategy}/seed{seed}-shots{shots}`` below a results folder, where shots is
the number of labelled target examples per class or ``all`` (the whole training
split; ``None`` in a RunConfig). The workflow's rules, the regression check and the
speed benchmark all find runs by this name, so it is spelled here once.

A leaf module: it imports nothing from ``bench``, so any layer (and the Snakefile)
can use it.
"""

from __future__ import annotations

from pathlib import Path

ALL = "all"  # the shots label of a run on the whole training split
# A run's name with Snakemake's wildcards: the workflow's rules match files with it.
RUN_PATTERN = "{pair}/{strategy}/seed{seed}-shots{shots}"
# A cell -- every run of one pair (strategies, seeds, shots), one workflow job --
# likewise: its log and Snakemake benchmark file are named by it.
CELL_PATTERN = "{pair}"


def shots_label(shots: int | str | None) -> str:
    """The label of a shots budget in file names and summaries.

    Args:
        shots: examples per class (an int, or its digits as a string), or None or
            ``"all"`` for the whole training split.

    Returns:
        ``"all"``, or the number's digits (``5`` and ``"5"`` both give ``"5"``).
    """
    return ALL if shots is None or shots == ALL else str(int(shots))


def parse_shots(label: int | float | str | None) -> int | None:
    """A shots budget back from its label: ``"all"`` or None -> None, ``"5"`` -> 5.

    Integral floats count too (``5.0`` or ``"5.0"``, as pandas reads a numeric column
    that has gaps).

    Args:
        label: the label or number, e.g. a summary's ``shots`` cell.

    Returns:
        The number of examples per class, or None for the whole training split.

    Raises:
        ValueError: the label is neither ``"all"`` nor a whole number >= 1.
    """
    if label is None:
        return None
    text = str(label).strip()
    if text == ALL:
        return None
    try:
        number = float(text)
    except ValueError:
        number = float("nan")
    if not number.is_integer() or number < 1:
        raise ValueError(f"shots must be a positive integer or {ALL!r}, got {text!r}")
    return int(number)


def run_name(pair: str, strategy: str, seed: int, shots: int | str | None) -> str:
    """A run's name: its files' path below their folder, without the extension.

    Args:
        pair: the source -> target pair, e.g. ``"imagenet-digits"``.
        strategy: the transfer strategy, e.g. ``"full"``.
        seed: the run's seed.
        shots: examples per class, or None or ``"all"`` (see :func:`shots_label`).

    Returns:
        ``"{pair}/{strategy}/seed{seed}-shots{label}"``.
    """
    return RUN_PATTERN.format(pair=pair, strategy=strategy, seed=seed, shots=shots_label(shots))


def run_record_path(results_dir: str | Path, pair: str, strategy: str, seed: int,
                    shots: int | str | None) -> str:
    """Where a run's record (JSON) goes: ``{results_dir}/runs/{run name}.json``.

    Args:
        results_dir: the sweep's results folder.
        pair: the run's source -> target pair, as for :func:`run_name`.
        strategy: the run's transfer strategy, as for :func:`run_name`.
        seed: the run's seed, as for :func:`run_name`.
        shots: the run's examples per class, or None or ``"all"``, as for :func:`run_name`.
    """
    return f"{results_dir}/runs/{run_name(pair, strategy, seed, shots)}.json"


def cell_benchmark_path(results_dir: str | Path, pair: str) -> str:
    """Where Snakemake's ``benchmark:`` file (TSV, with its wall time) of a cell's job goes.

    ``{results_dir}/benchmarks/cells/{pair}.tsv``: one job trains every run of the pair.
    """
    return f"{results_dir}/benchmarks/cells/{CELL_PATTERN.format(pair=pair)}.tsv"


def shots_value(value) -> int | str:
    """A summary's shots cell (5, 5.0, "5", "all", empty or NaN) -> 5 or ``"all"``.

    Raises:
        ValueError: with the offending text as its message.
    """
    text = "" if value is None or value != value else str(value).strip()  # NaN != NaN
    if text in ("", "nan", "None"):
        return ALL
    try:
        shots = parse_shots(text)
    except ValueError:
        raise ValueError(text) from None
    return ALL if shots is None else shots
