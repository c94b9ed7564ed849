#!/usr/bin/env bash
# Soak test: random mixed BatchLU calls (shapes, element types, singular and
# non-finite members, CPU and OpenCL backends) for SOAK_SECONDS (default 600),
# every result checked against the CPU backend, RSS watched; then a batch
# larger than the OpenCL device's memory (PoCL limited to 1 GiB with
# POCL_MEMORY_LIMIT, which PoCL reads at start-up, hence a process of its own).
#
#   bash scripts/soak.sh                       # 10 minutes + the memory run
#   SOAK_SECONDS=120 bash scripts/soak.sh      # 2 minutes
#   SOAK_SKIP_MEMORY=1 bash scripts/soak.sh    # no memory run
#
# Other knobs: SOAK_SEED, SOAK_RSS_BOUND_MIB (default 64), SOAK_DUMP_DIR
# (inputs of mismatches saved there as .npy), SOAK_MEMORY_GIB (default 1.25),
# SCRATCH (build folder, default .build-soak).
# Exit status: non-zero if any run reports a mismatch, an unexpected error or
# RSS growth beyond the bound.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=${SCRATCH:-.build-soak}
swift build -c release --scratch-path "$scratch" --product batchlu-soak
bin="$scratch/release/batchlu-soak"

status=0
SOAK_SECONDS=${SOAK_SECONDS:-600} "$bin" --seed "${SOAK_SEED:-20261127}" \
    --rss-bound-mib "${SOAK_RSS_BOUND_MIB:-64}" || status=1

if [[ -z "${SOAK_SKIP_MEMORY:-}" ]]; then
    if clinfo -l 2>/dev/null | grep -qi "portable computing language\|pocl"; then
        echo
        POCL_MEMORY_LIMIT=1 "$bin" --memory --gib "${SOAK_MEMORY_GIB:-1.25}" || status=1
    else
        echo "memory run skipped: it needs PoCL (POCL_MEMORY_LIMIT)"
    fi
fi
exit $status
