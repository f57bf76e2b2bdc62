#!/usr/bin/env bash
# One command for a run on a device: the device tests, then every benchmark of benchmarks/ at a small size.
#
#   bash benchmarks/device_check.sh cuda          # the first machine with a GPU
#   bash benchmarks/device_check.sh cpu           # here: within 10 minutes on 2 shared CPU cores
#
# 1. `pytest --device DEVICE` over the tests of ops (scatter, segment, softmax, kNN, ...), data, nn, models,
#    GraphSAINT sampling, torch.compile and autocast: every layer and model runs on DEVICE (the torchrun test of
#    tests/sampling is left out: it runs gloo on the CPU whatever the device).
# 2. Every script of benchmarks/*.py with --device DEVICE at a small size (the table below; a test checks that
#    it names every script). Each writes its schema record to benchmarks/results/device/DEVICE/<script>.json.
# 3. A summary record, benchmarks/results/device/DEVICE/device-check.json: tests passed/failed/skipped, the
#    seconds of each step and the exit status of each benchmark.
#
# Environment: PYTHON (default python), GEOCONV_DATA (the data root; the benchmarks read HIV.csv, texas, film,
# ego-Twitter and the meshes from it), DEVICE_CHECK_TESTS (the test paths, default below).
# Runs every step even when one fails; exits non-zero when a test or a benchmark failed.
set -uo pipefail

if [ $# -ne 1 ]; then
    echo "usage: bash benchmarks/device_check.sh DEVICE   (cpu, cuda, cuda:1, mps, ...)" >&2
    exit 2
fi
DEVICE=$1
cd "$(dirname "$0")/.."
REPO=$PWD
export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}"
PYTHON=${PYTHON:-python}
OUT="benchmarks/results/device/${DEVICE//:/-}"
mkdir -p "$OUT"
LOG=$(mktemp -d)
TESTS=${DEVICE_CHECK_TESTS:-tests/ops tests/data tests/nn tests/models tests/sampling/test_saint.py tests/test_compile.py tests/test_autocast.py}

# script -> its small setting (every script of benchmarks/*.py; --device, --repeats, --warmup, --out are added):
# a tenth to a half of the default sizes (compile.py: --quick), enough work for a GPU to show, minutes on a CPU.
declare -A SMALL=(
    [compile.py]="--quick"
    [edge_conv.py]="--clouds 8 --points 512 --k 20 --channels 64 --large-points 20000 --large-k 16"
    [featurize.py]="--limit 200 --chunk 100"
    [gcn.py]="--nodes 50000 --edges 500000 --channels 64"
    [graphsaint.py]="--node-budget 500 --edge-budget 300 --roots 200 --steps 5 --sample-coverage 1 --synthetic-sizes 20000"
    [mesh_pool.py]="--meshes armadillo_T54"
    [ogbn_epoch.py]="--recipe arxiv --scale 0.05 --epochs 2"
    [scatter.py]="--messages 500000 --nodes 50000 --channels 64"
    [sheaf_diffusion.py]="--dataset texas --hidden 16"
    [so2_conv.py]="--lmax 2 4 --edges 2000 --channels 32 --e3nn-max-lmax 4"
    [training_references.py]="--nsd-dataset film --escn-graphs 2"
    [training.py]="--nodes 20000 --edges 200000 --channels 64 --clouds 4 --points 512 --molecules 400 --molhiv-batches 4 --saint-roots 500 --saint-coverage 10 --copy-mb 64 --matmul-size 1024 --so2-edges 2000 --only gcn-cora gcn-random saint dgcnn molhiv bound"
)

now() { date +%s.%N; }
since() { awk -v start="$1" -v end="$(now)" 'BEGIN { printf "%.1f", end - start }'; }
START=$(now)
echo "== device_check $DEVICE: tests ($TESTS)" >&2
TEST_START=$(now)
# shellcheck disable=SC2086  # TESTS is a list of paths
"$PYTHON" -m pytest $TESTS -q -rs -p no:warnings -p no:cacheprovider --device "$DEVICE" --junitxml "$LOG/tests.xml" >&2
TEST_STATUS=$?
TEST_SECONDS=$(since "$TEST_START")

STATUS=()
SECONDS_OF=()
for script in $(cd benchmarks && ls ./*.py | sed 's|^\./||' | sort); do
    if [ -z "${SMALL[$script]+set}" ]; then
        echo "== $script has no small setting in device_check.sh: add one" >&2
        STATUS+=("$script=missing")
        continue
    fi
    echo "== device_check $DEVICE: benchmarks/$script ${SMALL[$script]}" >&2
    begin=$(now)
    # shellcheck disable=SC2086  # the setting is a list of flags
    "$PYTHON" "benchmarks/$script" ${SMALL[$script]} --device "$DEVICE" --repeats 3 --warmup 1 \
        --out "$OUT/${script%.py}.json" > "$LOG/${script%.py}.out"
    code=$?
    STATUS+=("$script=$code")
    SECONDS_OF+=("$script=$(since "$begin")")
    if [ $code -ne 0 ]; then echo "== benchmarks/$script failed (exit $code)" >&2; fi
done
TOTAL_SECONDS=$(since "$START")

"$PYTHON" - "$DEVICE" "$OUT/device-check.json" "$LOG/tests.xml" "$TEST_STATUS" "$TEST_SECONDS" "$TOTAL_SECONDS" \
    "$TESTS" "${STATUS[*]}" "${SECONDS_OF[*]}" <<'EOF'
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from geoconv.records import make, write

device, out, junit, test_status, test_seconds, total_seconds, tests, status, seconds = sys.argv[1:]
counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
if Path(junit).exists():
    for suite in ElementTree.parse(junit).getroot().iter("testsuite"):
        for key in counts:
            counts[key] += int(suite.get(key, 0))
status = dict(item.split("=") for item in status.split())
seconds = {key: float(value) for key, value in (item.split("=") for item in seconds.split())}
figures = {
    "tests_passed": counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"],
    "tests_failed": counts["failures"] + counts["errors"], "tests_skipped": counts["skipped"],
    "tests_seconds": round(float(test_seconds), 1), "total_seconds": round(float(total_seconds), 1),
    "benchmarks_failed": sum(code != "0" for code in status.values()),
}
figures.update({f"{script} seconds": round(value, 1) for script, value in seconds.items()})
record = make(kind="benchmark", task="device-check", dataset="tests and small benchmarks",
              model="every layer, model and benchmark", figures=figures, device=device,
              hyperparameters={"tests": tests.split()}, wall_time_s=round(float(total_seconds), 1),
              command=["bash", "benchmarks/device_check.sh", device], profile="quick",
              extra={"pytest_exit_status": int(test_status), "benchmark_exit_status": status})
write(out, record)
print(f"device_check {device}: tests {figures['tests_passed']} passed, {figures['tests_failed']} failed, "
      f"{figures['tests_skipped']} skipped ({figures['tests_seconds']} s); benchmarks failed: "
      f"{figures['benchmarks_failed']} of {len(status)}; total {figures['total_seconds']} s; records in {Path(out).parent}")
EOF
rm -rf "$LOG"
if [ "$TEST_STATUS" -ne 0 ]; then exit 1; fi
for item in "${STATUS[@]}"; do
    if [ "${item#*=}" != 0 ]; then exit 1; fi
done
