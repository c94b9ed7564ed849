// bench-gpu: the BatchLU benchmark (`swift run -c release bench-gpu --help`).
//
// It times the batched LU factorization (luFactorEx) and its backward
// (luFactorBackward with a random gradient) over a grid of shapes, on the
// automatically chosen backend and on the CPU fallback side by side (plus
// every other backend with --all-backends), checks each factorization on a
// sample of the batch, and reports GFLOP/s (LAWN 41 getrf count,
// FlopCount.getrf), the fraction of the backend's GEMM peak measured at the
// start, and the speed-up over the CPU fallback. Progress goes to stderr,
// the table to stdout. Exit status: 0, or 2 when a row failed its residual
// check or raised an error (a backend that fails a call, named or not, is an
// error; a row skipped because the device named for it cannot run the type,
// f64 or c128 without cl_khr_fp64, is not a failure). Bad options, shapes
// (or shapes too large for this machine's memory), backend names,
// BATCHLU_BACKEND values and --json / --csv paths that cannot be written are
// refused before any work (exit status 64); a well-formed backend name that
// no OpenCL device matches is refused after the device probe, before any
// timing (exit status 1).
//
// JSON schema ("batchlu-bench/1", written by --json; scripts/bench_peers.py
// writes the same schema, and scripts/plot_bench.py reads it):
//
//   {
//     "schema": "batchlu-bench/1",
//     "tool": "bench-gpu" | "bench_peers.py",
//     "units": { key: unit, ... }             // the units of the figures below
//     "machine": {
//       "hostname", "os", "cpu_model": str, "cores": int,
//       "cpu_avx2", "cpu_avx512f": bool,
//       "openblas_core": str                   // CPUBackend.openBLASCoreName
//       "openblas_config": str, "openblas_coretype_env", "openblas_num_threads_env": str|null,
//       "openblas_threads_batch": int          // 1: BatchLU splits the batch over cores itself
//       "openblas_threads_peak": int           // threads of the CPU GEMM peak (all cores)
//       "openblas_warning": str|null           // generic kernels on an AVX2/AVX-512 CPU, with the fix
//       "build": "release" | "debug", "date": ISO 8601,
//       "opencl_devices": [ { "platform", "platform_version", "platform_vendor", "device",
//                             "device_version", "driver_version", "type": "CPU"|"GPU"|...,
//                             "compute_units": int, "global_memory_bytes": int, "fp64": bool } ],
//       "opencl_error": str|null               // why there is no OpenCL device
//       "batchlu_backend_env": str|null        // BATCHLU_BACKEND, when set
//     },
//     "settings": { "quick": bool, "repeat": int|null, "seconds": number,
//                   "dtypes": [str], "shapes": ["100000x8", "1000x64x32", ...], "peak": bool },
//     "backends": [ { "name": "cpu" | "opencl:<device>" | "torch-cpu" | ...,
//                     "role": "automatic" | "cpu-fallback" | "automatic+cpu-fallback" | "selected" | "extra"
//                             | "BATCHLU_BACKEND" (the automatic choice named by that variable: no fallback)
//                             | "peer" (scripts/bench_peers.py's files),
//                     "dtypes": [str],              // the element types that ran on it
//                     "device": str|null, "platform": str|null, "platform_version": str|null } ],
//     "peaks": [ { "backend": str, "precision": "f64"|"f32", "gflops": number|null,
//                  "method": str, "unavailable": str|null } ],
//     "results": [ {
//         "backend": str, "backend_role": str, "device": str|null,
//         "dtype": "f32"|"f64"|"c64"|"c128",
//         "shape": [batch, m, n], "batch": int, "m": int, "n": int,
//         "fwd_ms": number|null,                 // median forward time, milliseconds
//         "fwd_repeats": int,
//         "copy_ms": number|null,                // CPU rows: median time to copy A into a fresh array of its
//                                                // size on all cores (the memory floor of an out-of-place forward);
//                                                // absent from bench_peers.py's rows
//         "bwd_ms": number|null,                 // median backward time, milliseconds
//         "bwd_repeats": int,
//         "gflops": number|null,                 // batch * FlopCount.getrf / fwd time, GFLOP/s
//         "bwd_gflops": number|null,             // batch * FlopCount.getrf / bwd time (getrf-equivalent rate)
//         "peak_gflops": number|null,            // this backend's GEMM peak at this precision
//         "pct_peak": number|null,               // 100 * gflops / peak_gflops, percent
//         "speedup_vs_cpu": number|null,         // CPU fwd_ms / this fwd_ms (same run), ratio
//         "bwd_speedup_vs_cpu": number|null,     // CPU bwd_ms / this bwd_ms, ratio
//         "path": str|null,                      // kernel path (LUFactors.execution.path)
//         "execution": str|null,                 // "backend/path" of the forward
//         "fallback": str|null,                  // automatic rows (bench-gpu only): "forward", "backward", "forward+backward"
//                                                // ran on the CPU after the device failed (why: "message")
//         "residual_ok": bool|null,              // every sampled ‖PLU − A‖_F ≤ 30·max(m,n)·ε·‖A‖_F
//         "residual_max": number|null,           // largest ‖PLU − A‖_F / ‖A‖_F in the sample
//         "residual_tol": number|null,           // 30·max(m,n)·ε
//         "residual_sampled": int,               // matrices checked (≤ 8)
//         "status": "ok" | "FAIL" | "skipped" | "error",
//         "message": str|null
//     } ]
//   }
//
// --csv writes the "results" rows (same keys, shape as "BxMxN") plus the
// machine's openblas_core, build and date on every line.
import ArgumentParser

BenchGPU.main()
