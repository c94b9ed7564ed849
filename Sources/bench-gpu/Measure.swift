// Timing one row: forward (luFactorEx) and backward (luFactorBackward with a
// random gradient) on one backend, then the residual check.
import BatchLU
import CBatchKernels
import Dispatch
import Foundation
import Logging
import Synchronization

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
    /// CPU rows: the median time to copy A into a fresh array (``CopyFloor``).
    var copyMs: Double?
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
    /// What of an automatic row ran on the CPU after the device failed:
    /// "forward", "backward" or "forward+backward" (the reasons in `message`).
    var fallback: String?
}

/// BatchLU's warnings, kept so that a row can say when the automatic
/// choice's device failed and the call ran on the CPU (the library logs it;
/// its backward returns no `Execution`). Installed as BatchLU's logger.
final class WarningLog: Sendable {
    static let shared = WarningLog()
    private let lines = Mutex<[String]>([])

    func install() {
        BatchLULog.logger = Logger(label: "BatchLU", factory: { _ in Handler(log: WarningLog.shared) })
    }
    /// The warnings since the last call.
    func take() -> [String] { lines.withLock { l in defer { l.removeAll() }; return l } }
    fileprivate func add(_ s: String) { lines.withLock { $0.append(s) } }

    struct Handler: LogHandler {
        let log: WarningLog
        var metadata = Logger.Metadata()
        var logLevel = Logger.Level.warning
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            if event.level >= .warning { log.add("\(event.message)") }
        }
    }
}

enum Measure {
    /// Runs one row; errors become the row's status, never a thrown error.
    static func row<T: LUScalar>(_: T.Type, dtype: DType, shape: Shape, spec: BackendSpec, a: Tensor<T>, grad: Tensor<T>,
                                 policy: TimingPolicy, residualFactor: Double = 30) -> RowResult {
        var r = RowResult(dtype: dtype, shape: shape, backend: spec.name, role: spec.role, device: spec.device?.name)
        // A backend named for this row (not the automatic choice, which runs
        // such types on the CPU) that cannot run the type: skipped, said so.
        if spec.role != "automatic", dtype.isDouble, let dev = spec.device, !dev.hasFP64 {
            r.status = .skipped
            r.message = "\(dev.name) has no cl_khr_fp64 for \(T.typeName)"
            return r
        }
        var notes = [String]()
        var fellBack = [String]()
        /// The automatic choice's fallbacks to the CPU during `part` (its warnings).
        func noteFallback(_ part: String) {
            let w = WarningLog.shared.take().filter { $0.contains("running it on the CPU backend") }
            if !w.isEmpty, !fellBack.contains(part) {
                fellBack.append(part)
                notes.append("\(part) ran on the CPU: \(w[0])")
            }
        }
        do {
            _ = WarningLog.shared.take()
            // Warm-up (first call compiles OpenCL kernels, fills caches).
            var f = try luFactorEx(a, backend: spec.choice)
            let fwd = try policy.median { f = try luFactorEx(a, backend: spec.choice) }
            r.fwdMs = fwd.seconds * 1e3
            r.fwdRepeats = fwd.repeats
            r.path = f.execution?.path
            r.execution = f.execution?.description
            noteFallback("forward")
            if let e = f.execution, e.backend != spec.name, !fellBack.contains("forward") {
                fellBack.append("forward")
                notes.append("forward ran on \(e.backend), not \(spec.name)")
            }
            if spec.isCPU { r.copyMs = CopyFloor.measure(a, threads: CopyFloor.cores, policy: policy) * 1e3 }
            let flops = Double(shape.batch) * FlopCount.getrf(m: shape.m, n: shape.n, complex: T.isComplex)
            r.gflops = flops / fwd.seconds * 1e-9

            _ = try luFactorBackward(f, grad, backend: spec.choice)
            let bwd = try policy.median { _ = try luFactorBackward(f, grad, backend: spec.choice) }
            r.bwdMs = bwd.seconds * 1e3
            r.bwdRepeats = bwd.repeats
            r.bwdGflops = flops / bwd.seconds * 1e-9
            noteFallback("backward")

            let check = try Residual.check(a, f, factor: residualFactor)
            _ = WarningLog.shared.take()
            r.residual = check
            if !check.ok {
                r.status = .fail
                notes.append(check.note ?? "residual check failed")
            }
        } catch {
            // A backend that fails (build, allocation, launch) is an error:
            // the row did not run, and a named backend does not fall back.
            r.status = .error
            notes.append("\(error)")
        }
        r.fallback = fellBack.isEmpty ? nil : fellBack.joined(separator: "+")
        r.message = notes.isEmpty ? nil : notes.joined(separator: "; ")
        return r
    }
}

/// The memory floor of an out-of-place forward on the CPU: A copied into a
/// fresh array of its size on every core (memcpy), the way the CPU backend
/// makes its outputs (a new array, huge pages advised from 4 MiB). Every
/// forward reads A and writes factors of the same size into such an array,
/// so none through this API can take much less on this machine (streaming
/// stores could shave a little off a plain copy); a row's `fwd ms / copy ms`
/// is how far it is from that floor.
enum CopyFloor {
    static let cores = ProcessInfo.processInfo.activeProcessorCount

    /// A new array holding `src`, written by `threads` threads, each its own
    /// share of the bytes (cut at multiples of 64).
    static func copy<T: LUScalar>(_ src: [T], threads: Int) -> [T] {
        let count = src.count, bytes = count * MemoryLayout<T>.stride
        return [T](unsafeUninitializedCapacity: count) { buf, initialized in
            if let d = buf.baseAddress {
                let raw = UnsafeMutableRawPointer(d)
                if bytes >= 4 << 20 { blk_advise_huge_pages(raw, bytes) }
                src.withUnsafeBytes { s in
                    // Addresses as integers: the shares are disjoint.
                    let base = UInt(bitPattern: s.baseAddress), dst = UInt(bitPattern: raw)
                    let parts = max(1, min(threads, bytes / 4096))
                    DispatchQueue.concurrentPerform(iterations: parts) { p in
                        let lo = bytes * p / parts & ~63, hi = p + 1 == parts ? bytes : bytes * (p + 1) / parts & ~63
                        if lo < hi, let d = UnsafeMutableRawPointer(bitPattern: dst + UInt(lo)),
                           let f = UnsafeRawPointer(bitPattern: base + UInt(lo)) {
                            memcpy(d, f, hi - lo)
                        }
                    }
                }
            }
            initialized = count
        }
    }

    /// Median seconds of ``copy(_:threads:)`` on `a`'s elements, after one warm-up.
    static func measure<T: LUScalar>(_ a: Tensor<T>, threads: Int, policy: TimingPolicy) -> Double {
        var kept = copy(a.elements, threads: threads)
        let t = policy.median { kept = copy(a.elements, threads: threads) }
        // The last copy holds A, bit for bit (else the figure timed something else).
        let same = kept.withUnsafeBytes { k in a.elements.withUnsafeBytes { e in
            k.count == e.count && (k.count == 0 || memcmp(k.baseAddress!, e.baseAddress!, k.count) == 0)
        } }
        precondition(same, "CopyFloor.copy did not reproduce its input")
        return t.seconds
    }
}
