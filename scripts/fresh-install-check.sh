#!/usr/bin/env bash
# Does every command the README shows work on a fresh install? (docs/ENVIRONMENT.md)
#
#   scripts/fresh-install-check.sh [SWEEP_DIR [READY_FILE]]
#
# Makes a new virtual environment holding `pip install -e .` and nothing else (no dev
# extras, no system site-packages: pytest would bring pygments in and hide that
# `snakemake --report` needs it), at the versions of requirements/lock.txt, then runs the
# README's quick commands in it. SWEEP_DIR, a working directory where the CI sweep has
# finished (CI passes the tests' own), adds `snakemake --report` on it; with READY_FILE
# the report waits until that file exists (CI runs this check beside its tests, which
# make the sweep, and creates the file when they end). Exit 1 names the command that
# failed. Installs and runs from a copy of the checkout (its tracked and untracked,
# not ignored files), so that building tlbench here never races a `pip install -e .` in
# the checkout; writes only to a temporary folder.
set -euo pipefail
cd "$(dirname "$0")/.."
sweep=${1:-}
ready=${2:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
venv="$work/venv"
mkdir "$work/checkout"
git ls-files -z --cached --others --exclude-standard \
    | (while IFS= read -r -d '' file; do [ -e "$file" ] && printf '%s\0' "$file"; done) \
    | xargs -0 cp --parents -t "$work/checkout"
cd "$work/checkout"

step() {  # step DESCRIPTION COMMAND...: run it, or say which README command broke
    local started=$SECONDS
    if ! "${@:2}" > "$work/out" 2>&1; then
        tail -n 30 "$work/out" >&2
        echo "fresh install: '$1' failed (above); a runtime dependency missing from pyproject.toml?" >&2
        exit 1
    fi
    echo "fresh install: $1 ($((SECONDS - started)) s)"
}

# -c lock.txt: the dependencies pyproject.toml declares, at the locked versions.
python -m venv "$venv"
# Installing is linking: pip's own plan decides what `pip install -e .` brings, and each
# planned package that this Python (CI's, installed from the same lock) already has at
# that version is linked into the venv instead of unpacked again (unpacking took 642 of
# the check's 802 s on the CI machine kind, 5 GB of it torch and CUDA). The venv still
# holds exactly the plan, and nothing of the dev extras. torch's stack is linked before
# planning, so pip plans without fetching its wheels.
purelib=$(python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
link() {  # link PATTERN|PLAN.json: distributions of $purelib into the venv
    "$venv/bin/python" - "$purelib" "$1" <<'EOF'
import json, re, sys, sysconfig
from importlib import metadata
from pathlib import Path
source, target, what = Path(sys.argv[1]), Path(sysconfig.get_paths()["purelib"]), sys.argv[2]
def norm(name): return re.sub(r"[-_.]+", "-", name).lower()
if what.endswith(".json"):  # pip's --report: the planned name -> version
    planned = {norm(i["metadata"]["name"]): i["metadata"]["version"]
               for i in json.load(open(what))["install"]}
    # Never tlbench itself: the venv's must be this copy's, built by pip below.
    wanted = lambda d: (norm(d.metadata["Name"]) != "tlbench"
                        and planned.get(norm(d.metadata["Name"])) == d.version)
else:
    wanted = lambda d: re.fullmatch(what, norm(d.metadata["Name"])) is not None
chosen = [d for d in metadata.distributions(path=[str(source)]) if wanted(d)]
tops = {f.parts[0] for d in chosen for f in d.files or [] if f.parts[0] != ".."}
for top in sorted(tops):
    if (source / top).exists() and not (target / top).exists():
        (target / top).symlink_to(source / top)
print(f"linked {len(chosen)} distributions ({len(tops)} entries) of {source}")
EOF
}
step "link the locked torch stack" link "torch|torchvision|triton|nvidia-.*|cuda-.*"
step "pip's plan for pip install -e . (versions from requirements/lock.txt)" \
    "$venv/bin/pip" install -q --dry-run --report "$work/plan.json" \
    -c requirements/lock.txt -e .
step "link the planned packages" link "$work/plan.json"
step "pip install -e . (what is not linked)" \
    "$venv/bin/pip" install -q -c requirements/lock.txt -e .
step "pip check" "$venv/bin/pip" check
# What pip installed must be in the lock at the lock's version: else the lock is stale.
step "installed = requirements/lock.txt" "$venv/bin/python" - <<'EOF'
import re, sys
from importlib import metadata
def norm(name): return re.sub(r"[-_.]+", "-", name).lower()
locked = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", open("requirements/lock.txt").read(), re.M))
locked = {norm(name): version for name, version in locked.items()}
seeded = {"pip", "setuptools", "wheel", "tlbench"}  # the venv's own, and tlbench itself
stale = [f"{d.metadata['Name']}=={d.version} (lock: {locked.get(norm(d.metadata['Name']), 'absent')})"
         for d in metadata.distributions() if norm(d.metadata["Name"]) not in seeded
         and locked.get(norm(d.metadata["Name"])) != d.version]
if stale:
    sys.exit("requirements/lock.txt is stale, run scripts/lock.sh: " + ", ".join(sorted(stale)))
EOF

# The venv first on PATH (python, tlbench, snakemake), nothing else importable.
export PATH="$venv/bin:$PATH" PYTHONNOUSERSITE=1
unset PYTHONPATH
step "tlbench --help" tlbench --help
step "python -m bench strategies" python -m bench strategies
step "python -m bench data list" python -m bench data list
step "python -m bench data show digits --out grid.png" \
    python -m bench data show digits --out "$work/grid.png"
step "python -m bench compare (baseline against itself)" \
    python -m bench compare results/baseline/ci.csv results/baseline/ci.csv
step "snakemake --dry-run --profile workflows/profiles/default" \
    snakemake --dry-run --cores 2 --profile workflows/profiles/default --directory "$work"
step "snakemake --lint" snakemake --lint
if [ -n "$sweep" ]; then
    while [ -n "$ready" ] && [ ! -e "$ready" ]; do sleep 2; done
    step "snakemake --report on the sweep in $sweep" \
        snakemake --report "$work/report.html" --directory "$sweep" \
        --configfile workflows/configs/ci.yaml
    test -s "$work/report.html"
    step "python -m bench.perf_search on the sweep's tuning trials" \
        python -m bench.perf_search "$sweep/results/ci/tuning/trials"
else
    # Without a finished sweep, at least what --report imports first.
    step "python -c 'import pygments' (snakemake --report needs it)" python -c "import pygments"
fi
echo "fresh install: every command worked ($SECONDS s)"
