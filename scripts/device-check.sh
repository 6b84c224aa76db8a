#!/usr/bin/env bash
# The GPU check: one call of the device tool on a lent GPU machine (docs/PERFORMANCE.md,
# "GPU path"). It proves the GPU path on the default sweep (every record trained on
# the GPU, its accelerator memory read) and times, one after the other on that machine:
#   untuned  this checkout's untuned default sweep (the README's command);
#   tuning   tuning on top of it (--configfile workflows/configs/tuned.yaml), so that
#            untuned + tuning is the tuned default sweep (a bound: one invocation would
#            overlap the two);
#   base     a base tree's untuned default sweep, when one is given (issue 17's goal
#            compares the tuned sweep with the untuned one of the commit it was filed at).
#
# Here, first (.whl/ and .base/ are git-ignored):
#   bash scripts/device-wheels.sh
#   rm -rf .base && mkdir .base && git archive 84703fd | tar -x -C .base   # optional
# Then the device tool: run(command="bash scripts/device-check.sh .base",
#                           carry=[".whl", ".base"], timeout_s=600)
#
# Each stage stops at its limit (DEVICE_CHECK_LIMITS, seconds: "untuned tuning base",
# default "190 190 150"), so the call comes back with what it measured inside the tool's
# 10-minute limit (the stages, installing and packing stay under 9 minutes); a stopped
# stage's row says `stopped`. What comes back in $OUT: log.txt, timings.tsv (a row per
# stage), a Snakemake log per stage, results.tar.gz (records, Snakemake's benchmark
# files, summaries) and base-results.tar.gz. DEVICE_CHECK_DEVICE=cpu (and
# DEVICE_CHECK_CONFIGS=workflows/configs/ci.yaml, config files merged under tuned.yaml)
# rehearses it on a machine without a GPU.
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
base=${1:+$(cd "$1" && pwd)}
out=${OUT:-$repo/results/device-check}
device=${DEVICE_CHECK_DEVICE:-cuda}
read -r limit_untuned limit_tuning limit_base <<<"${DEVICE_CHECK_LIMITS:-190 190 150}"
configs=${DEVICE_CHECK_CONFIGS:-}
mkdir -p "$out"
exec > >(tee "$out/log.txt") 2>&1

# What the image lacks (scripts/device-wheels.sh), beside its own packages, for its own
# Python, which the sweep's jobs run (`python -m bench`; a `python` is linked if only
# python3 is there).
site=/tmp/device-check-site
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target "$site" .whl/*.whl || exit 1
if ! command -v python >/dev/null; then
    mkdir -p /tmp/device-check-bin && ln -sf "$(command -v python3)" /tmp/device-check-bin/python
    export PATH=/tmp/device-check-bin:$PATH
fi
nvidia-smi -L 2>/dev/null || echo "no nvidia-smi"
PYTHONPATH=$site python3 -c "import torch, sys; print('python', sys.version.split()[0], 'torch', torch.__version__,
'cuda', torch.cuda.is_available() and torch.cuda.get_device_name(0), 'cores', __import__('os').cpu_count())"

printf 'stage\ttree\twall_s\tended\ttrained\ton_device\tgpu_peak_read\ttrain_s\n' >"$out/timings.tsv"

# stage NAME TREE LIMIT SNAKEMAKE-ARGS...: run the tree's sweep from its own folder with
# its own `bench` (first on PYTHONPATH), time it, and add a row.
stage() {
    local name=$1 tree=$2 limit=$3; shift 3
    echo "== $name: snakemake $* (limit ${limit} s)"
    local start ended=finished
    start=$(date +%s)
    (cd "$tree" && PYTHONPATH=$tree:$site timeout "$limit" python3 -m snakemake --cores "$(nproc)" \
        --profile workflows/profiles/default --config device="$device" "$@") \
        >"$out/$name.snakemake.log" 2>&1
    case $? in 0) ;; 124) ended=stopped ;; *) ended=failed; tail -20 "$out/$name.snakemake.log" ;; esac
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$tree" "$(($(date +%s) - start))" "$ended" \
        "$(trained_since "$tree" "$start")" >>"$out/timings.tsv"
}

# The runs a stage trained, read with the tree's own bench.records.read_record (its
# schema): records created since the stage started (a tuned run copied from its default
# run keeps the default's `created`), how many of them ran on $device, how many read a
# training peak there, and their summed train_seconds. Records live in `runs/` and, for
# tuning, `trials/` folders below the results folder.
trained_since() {  # from the tree's folder: python3 - puts the working folder first
    (cd "$1" && PYTHONPATH=$1:$site python3 - results "$2" "$device") <<'EOF'
import pathlib, sys
from datetime import datetime
from bench.records import read_record
results, since, device = pathlib.Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
paths = [p for p in results.rglob("*.json")
         if "cache" not in p.parts and {"runs", "trials"} & set(p.parts)]
trained = [r for r in map(read_record, paths)
           if datetime.fromisoformat(r["created"]).timestamp() >= since]
on_device = [r for r in trained if r["device"].startswith(device)]
peak_read = [r for r in on_device if (r["cost"].get("peak_accelerator_bytes") or 0) > 0]
train = sum(r["cost"]["train_seconds"] or 0 for r in trained)
print(len(trained), len(on_device), len(peak_read), round(train, 1), sep="\t")
EOF
}

# One --configfile with every file: a second --configfile would replace the first.
# shellcheck disable=SC2086  # DEVICE_CHECK_CONFIGS is a list of files
stage untuned "$repo" "$limit_untuned" ${configs:+--configfile $configs}
# shellcheck disable=SC2086
stage tuning "$repo" "$limit_tuning" --configfile $configs workflows/configs/tuned.yaml
if [ -n "$base" ]; then
    # shellcheck disable=SC2086
    stage base "$base" "$limit_base" ${configs:+--configfile $configs}
fi
column -t "$out/timings.tsv"
tar -czf "$out/results.tar.gz" --exclude='cache' -C "$repo" results
[ -z "$base" ] || tar -czf "$out/base-results.tar.gz" --exclude='cache' -C "$base" results
