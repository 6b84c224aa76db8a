"""Amortised cost: a run's own time plus its share of the shared work it reuses.

An activation-cache file (:mod:`bench.activations`) is computed once and read by many
runs: feature extraction's features by every seed and ``shots`` budget on a data set,
a frozen prefix by every ``partial`` / ``dan`` run that stops there. Charging it to
whichever run computed it first makes cost depend on job order; charging it to nobody
makes feature extraction look nearly free. A run record states the seconds each file
it read took to compute (``cost.cache_files``); the summary charges every run that
read a file an equal share of it:

    total_seconds_amortised = train_seconds + prepare_seconds
                              + sum over the run's cache files f of seconds(f) / runs(f)

where runs(f) counts the records being summarised (the sweep) that read f. A file's
work is counted once however many runs read it; a sweep that reads a cache made for
another sweep still charges its own runs for it (the cost of reproducing the result).
"""

from __future__ import annotations

from collections import Counter

import numpy as np


def cache_file_shares(records: list[dict]) -> tuple[dict[str, float | None], Counter]:
    """Per cache file: the seconds computing it took, and how many records read it.

    Two records that both computed a file (two runs missed at once) may state two
    times; the larger is kept.
    """
    seconds: dict[str, float | None] = {}
    readers: Counter = Counter()
    for record in records:
        for entry in record["cost"].get("cache_files", []):
            file, took = entry["file"], entry["seconds"]
            readers[file] += 1
            known = seconds.get(file, took)
            seconds[file] = None if took is None or known is None else max(took, known)
    return seconds, readers


def amortised_seconds(records: list[dict]) -> tuple[list[float], list[float]]:
    """Each record's share of its cache files' seconds, and its total amortised seconds.

    NaN where a record predates the cost fields (no ``prepare_seconds``: its
    ``train_seconds`` still holds whatever cache work it did) or reads a cache file
    whose time is unknown (written before cache files were timed).
    """
    seconds, readers = cache_file_shares(records)
    shares, totals = [], []
    for record in records:
        cost = record["cost"]
        files = [entry["file"] for entry in cost.get("cache_files", [])]
        if "prepare_seconds" not in cost or any(seconds[f] is None for f in files):
            shares.append(np.nan)
            totals.append(np.nan)
            continue
        share = sum(seconds[f] / readers[f] for f in files)
        shares.append(share)
        totals.append(cost["train_seconds"] + cost["prepare_seconds"] + share)
    return shares, totals
