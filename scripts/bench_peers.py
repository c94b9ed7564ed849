#!/usr/bin/env python3
"""Time BatchLU's peers on bench-gpu's grid: torch.linalg.lu_factor and its
autograd backward (CPU always, CUDA when available), and JAX's LU
(jax.lax.linalg.lu, the kernel under jax.scipy.linalg.lu_factor) with its VJP
when JAX is installed. Writes the same JSON schema as bench-gpu, so
scripts/plot_bench.py draws both together:

    python3 scripts/bench_peers.py --quick --json peers.json
    swift run -c release bench-gpu --quick --json batchlu.json
    python3 scripts/plot_bench.py batchlu.json peers.json -o bench.png

Installing the peers (neither is needed by BatchLU itself):
    pip install torch        # on Linux x86-64 this pulls a ~3 GB set of wheels
                             # with the CUDA libraries, GPU or not; PyTorch also
                             # publishes smaller CPU-only wheels (see its install
                             # selector for the index to pass to pip)
    pip install "jax[cpu]"   # ~100 MB; "jax[cuda12]" for NVIDIA GPUs
Without either, the script says so and exits with status 3.

Method (the same as bench-gpu's): one warm-up call, then the median over at
least 3 repeats, more while under --seconds (2 s; 0.3 s with --quick), or
exactly --repeat N. The forward is `torch.linalg.lu_factor(A)` (jax:
`lax.linalg.lu(A)`) on the whole batch; the backward is
`LU.backward(G, retain_graph=True)` with a random G (jax: the VJP closure,
jitted), i.e. the backward alone, without the forward. CUDA timings
synchronise before the clock stops. GFLOP/s use the LAWN 41 getrf count (as
FlopCount.getrf); bwd_gflops divide the same count by the backward time. The
residual check rebuilds P·L·U (torch.lu_unpack; jax: from the permutation)
on at most 8 matrices and requires ‖PLU − A‖_F ≤ 30·max(m,n)·ε·‖A‖_F.
peak_gflops is the peer's own large square matmul on the same device (torch:
torch.matmul; jax: jnp.matmul), best of 3, and speedup_vs_cpu compares a GPU
row with the same peer's CPU row of this run (CPU rows: 1.0).

Threads: torch on the CPU keeps its own default (one intra-op thread per
core, torch.get_num_threads()) unless --threads N calls
torch.set_num_threads(N); its batched CPU LU is LAPACK getrf per matrix,
threaded by torch/BLAS as torch decides. (Seen with torch 2.15.0+cu132 on a
2-core machine: after an explicit torch.set_num_threads(2) — even to the
default — lu_factor on a 2 x 256 x 256 f64 batch returns wrong factors and
MKL prints "Parameter 6 was incorrect on entry to DLASWP"; the residual check,
which also requires every pivot in 1..m, marks such rows FAIL, without a
backward time when the backward raises on those pivots.) JAX's CPU backend (XLA) uses all cores by default;
--threads does not change it. Both are recorded in "machine".

JSON schema ("batchlu-bench/1"; the authoritative description is the comment
at the top of Sources/bench-gpu/main.swift): an object with
  "schema": "batchlu-bench/1", "tool": "bench_peers.py",
  "units": {key: unit},
  "machine": {hostname, os, cpu_model, cores, build ("python"), date,
              python, torch_version, torch_threads, cuda_device, jax_version,
              jax_devices, ...},
  "settings": {quick, repeat, seconds, dtypes, shapes, peak},
  "backends": [{name ("torch-cpu", "torch-cuda", "jax-cpu", "jax-gpu"), role
                ("peer"), dtypes, device, platform, platform_version}],
  "peaks": [{backend, precision ("f64"|"f32"), gflops, method, unavailable}],
  "results": [{backend, backend_role, device, dtype ("f32"|"f64"|"c64"|"c128"),
               shape [batch, m, n], batch, m, n, fwd_ms, fwd_repeats, bwd_ms,
               bwd_repeats, gflops, bwd_gflops, peak_gflops, pct_peak,
               speedup_vs_cpu, bwd_speedup_vs_cpu, path, execution,
               residual_ok, residual_max, residual_tol, residual_sampled,
               status ("ok"|"FAIL"|"skipped"|"error"), message}]
Times are milliseconds, rates GFLOP/s, pct_peak percent, speed-ups ratios.
"""
import argparse
import csv
import datetime
import json
import math
import os
import platform
import socket
import statistics
import sys
import time

# The same grids as Sources/bench-gpu/Grid.swift (keep in sync).
FULL = [(100000, 4, 4), (100000, 8, 8), (20000, 16, 16), (10000, 32, 32), (2000, 64, 64),
        (500, 128, 128), (100, 256, 256), (20, 512, 512), (4, 1024, 1024), (1, 2048, 2048),
        (1000, 64, 32), (1000, 32, 64)]
QUICK = [(10000, 8, 8), (1000, 32, 32), (200, 64, 64), (2, 256, 256), (100, 64, 32)]
DTYPES = ("f32", "f64", "c64", "c128")
EPS = {"f32": 2.0 ** -23, "c64": 2.0 ** -23, "f64": 2.0 ** -52, "c128": 2.0 ** -52}
UNITS = {
    "fwd_ms": "milliseconds (median)", "bwd_ms": "milliseconds (median)",
    "gflops": "GFLOP/s (LAWN 41 getrf flops / fwd time)",
    "bwd_gflops": "GFLOP/s (LAWN 41 getrf flops / bwd time)",
    "peak_gflops": "GFLOP/s (GEMM)", "pct_peak": "percent of peak_gflops",
    "speedup_vs_cpu": "ratio (same peer's cpu fwd_ms / fwd_ms)",
    "bwd_speedup_vs_cpu": "ratio (same peer's cpu bwd_ms / bwd_ms)",
    "residual_max": "relative (‖PLU − A‖_F / ‖A‖_F)", "residual_tol": "relative",
    "seconds": "seconds (time cap on one figure's repeats)",
}


def getrf_flops(m, n, complex_):
    """LAWN 41 flop count of getrf on one m × n matrix (as FlopCount.getrf)."""
    if m == 0 or n == 0:
        return 0.0
    mm, nn = float(max(m, n)), float(min(m, n))
    fmuls = mm * nn * nn / 2 - nn ** 3 / 6 + mm * nn / 2 - nn * nn / 2 + 2 * nn / 3
    fadds = mm * nn * nn / 2 - nn ** 3 / 6 - mm * nn / 2 + nn / 6
    return 6 * fmuls + 2 * fadds if complex_ else fmuls + fadds


def parse_shapes(text):
    out = []
    for part in text.split(","):
        part = part.strip().lower().replace("×", "x")
        if not part:
            continue
        v = [int(p) for p in part.split("x")]
        if len(v) == 2:
            out.append((v[0], v[1], v[1]))
        elif len(v) == 3:
            out.append((v[0], v[1], v[2]))
        else:
            raise SystemExit(f"bench_peers.py: bad shape '{part}' (use batch x n or batch x m x n)")
    return out


def sample_indices(batch):
    if batch <= 8:
        return list(range(batch))
    return [i * (batch - 1) // 7 for i in range(8)]


def median_time(fn, sync, repeat, seconds):
    """Median seconds of fn() over the repeats (the warm-up is the caller's)."""
    samples = []
    start = time.perf_counter()
    while True:
        if repeat is not None:
            if len(samples) >= repeat:
                break
        elif len(samples) >= 3 and (time.perf_counter() - start >= seconds or len(samples) >= 100):
            break
        t0 = time.perf_counter()
        fn()
        sync()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples), len(samples)


def finite(x):
    """x with every non-finite float replaced by None (JSON has no NaN)."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [finite(v) for v in x]
    return x


def progress(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- torch

class TorchPeer:
    def __init__(self, torch, device, threads):
        self.torch = torch
        self.device = device
        self.name = "torch-" + device.type
        self.path = "torch.linalg.lu_factor"
        if device.type == "cpu" and threads is not None:
            torch.set_num_threads(threads)
        self.device_name = (torch.cuda.get_device_name(device) if device.type == "cuda"
                            else platform.processor() or "cpu")

    def sync(self):
        if self.device.type == "cuda":
            self.torch.cuda.synchronize(self.device)

    def dtype(self, d):
        t = self.torch
        return {"f32": t.float32, "f64": t.float64, "c64": t.complex64, "c128": t.complex128}[d]

    def peak(self, precision):
        t = self.torch
        dt = t.float64 if precision == "f64" else t.float32
        n = 512
        while True:
            a = t.rand(n, n, dtype=dt, device=self.device) - 0.5
            b = t.rand(n, n, dtype=dt, device=self.device) - 0.5
            t.matmul(a, b)
            self.sync()
            t0 = time.perf_counter()
            t.matmul(a, b)
            self.sync()
            el = time.perf_counter() - t0
            if el >= 0.15 or n >= 8192:
                break
            n *= 2
        best = min(self._timed(lambda: t.matmul(a, b)) for _ in range(3))
        return 2.0 * n ** 3 / best * 1e-9, f"torch.matmul {n}x{n}x{n}, best of 3"

    def _timed(self, fn):
        t0 = time.perf_counter()
        fn()
        self.sync()
        return time.perf_counter() - t0

    def run(self, d, shape, repeat, seconds):
        t = self.torch
        batch, m, n = shape
        gen = t.Generator(device="cpu").manual_seed(1)
        dt = self.dtype(d)
        a = (t.rand(batch, m, n, generator=gen, dtype=dt) * 2 - (1 + 1j if dt.is_complex else 1)).to(self.device)
        g = (t.rand(batch, m, n, generator=gen, dtype=dt) * 2 - (1 + 1j if dt.is_complex else 1)).to(self.device)
        # Forward.
        lu, piv = t.linalg.lu_factor(a)
        self.sync()
        fwd = median_time(lambda: t.linalg.lu_factor(a), self.sync, repeat, seconds)
        # Residual on a sample.
        idx = sample_indices(batch)
        worst, ok, notes = 0.0, True, []
        tol = 30 * max(m, n, 1) * EPS[d]
        if idx and not bool(((piv >= 1) & (piv <= m)).all()):
            # Pivots outside 1..m are a wrong result too (lu_unpack would raise).
            bad = [i for i in idx if not bool(((piv[i] >= 1) & (piv[i] <= m)).all())]
            ok, worst = False, float("nan")
            notes.append(f"pivots outside 1..{m} (matrices {bad or 'outside the sample'})")
        elif idx:
            sel = t.tensor(idx, device=self.device)
            p, l, u = t.lu_unpack(lu[sel], piv[sel])
            a_s = a[sel]
            rec = p @ l @ u
            num = t.linalg.matrix_norm(rec - a_s).double().cpu()
            den = t.linalg.matrix_norm(a_s).double().cpu()
            for i, (x, y) in enumerate(zip(num.tolist(), den.tolist())):
                rel = x / y if y > 0 else x
                worst = max(worst, rel) if not math.isnan(rel) else float("nan")
                if not rel <= tol:
                    ok = False
                    notes.append(f"matrix {idx[i]}: {rel:.2e} > {tol:.2e}")
        # Backward alone: one graph, backward with retain_graph. When the
        # forward already failed its check, a backward that raises on the bad
        # factors leaves the row's backward time out (the row is FAIL).
        ar = a.clone().requires_grad_(True)
        lu_r, _ = t.linalg.lu_factor(ar)

        def backward():
            ar.grad = None
            lu_r.backward(g, retain_graph=True)
        try:
            backward()
            self.sync()
            bwd = median_time(backward, self.sync, repeat, seconds)
        except Exception as e:  # noqa: BLE001
            if ok:
                raise
            bwd = (None, 0)
            notes.append(f"backward: {type(e).__name__}: {(str(e).splitlines() or [''])[0]}")
        return fwd, bwd, (ok, worst, tol, len(idx), "; ".join(notes) or None)


# ---------------------------------------------------------------- jax

class JaxPeer:
    def __init__(self, jax, device):
        self.jax = jax
        self.device = device
        self.name = "jax-" + ("gpu" if device.platform in ("gpu", "cuda", "rocm") else device.platform)
        self.path = "jax.lax.linalg.lu"
        self.device_name = getattr(device, "device_kind", str(device))
        from jax import lax
        self.lax = lax
        self.lu_jit = jax.jit(lambda x: lax.linalg.lu(x))

    def sync(self):
        pass  # every timed call ends in block_until_ready

    def dtype(self, d):
        import jax.numpy as jnp
        return {"f32": jnp.float32, "f64": jnp.float64, "c64": jnp.complex64, "c128": jnp.complex128}[d]

    def peak(self, precision):
        jax = self.jax
        import jax.numpy as jnp
        dt = jnp.float64 if precision == "f64" else jnp.float32
        mm = jax.jit(jnp.matmul)
        n = 512
        while True:
            a = jax.device_put(jnp.full((n, n), 0.5, dtype=dt), self.device)
            b = jax.device_put(jnp.full((n, n), 0.25, dtype=dt), self.device)
            mm(a, b).block_until_ready()
            t0 = time.perf_counter()
            mm(a, b).block_until_ready()
            el = time.perf_counter() - t0
            if el >= 0.15 or n >= 8192:
                break
            n *= 2
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            mm(a, b).block_until_ready()
            best = min(best, time.perf_counter() - t0)
        return 2.0 * n ** 3 / best * 1e-9, f"jnp.matmul {n}x{n}x{n} (jit), best of 3"

    def run(self, d, shape, repeat, seconds):
        jax = self.jax
        import numpy as np
        batch, m, n = shape
        rng = np.random.default_rng(1)
        dt = self.dtype(d)

        def rand():
            x = rng.uniform(-1, 1, (batch, m, n))
            if d in ("c64", "c128"):
                x = x + 1j * rng.uniform(-1, 1, (batch, m, n))
            return jax.device_put(x.astype(dt), self.device)
        a, g = rand(), rand()
        lu, piv, perm = self.lu_jit(a)
        lu.block_until_ready()
        fwd = median_time(lambda: self.lu_jit(a)[0].block_until_ready(), self.sync, repeat, seconds)
        _, vjp = jax.vjp(lambda x: self.lax.linalg.lu(x)[0], a)
        apply = jax.jit(lambda f, ct: f(ct))
        apply(vjp, g)[0].block_until_ready()
        bwd = median_time(lambda: apply(vjp, g)[0].block_until_ready(), self.sync, repeat, seconds)
        # Residual: row i of L·U is row perm[i] of A.
        idx = sample_indices(batch)
        k = min(m, n)
        lu_h, perm_h, a_h = np.asarray(lu), np.asarray(perm), np.asarray(a)
        worst, ok, notes = 0.0, True, []
        tol = 30 * max(m, n, 1) * EPS[d]
        for b in idx:
            f = lu_h[b].astype(np.complex128 if d in ("c64", "c128") else np.float64)
            low = np.tril(f[:, :k], -1) + np.eye(m, k)
            up = np.triu(f[:k, :])
            rec = low @ up
            ref = a_h[b][perm_h[b]]
            rel = np.linalg.norm(rec - ref) / max(np.linalg.norm(ref), 1e-300)
            worst = max(worst, rel) if not math.isnan(rel) else float("nan")
            if not rel <= tol:
                ok = False
                notes.append(f"matrix {b}: {rel:.2e} > {tol:.2e}")
        return fwd, bwd, (ok, float(worst), tol, len(idx), "; ".join(notes) or None)


# ---------------------------------------------------------------- main

def machine_info(threads, torch, jax):
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info = {
        "hostname": socket.gethostname(), "os": f"{platform.system()} {platform.release()} {platform.machine()}",
        "cpu_model": cpu, "cores": os.cpu_count(), "build": "python",
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "python": platform.python_version(),
        "torch_version": None, "torch_threads": None, "torch_blas": None, "cuda_device": None,
        "jax_version": None, "jax_devices": None, "threads_requested": threads,
    }
    if torch is not None:
        info["torch_version"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
        try:
            cfg = torch.__config__.show()
            info["torch_blas"] = next((ln.strip() for ln in cfg.splitlines() if "BLAS_INFO" in ln), None)
        except Exception:  # noqa: BLE001 - informational only
            pass
        if torch.cuda.is_available():
            info["cuda_device"] = torch.cuda.get_device_name(0)
    if jax is not None:
        info["jax_version"] = jax.__version__
        info["jax_devices"] = [str(d) for d in jax.devices()]
    return info


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="the small grid of bench-gpu --quick")
    ap.add_argument("--shapes", help='comma-separated "batch x n" or "batch x m x n", e.g. 100000x8,1000x64x32')
    ap.add_argument("--dtype", default="f64,f32", help="comma-separated: f32, f64, c64, c128 (default f64,f32)")
    ap.add_argument("--peers", default="torch,jax",
                    help="comma-separated peers: torch, jax (default both; a missing one is skipped with a note "
                         "unless named alone)")
    ap.add_argument("--no-cuda", action="store_true", help="CPU only, even when CUDA is available")
    ap.add_argument("--threads", type=int,
                    help="call torch.set_num_threads(N) (default: leave torch's own default, one thread per core)")
    ap.add_argument("--repeat", type=int, help="exactly N timed calls per figure after the warm-up")
    ap.add_argument("--seconds", type=float, help="time cap on one figure's repeats (default 2; 0.3 with --quick)")
    ap.add_argument("--no-peak", action="store_true", help="skip the matmul peak measurement")
    ap.add_argument("--json", help="write the JSON file (schema above)")
    ap.add_argument("--csv", help="write the result rows as CSV")
    args = ap.parse_args()

    shapes = parse_shapes(args.shapes) if args.shapes else (QUICK if args.quick else FULL)
    dtypes = [d.strip().lower() for d in args.dtype.split(",") if d.strip()]
    for d in dtypes:
        if d not in DTYPES:
            raise SystemExit(f"bench_peers.py: unknown dtype '{d}' (use f32, f64, c64, c128)")
    seconds = args.seconds if args.seconds is not None else (0.3 if args.quick else 2.0)
    wanted = [p.strip().lower() for p in args.peers.split(",") if p.strip()]

    torch = jax = None
    missing = []
    if "torch" in wanted:
        try:
            import torch as torch_mod
            torch = torch_mod
        except ImportError as e:
            missing.append(f"torch is not installed ({e}); install it with `pip install torch` "
                           "(on Linux x86-64 a ~3 GB set of wheels with the CUDA libraries)")
    if "jax" in wanted:
        try:
            import jax as jax_mod
            if any(d in ("f64", "c128") for d in dtypes):
                jax_mod.config.update("jax_enable_x64", True)
            jax = jax_mod
        except ImportError as e:
            missing.append(f"jax is not installed ({e}); install it with `pip install \"jax[cpu]\"`")
    for msg in missing:
        progress("bench_peers.py: note: " + msg)
    if torch is None and jax is None:
        print("bench_peers.py: no peer to time: " + "; ".join(missing or ["--peers names none"]), file=sys.stderr)
        sys.exit(3)
    if len(wanted) == 1 and missing:
        sys.exit(3)

    peers = []
    if torch is not None:
        peers.append(TorchPeer(torch, torch.device("cpu"), args.threads))
        if torch.cuda.is_available() and not args.no_cuda:
            peers.append(TorchPeer(torch, torch.device("cuda"), args.threads))
    if jax is not None:
        peers.append(JaxPeer(jax, jax.devices("cpu")[0]))
        try:
            gpus = [] if args.no_cuda else jax.devices("gpu")
        except RuntimeError:
            gpus = []
        if gpus:
            peers.append(JaxPeer(jax, gpus[0]))

    machine = machine_info(args.threads, torch, jax)
    print(f"bench_peers.py — {', '.join(p.name for p in peers)}; {machine['cpu_model']}, {machine['cores']} cores; "
          f"torch {machine['torch_version']} ({machine['torch_threads']} threads), jax {machine['jax_version']}; "
          f"{machine['date']}")

    peaks = []
    if not args.no_peak:
        for p in peers:
            for prec in sorted({"f64" if d in ("f64", "c128") else "f32" for d in dtypes}):
                progress(f"measuring the matmul peak of {p.name} ({prec})")
                try:
                    g, method = p.peak(prec)
                    peaks.append({"backend": p.name, "precision": prec, "gflops": g, "method": method,
                                  "unavailable": None})
                    print(f"  peak {p.name} {prec}: {g:.1f} GFLOP/s ({method})")
                except Exception as e:  # noqa: BLE001 - reported, not fatal
                    peaks.append({"backend": p.name, "precision": prec, "gflops": None, "method": "",
                                  "unavailable": str(e)})

    def peak_of(name, d):
        prec = "f64" if d in ("f64", "c128") else "f32"
        return next((x["gflops"] for x in peaks if x["backend"] == name and x["precision"] == prec), None)

    results = []
    total = len(dtypes) * len(shapes) * len(peers)
    i = 0
    hdr = f"{'dtype':5} {'shape':18} {'backend':11} {'fwd ms':>10} {'GFLOP/s':>9} {'% peak':>7} {'bwd ms':>10} {'bwd GF/s':>9}  check"
    print(hdr)
    for d in dtypes:
        for shape in shapes:
            cpu_row = {}
            for p in peers:
                i += 1
                batch, m, n = shape
                label = f"{batch}x{n}" if m == n else f"{batch}x{m}x{n}"
                progress(f"[{i}/{total}] {d} {label} on {p.name}")
                row = {"backend": p.name, "backend_role": "peer", "device": p.device_name, "dtype": d,
                       "shape": [batch, m, n], "batch": batch, "m": m, "n": n,
                       "fwd_ms": None, "fwd_repeats": 0, "bwd_ms": None, "bwd_repeats": 0,
                       "gflops": None, "bwd_gflops": None, "peak_gflops": None, "pct_peak": None,
                       "speedup_vs_cpu": None, "bwd_speedup_vs_cpu": None, "path": p.path,
                       "execution": f"{p.name}/{p.path}", "residual_ok": None, "residual_max": None,
                       "residual_tol": None, "residual_sampled": 0, "status": "ok", "message": None}
                try:
                    (tf, nf), (tb, nb), (ok, worst, tol, sampled, note) = p.run(d, shape, args.repeat, seconds)
                    flops = batch * getrf_flops(m, n, d in ("c64", "c128"))
                    row.update(fwd_ms=tf * 1e3, fwd_repeats=nf, bwd_ms=None if tb is None else tb * 1e3,
                               bwd_repeats=nb, gflops=flops / tf * 1e-9,
                               bwd_gflops=None if tb is None else flops / tb * 1e-9,
                               residual_ok=ok, residual_max=worst, residual_tol=tol, residual_sampled=sampled)
                    pk = peak_of(p.name, d)
                    if pk:
                        row.update(peak_gflops=pk, pct_peak=100 * row["gflops"] / pk)
                    if not ok:
                        row.update(status="FAIL", message=note)
                except Exception as e:  # noqa: BLE001 - a failing row is reported, the grid goes on
                    row.update(status="error", message=f"{type(e).__name__}: {e}")
                family = p.name.split("-")[0]
                if p.name.endswith("-cpu"):
                    cpu_row[family] = row
                base = cpu_row.get(family)
                if base and base.get("fwd_ms") and row.get("fwd_ms"):
                    row["speedup_vs_cpu"] = base["fwd_ms"] / row["fwd_ms"]
                if base and base.get("bwd_ms") and row.get("bwd_ms"):
                    row["bwd_speedup_vs_cpu"] = base["bwd_ms"] / row["bwd_ms"]
                results.append(row)

                def f(x, fmt):
                    return "—" if x is None else format(x, fmt)
                check = {"ok": f"ok {f(row['residual_max'], '.1e')}", "FAIL": f"*** FAIL *** {row['message']}",
                         "error": f"*** ERROR *** {row['message']}"}.get(row["status"], row["status"])
                pct = f(row["pct_peak"], ".1f") + ("%" if row["pct_peak"] is not None else "")
                print(f"{d:5} {label:18} {p.name:11} {f(row['fwd_ms'], '10.3f'):>10} {f(row['gflops'], '9.2f'):>9} "
                      f"{pct:>7} {f(row['bwd_ms'], '10.3f'):>10} {f(row['bwd_gflops'], '9.2f'):>9}  {check}", flush=True)

    bad = [r for r in results if r["status"] in ("FAIL", "error")]
    print(f"{len(results)} rows: {len(results) - len(bad)} ok, {len(bad)} failed")
    doc = {
        "schema": "batchlu-bench/1", "tool": "bench_peers.py", "units": UNITS, "machine": machine,
        "settings": {"quick": args.quick, "repeat": args.repeat, "seconds": seconds, "dtypes": dtypes,
                     "shapes": [f"{b}x{n}" if m == n else f"{b}x{m}x{n}" for b, m, n in shapes],
                     "peak": not args.no_peak},
        "backends": [{"name": p.name, "role": "peer", "dtypes": dtypes, "device": p.device_name,
                      "platform": None, "platform_version": None} for p in peers],
        "peaks": peaks, "results": results,
    }
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(finite(doc), fh, indent=2, allow_nan=False, default=str)
            fh.write("\n")
        print(f"JSON written to {args.json}")
    if args.csv and results:
        keys = list(results[0].keys())
        with open(args.csv, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=keys)
            w.writeheader()
            for r in results:
                w.writerow({k: ("x".join(map(str, r[k])) if k == "shape" else r[k]) for k in keys})
        print(f"CSV written to {args.csv}")
    sys.exit(2 if bad else 0)


if __name__ == "__main__":
    main()
