#!/usr/bin/env bash
# Regenerate the lock files from pyproject.toml (docs/ENVIRONMENT.md):
#
#   requirements/lock.txt      what `pip install -e .` needs at run time, every version pinned
#                              (the container and the fresh-install check install this)
#   requirements/lock-dev.txt  the same versions plus the dev and slurm extras (what CI installs)
#
# torch and torchvision are pinned in requirements/pins.txt; everything else is the newest
# release pyproject.toml allows on the day. The lock is for the platform it is made on
# (CI's: Linux x86_64, CPython 3.11); run it there after changing a dependency, and
# commit the two files. Extra pip-compile options pass through, e.g. `--upgrade-package
# pandas`, or `--extra-index-url URL` for another torch build (docs/ENVIRONMENT.md, CUDA).
set -euo pipefail
cd "$(dirname "$0")/.."

# pip-tools in a throwaway environment: it is not a dependency of tlbench.
tools=$(mktemp -d)
trap 'rm -rf "$tools"' EXIT
python -m venv "$tools"
"$tools/bin/pip" install -q pip-tools

compile() {
    CUSTOM_COMPILE_COMMAND="scripts/lock.sh" "$tools/bin/pip-compile" --quiet --strip-extras \
        --allow-unsafe --no-emit-index-url --no-emit-find-links "$@"
}
compile -c requirements/pins.txt -o requirements/lock.txt "${@}" pyproject.toml
# -c lock.txt: the dev lock adds packages, never moves one the runtime lock pins.
compile -c requirements/lock.txt --extra dev --extra slurm -o requirements/lock-dev.txt \
    "${@}" pyproject.toml
echo "lock: requirements/lock.txt ($(grep -c '==' requirements/lock.txt) packages)," \
     "requirements/lock-dev.txt ($(grep -c '==' requirements/lock-dev.txt) packages)"
