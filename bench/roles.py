"""Which data set each role of a run reads, per evaluation protocol: the protocol's table.

A leaf (it imports nothing), so the workflow can ask which data sets a run reads
without importing torch; :mod:`bench.protocol` turns it into the splits a run uses.
"""

from __future__ import annotations

# Which data set each role's split comes from, per protocol (target_labels true, false).
# A role uses that set's split of the same name; "other" (the other domain, for
# strategies that adapt) uses its training split.
ROLE_DATASETS = {
    True: {"train": "target", "val": "target", "other": "source", "test": "target"},
    False: {"train": "source", "val": "source", "other": "target", "test": "target"},
}

# Which splits each role reads, per protocol of an unlabelled-target pair; "+" joins
# splits. held_out scores a held-out 30% of the target; standard (DAN, TLlib) trains on
# every source image but the validation split, which selects the weights, and adapts to
# and scores every target image.
PROTOCOL_SPLITS = {
    "held_out": {"train": "train", "val": "val", "other": "train", "test": "test"},
    "standard": {"train": "train+test", "val": "val", "other": "train+val+test",
                 "test": "train+val+test"},
}
LABELLED_TARGET_SPLITS = {"train": "train", "val": "val", "other": "train", "test": "test"}


def role_datasets(source: str, target: str, target_labels: bool,
                  uses_other: bool) -> dict[str, str]:
    """Role -> the name of the data set it reads, for a pair (what the workflow prepares)."""
    names = {"source": source, "target": target}
    return {role: names[which] for role, which in ROLE_DATASETS[bool(target_labels)].items()
            if uses_other or role != "other"}
