// GEMM peaks, measured once per run: the reference for the "% of peak" column.
//
// CPU: OpenBLAS DGEMM/SGEMM (cblas) on a large square product, with OpenBLAS
// allowed every core. BatchLU itself keeps OpenBLAS at one thread while it
// splits a batch across cores (and threads OpenBLAS only for a lone large
// matrix), so the all-core GEMM is the ceiling of the machine, not of one
// worker. OpenBLAS goes back to one thread afterwards, as BatchLU expects.
//
// OpenCL: CLBlast's strided-batched DGEMM/SGEMM on the device (the library
// BatchLU's blocked path uses for its large products), called through dlopen
// on its own context. Complex rows are compared with the real GEMM peak of
// the same precision (LAWN 41 counts complex flops as real flops).
#if canImport(Glibc)
import Glibc
#endif
import COpenBLAS
import Foundation

/// One measured (or unavailable) peak.
struct Peak: Sendable {
    var backend: String
    /// `f64` or `f32`: the real precision of the GEMM.
    var precision: String
    var gflops: Double?
    /// How it was measured, e.g. `OpenBLAS cblas_dgemm 2048x2048x2048, 2 threads`.
    var method: String
    /// Why there is no figure (nil when there is one).
    var unavailable: String?
}

/// Monotonic seconds.
func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

enum CPUPeak {
    /// Returns once the process has stopped using the CPU (at most 1 s):
    /// after a multithreaded call OpenBLAS's idle workers spin for a while
    /// before they sleep (about 0.1 s on the 2-core VM), and would take a core
    /// from the first timed row.
    static func settle() {
        func cpuSeconds() -> Double {
            var u = rusage()
            getrusage(RUSAGE_SELF.rawValue, &u)
            return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6
        }
        for _ in 0..<50 {
            let c0 = cpuSeconds()
            Thread.sleep(forTimeInterval: 0.02)
            if cpuSeconds() - c0 < 0.002 { return }
        }
    }

    /// Grows a square GEMM until one call takes about 0.15 s (or n = 4096),
    /// then keeps the best of five calls (the best, not the median: a peak).
    static func measure(double: Bool, threads: Int) -> Peak {
        openblas_set_num_threads(Int32(threads))
        defer { openblas_set_num_threads(1) }
        var n = 512
        var best = 0.0
        while true {
            let t = gemm(n: n, double: double, reps: 1)
            if t >= 0.15 || n >= 4096 { break }
            n = t < 0.02 ? n * 2 : min(4096, n + n / 2)
        }
        let t = gemm(n: n, double: double, reps: 5)
        best = 2 * Double(n) * Double(n) * Double(n) / t * 1e-9
        let name = double ? "cblas_dgemm" : "cblas_sgemm"
        return Peak(backend: "cpu", precision: double ? "f64" : "f32", gflops: best,
                    method: "OpenBLAS \(name) \(n)x\(n)x\(n), \(threads) thread\(threads == 1 ? "" : "s"), best of 5",
                    unavailable: nil)
    }

    /// Best seconds of `reps` calls of an `n × n × n` GEMM.
    private static func gemm(n: Int, double: Bool, reps: Int) -> Double {
        let ni = Int32(n)
        if double {
            return bestTime(n: n, reps: reps) { (a: UnsafePointer<Double>, b, c) in
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, ni, ni, ni, 1, a, ni, b, ni, 0, c, ni)
            }
        }
        return bestTime(n: n, reps: reps) { (a: UnsafePointer<Float>, b, c) in
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, ni, ni, ni, 1, a, ni, b, ni, 0, c, ni)
        }
    }

    /// Best seconds of `reps` calls of `product(a, b, c)` on fixed n × n operands.
    private static func bestTime<T: BinaryFloatingPoint>(
        n: Int, reps: Int, _ product: (UnsafePointer<T>, UnsafePointer<T>, UnsafeMutablePointer<T>) -> Void
    ) -> Double {
        let count = n * n
        let a = (0..<count).map { T(($0 * 7919) % 1000) / 1000 - 0.5 }
        let b = (0..<count).map { T(($0 * 104729) % 1000) / 1000 - 0.5 }
        var c = [T](repeating: 0, count: count)
        var best = Double.infinity
        for _ in 0..<reps {
            let t0 = now()
            c.withUnsafeMutableBufferPointer { product(a, b, $0.baseAddress!) }
            best = min(best, now() - t0)
        }
        return best
    }
}

enum OpenCLPeak {
    // CLBlast?gemmStridedBatched(layout, transA, transB, m, n, k, alpha, a, aOff, lda, aStride,
    //                            b, bOff, ldb, bStride, beta, c, cOff, ldc, cStride, batch, queue*, event*)
    typealias DGemm = @convention(c) (Int32, Int32, Int32, Int, Int, Int, Double,
                                      OpaquePointer?, Int, Int, Int, OpaquePointer?, Int, Int, Int, Double,
                                      OpaquePointer?, Int, Int, Int, Int,
                                      UnsafeMutablePointer<OpaquePointer?>?, UnsafeMutablePointer<OpaquePointer?>?) -> Int32
    typealias SGemm = @convention(c) (Int32, Int32, Int32, Int, Int, Int, Float,
                                      OpaquePointer?, Int, Int, Int, OpaquePointer?, Int, Int, Int, Float,
                                      OpaquePointer?, Int, Int, Int, Int,
                                      UnsafeMutablePointer<OpaquePointer?>?, UnsafeMutablePointer<OpaquePointer?>?) -> Int32

    /// CLBlast strided-batched GEMM on `device`, grown until one call takes
    /// about 0.15 s (bounded by the device's memory), best of three calls.
    static func measure(api: OpenCLAPI, device: OpaquePointer, info: CLDeviceInfo, backend: String,
                        double: Bool) -> Peak {
        let precision = double ? "f64" : "f32"
        func na(_ why: String) -> Peak {
            Peak(backend: backend, precision: precision, gflops: nil, method: "CLBlast strided-batched GEMM", unavailable: why)
        }
        if double && !info.hasFP64 { return na("device has no cl_khr_fp64") }
        guard let lib = dlopen("libclblast.so.1", RTLD_NOW) ?? dlopen("libclblast.so", RTLD_NOW) else {
            return na("libclblast.so.1 not found (the library has no public GEMM; CLBlast is what its blocked path uses)")
        }
        let symName = double ? "CLBlastDgemmStridedBatched" : "CLBlastSgemmStridedBatched"
        guard let sym = dlsym(lib, symName) else { return na("libclblast lacks \(symName)") }

        var err: Int32 = 0
        var dev: OpaquePointer? = device
        guard let ctx = api.createContext(nil, 1, &dev, nil, nil, &err), err == 0 else {
            return na("clCreateContext failed (\(err))")
        }
        defer { _ = api.releaseContext(ctx) }
        guard let queue = api.createCommandQueue(ctx, device, 0, &err), err == 0 else {
            return na("clCreateCommandQueue failed (\(err))")
        }
        defer { _ = api.releaseCommandQueue(queue) }
        let elem = double ? 8 : 4

        // One call of `batch` products of n × n; nil on failure (status in `lastStatus`).
        var lastStatus: Int32 = 0
        func run(batch: Int, n: Int, reps: Int) -> Double? {
            let bytes = batch * n * n * elem
            var bufs = [OpaquePointer]()
            defer { for b in bufs { _ = api.releaseMemObject(b) } }
            for i in 0..<3 {
                guard let b = api.createBuffer(ctx, 1 /* CL_MEM_READ_WRITE */, bytes, nil, &err), err == 0 else {
                    lastStatus = err; return nil
                }
                bufs.append(b)
                var pd = i == 0 ? 0.5 : 0.25
                var pf = Float(pd)
                let st = double
                    ? api.enqueueFillBuffer(queue, b, &pd, 8, 0, bytes, 0, nil, nil)
                    : api.enqueueFillBuffer(queue, b, &pf, 4, 0, bytes, 0, nil, nil)
                if st != 0 { lastStatus = st; return nil }
            }
            _ = api.finish(queue)
            var q: OpaquePointer? = queue
            var best = Double.infinity
            for _ in 0..<reps {
                let t0 = now()
                let st: Int32
                if double {
                    st = unsafeBitCast(sym, to: DGemm.self)(
                        101, 111, 111, n, n, n, 1, bufs[0], 0, n, n * n, bufs[1], 0, n, n * n, 0,
                        bufs[2], 0, n, n * n, batch, &q, nil)
                } else {
                    st = unsafeBitCast(sym, to: SGemm.self)(
                        101, 111, 111, n, n, n, 1, bufs[0], 0, n, n * n, bufs[1], 0, n, n * n, 0,
                        bufs[2], 0, n, n * n, batch, &q, nil)
                }
                if st != 0 { lastStatus = st; return nil }
                let fs = api.finish(queue)
                if fs != 0 { lastStatus = fs; return nil }
                best = min(best, now() - t0)
            }
            return best
        }

        // Sizes to try, smallest first; each must fit three buffers in a
        // quarter of global memory and one in the largest allocation.
        let ladder: [(Int, Int)] = [(1, 256), (1, 512), (1, 1024), (4, 1024), (2, 2048), (8, 2048), (8, 4096), (32, 4096)]
        let fits = ladder.filter { b, n in
            let bytes = UInt64(b * n * n * elem)
            return bytes <= info.maxAllocation && 3 * bytes <= info.globalMemory / 4
        }
        guard !fits.isEmpty else { return na("device memory too small for the GEMM") }
        // The first call compiles CLBlast's kernels for this device and precision.
        guard run(batch: fits[0].0, n: fits[0].1, reps: 1) != nil else {
            return na("CLBlast status \(lastStatus)")
        }
        var chosen = fits[0]
        for (b, n) in fits {
            chosen = (b, n)
            guard let t = run(batch: b, n: n, reps: 1) else { return na("CLBlast status \(lastStatus)") }
            if t >= 0.15 { break }
        }
        guard let t = run(batch: chosen.0, n: chosen.1, reps: 3) else { return na("CLBlast status \(lastStatus)") }
        let (b, n) = chosen
        let gflops = 2 * Double(b) * Double(n) * Double(n) * Double(n) / t * 1e-9
        return Peak(backend: backend, precision: precision, gflops: gflops,
                    method: "CLBlast \(double ? "D" : "S")gemmStridedBatched \(b) x \(n)x\(n)x\(n), best of 3", unavailable: nil)
    }
}
