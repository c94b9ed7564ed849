#!/usr/bin/env bash
# Installs the Debian packages BatchLU builds and tests against: OpenBLAS
# (CBLAS), LAPACKE, the OpenCL ICD loader and headers, PoCL (an OpenCL
# implementation on the CPU, used by the tests), CLBlast, and clinfo.
# Idempotent; needs root or sudo. Skips itself where apt-get is absent.
set -euo pipefail
PACKAGES=(pkg-config libopenblas-dev liblapacke-dev ocl-icd-opencl-dev opencl-headers
          pocl-opencl-icd libclblast-dev clinfo)
if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup.sh: apt-get not found; install the equivalents of: ${PACKAGES[*]}" >&2
    exit 0
fi
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "setup.sh: all packages present"
    exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
