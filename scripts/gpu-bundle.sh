#!/usr/bin/env bash
# Builds bench-gpu (release, static Swift runtime) and gathers a folder that
# runs on a GPU machine without Swift or these Debian packages installed:
#
#   bash scripts/gpu-bundle.sh [OUT_DIR]   # default gpu-bundle/ in the repository;
#                                          # a relative OUT_DIR is from the current folder
#   scp -r gpu-bundle gpu-host: && ssh gpu-host gpu-bundle/run.sh --quick --all-backends
#
# OUT_DIR/
#   bench-gpu           the binary (Swift runtime linked in statically)
#   lib/                every shared library it needs except glibc's own
#                       (libOpenCL.so.1 = the ocl-icd loader, libclblast.so.1,
#                       OpenBLAS, LAPACKE/LAPACK/BLAS, libgfortran, libquadmath,
#                       libstdc++, libgcc_s, ...), resolved with ldd, symlinks
#                       followed, from the Debian packages on this machine
#   vendors/nvidia.icd  "libnvidia-opencl.so.1": the ICD loader opens NVIDIA's
#                       OpenCL driver, which comes with the GPU driver on the
#                       target machine (not bundled). Drop other .icd files
#                       here for other vendors (e.g. PoCL's for a CPU test).
#   run.sh              sets LD_LIBRARY_PATH (bundle first, then what was set)
#                       and OCL_ICD_VENDORS=vendors/, then execs bench-gpu "$@"
#   README.txt
#
# The target needs glibc at least as new as this machine's (Debian 12: 2.36)
# and, for OpenCL on NVIDIA, the driver's libnvidia-opencl.so.1 on its library
# path (in containers: NVIDIA_DRIVER_CAPABILITIES must include compute).
#
# Environment: SCRATCH (build folder, default .build-bundle, git-ignored),
# SWIFT (default swift).
set -euo pipefail

root="$(CDPATH='' cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/gpu-bundle}"
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac  # before the cd below
out="${out%/}"
scratch="${SCRATCH:-$root/.build-bundle}"
swift="${SWIFT:-swift}"

# An existing OUT_DIR is taken as the folder it is (a symlink's target, "."
# resolved) and replaced: refuse one that is not empty and not an earlier
# bundle (run.sh, bench-gpu, lib/ and vendors/nvidia.icd in it).
if [ -d "$out" ]; then out="$(CDPATH='' cd -- "$out" && pwd -P)"; fi
if [ -z "$out" ] || [ "$out" = / ] || { [ -e "$out" ] && [ ! -d "$out" ]; } ||
   { [ -d "$out" ] && [ -n "$(ls -A -- "$out")" ] &&
     ! { [ -f "$out/run.sh" ] && [ -f "$out/bench-gpu" ] && [ -d "$out/lib" ] && [ -f "$out/vendors/nvidia.icd" ]; }; }; then
    echo "gpu-bundle.sh: '${out:-/}' is neither a new or empty folder nor an earlier bundle (run.sh, bench-gpu, lib/ and vendors/nvidia.icd in it): not replacing it" >&2
    exit 1
fi

# ldd's "name => path (0x...)" lines as "name<TAB>path" (paths may hold
# spaces; "not found" stays as the path).
ldd_pairs() {
    sed -n 's/^[[:space:]]*\([^[:space:]]*\) => \(.*\)$/\1\t\2/p' | sed 's/ (0x[0-9a-f]*)$//'
}

cd "$root"
echo "== building bench-gpu (release, --static-swift-stdlib) in $scratch"
"$swift" build -c release --product bench-gpu --static-swift-stdlib --scratch-path "$scratch"
bin="$("$swift" build -c release --static-swift-stdlib --scratch-path "$scratch" --show-bin-path)/bench-gpu"
[ -x "$bin" ] || { echo "gpu-bundle.sh: no binary at $bin" >&2; exit 1; }

echo "== gathering $out"
rm -rf "$out"
mkdir -p "$out/lib" "$out/vendors"
cp "$bin" "$out/bench-gpu"

# glibc's libraries stay the target's own (bundling them breaks the loader).
is_glibc() {
    case "$1" in
        linux-vdso.so*|ld-linux*|libc.so*|libm.so*|libdl.so*|libpthread.so*|librt.so*|libresolv.so*|libutil.so*|libmvec.so*) return 0 ;;
        *) return 1 ;;
    esac
}

missing=0
while IFS=$'\t' read -r name path; do
    is_glibc "$name" && continue
    if [ "$path" = "not found" ] || [ ! -e "$path" ]; then
        echo "gpu-bundle.sh: $name is not found on this machine (run scripts/setup.sh)" >&2
        missing=1
        continue
    fi
    cp -L "$path" "$out/lib/$name"
    echo "   lib/$name  <-  $(readlink -f "$path")"
done < <(ldd "$bin" | ldd_pairs)
[ "$missing" = 0 ] || exit 1

# The libraries bench-gpu needs by name (it also dlopens libOpenCL.so.1 and
# libclblast.so.1): fail loudly if ldd did not bring them.
for need in libOpenCL.so.1 libclblast.so.1 libopenblas.so.0 liblapacke.so.3; do
    [ -e "$out/lib/$need" ] || { echo "gpu-bundle.sh: $need missing from the bundle" >&2; exit 1; }
done

printf 'libnvidia-opencl.so.1\n' > "$out/vendors/nvidia.icd"

cat > "$out/run.sh" <<'EOF'
#!/bin/sh
# Runs the bundled bench-gpu with the bundle's libraries and OpenCL vendors.
# Arguments go to bench-gpu (try --help). Add .icd files to vendors/ for
# other OpenCL drivers; set OPENBLAS_CORETYPE here too if the header warns.
# The bundle's folder, also when run.sh is reached through a symlink.
self="$(readlink -f -- "$0" 2>/dev/null || printf '%s' "$0")"
here="$(CDPATH='' cd -- "$(dirname -- "$self")" && pwd)" || exit 1
LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
OCL_ICD_VENDORS="$here/vendors"
export LD_LIBRARY_PATH OCL_ICD_VENDORS
exec "$here/bench-gpu" "$@"
EOF
chmod +x "$out/run.sh" "$out/bench-gpu"

cat > "$out/README.txt" <<EOF
bench-gpu bundle (BatchLU), built $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(. /etc/os-release && echo "$PRETTY_NAME").

  ./run.sh                          default grid, automatic backend vs CPU
  ./run.sh --quick --all-backends   short grid, every OpenCL device too
  ./run.sh --json out.json          every figure as JSON (plot with scripts/plot_bench.py)
  ./run.sh --help

OpenCL drivers are found through vendors/*.icd (nvidia.icd names the NVIDIA
driver's libnvidia-opencl.so.1, which must be on the machine). Needs glibc
>= $(ldd --version | head -1 | awk '{print $NF}').
EOF

echo "== checking that every library resolves inside the bundle"
bad=0
while IFS=$'\t' read -r name path; do
    is_glibc "$name" && continue
    case "$path" in
        "$out"/lib/*) ;;
        *) echo "   NOT from the bundle: $name => $path" >&2; bad=1 ;;
    esac
done < <(LD_LIBRARY_PATH="$out/lib" ldd "$out/bench-gpu" | ldd_pairs)
[ "$bad" = 0 ] || { echo "gpu-bundle.sh: some libraries resolve outside the bundle" >&2; exit 1; }
echo "   all $(ls "$out/lib" | wc -l) libraries resolve to $out/lib"
du -sh "$out"
echo "done: $out/run.sh --quick --all-backends"
