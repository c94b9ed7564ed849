// Timing one row: forward (luFactorEx) and backward (luFactorBackward with a
// random gradient) on one backend, then the residual check.
import BatchLU
import Foundation

/// A backend as the benchmark runs it.
struct BackendSpec {
    /// The backend's own name (`cpu`, `opencl:<device>`), as in `Execution.backend`.
    var name: String
    /// `automatic` (what `.automatic` picked, when it is not the CPU),
    /// `cpu-fallback`, `automatic+cpu-fallback` (the CPU, when it is the
    /// automatic choice too), `selected` (--backend) or `extra` (--all-backends).
    var role: String
    var choice: BackendChoice
    /// The OpenCL device, for OpenCL backends.
    var device: CLDeviceInfo?
    var isCPU: Bool { name == "cpu" }
}

struct TimingPolicy {
    /// Exactly this many timed calls (after the warm-up) when set.
    var fixedRepeats: Int?
    /// Otherwise: at least 3 calls, and more while under this many seconds (at most 100).
    var seconds: Double

    /// Median seconds of `body` (the warm-up call is the caller's).
    func median(_ body: () throws -> Void) rethrows -> (seconds: Double, repeats: Int) {
        var samples = [Double]()
        let start = now()
        while true {
            if let r = fixedRepeats {
                if samples.count >= r { break }
            } else if samples.count >= 3 && (now() - start >= seconds || samples.count >= 100) {
                break
            }
            let t0 = now()
            try body()
            samples.append(now() - t0)
        }
        let s = samples.sorted()
        let mid = s.count / 2
        return (s.count % 2 == 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2, s.count)
    }
}

/// One row of results.
struct RowResult {
    enum Status: String { case ok, fail = "FAIL", skipped, error }
    var dtype: DType
    var shape: Shape
    var backend: String
    var role: String
    var device: String?
    var status: Status = .ok
    var message: String?
    var fwdMs: Double?
    var fwdRepeats = 0
    var bwdMs: Double?
    var bwdRepeats = 0
    var gflops: Double?
    var bwdGflops: Double?
    var peakGflops: Double?
    var pctPeak: Double?
    var speedup: Double?
    var bwdSpeedup: Double?
    var path: String?
    var execution: String?
    var residual: ResidualCheck?
}

enum Measure {
    /// Runs one row; errors become the row's status, never a thrown error.
    static func row<T: LUScalar>(_: T.Type, dtype: DType, shape: Shape, spec: BackendSpec, a: Tensor<T>, grad: Tensor<T>,
                                 policy: TimingPolicy, residualFactor: Double = 30) -> RowResult {
        var r = RowResult(dtype: dtype, shape: shape, backend: spec.name, role: spec.role, device: spec.device?.name)
        do {
            // Warm-up (first call compiles OpenCL kernels, fills caches).
            var f = try luFactorEx(a, backend: spec.choice)
            let fwd = try policy.median { f = try luFactorEx(a, backend: spec.choice) }
            r.fwdMs = fwd.seconds * 1e3
            r.fwdRepeats = fwd.repeats
            r.path = f.execution?.path
            r.execution = f.execution?.description
            if let e = f.execution, e.backend != spec.name {
                r.message = "ran on \(e.backend), not \(spec.name)"
                r.backend = e.backend
            }
            let flops = Double(shape.batch) * FlopCount.getrf(m: shape.m, n: shape.n, complex: T.isComplex)
            r.gflops = flops / fwd.seconds * 1e-9

            _ = try luFactorBackward(f, grad, backend: spec.choice)
            let bwd = try policy.median { _ = try luFactorBackward(f, grad, backend: spec.choice) }
            r.bwdMs = bwd.seconds * 1e3
            r.bwdRepeats = bwd.repeats
            r.bwdGflops = flops / bwd.seconds * 1e-9

            let check = try Residual.check(a, f, factor: residualFactor)
            r.residual = check
            if !check.ok {
                r.status = .fail
                r.message = [r.message, check.note].compactMap { $0 }.joined(separator: "; ")
            }
        } catch let e as BatchLUError {
            if case .backendUnavailable = e {
                r.status = .skipped
            } else {
                r.status = .error
            }
            r.message = "\(e)"
        } catch {
            r.status = .error
            r.message = "\(error)"
        }
        return r
    }
}
