#!/usr/bin/env bash
# Mutation testing of the core modules with the fast tests (docs/TESTING.md); not part of CI.
#   pip install -e '.[mutation]' && scripts/mutation.sh [WORKERS]      (default 1 worker)
# Config: [tool.mutmut] in pyproject.toml. Mutants and results go to mutants/ (git-ignored);
# `mutmut results` lists the survivors, `mutmut show NAME` shows one, and
# `mutmut run NAME` re-runs one after a new test.
set -euo pipefail
cd "$(dirname "$0")/.."
workers=${1:-1}

# 1. Statistics, atomic writes, metrics, MK-MMD, shots; the accuracy and NTG tables and their
#    helpers; tuning selection.
mutmut run --max-children "$workers" \
    "bench.stats.*" "bench.io.*" "bench.metrics.*" "bench.mmd.*" \
    "bench.datasets.base.x_shots_index*" "bench.datasets.base.xǁImageDatasetǁwith_shots*" \
    "bench.tables.paper.x_accuracy_table*" "bench.tables.paper.x_ntg_table*" \
    "bench.tables.paper.x__ntg_rows*" "bench.tables.paper.x_accuracy_rows*" \
    "bench.tables.paper.x__bold_best*" "bench.tables.paper.x__grid*" \
    "bench.tables.paper.x__tidy*" "bench.summary.x_ok_runs*" "bench.summary.x_main_runs*" \
    "bench.summary.x_synthetic_pairs*" "bench.tables.cells.x_count_note*" \
    "bench.tables.cells.x_seed_count*" "bench.tables.cells.x_format_interval*" \
    "bench.tables.cells.x_accuracy_cell*" \
    "bench.tuning.x_select_trial*" "bench.tuning.x_selection*" "bench.tuning.x_trial_entry*"

# 2. The protocol's roles, the training loop's batches, and a sample of the Trainer's
#    methods (each one's 10th mutant and every 25th: 25, 50, 75, 100...). A survivor here
#    re-runs every training test, so the strategy x pair matrix keeps two pairs, one per
#    protocol (imagenet-digits, synoffice-a-w): every strategy, 14 runs instead of 63.
matrix="tests/test_train.py::test_every_strategy_on_every_pair_gives_a_valid_record"
skip=""
for pair in imagenet-synflowers imagenet-synxray synoffice-d-w synoffice-w-d synoffice-a-d \
            synoffice-d-a synoffice-w-a; do
    skip="$skip --deselect $matrix[$pair-"
done
PYTEST_ADDOPTS="${PYTEST_ADDOPTS:-}$skip" mutmut run --max-children "$workers" \
    "bench.protocol.x_select_roles*" "bench.train.x__batches*" \
    "bench.train.xǁTrainerǁ*__mutmut_10" "bench.train.xǁTrainerǁ*__mutmut_*[05]0" \
    "bench.train.xǁTrainerǁ*__mutmut_*[27]5"

mutmut results
