import ComplexModule
import Foundation
import RealModule

/// Size thresholds of the CPU backend: one table, one default row. Tests
/// set them to force every path at small sizes.
public struct CPUTuning: Sendable, Equatable {
    /// Factor with the native batched `getf2` when `max(m, n)` is at most this;
    /// above it, LAPACK `getrf` (pivoted) or the native blocked algorithm with
    /// BLAS `trsm`/`gemm` (unpivoted).
    public var nativeFactorMaxN: Int = 32
    /// Triangular solves, triangular multiplies and products whose dimensions
    /// are all at most this run as native loops; larger ones call BLAS.
    public var nativeBLASMaxN: Int = 8
    /// Panel width of the unpivoted blocked factorization.
    public var blockSize: Int = 32
    /// A batch smaller than the core count whose matrices are at least this
    /// large lets OpenBLAS thread each matrix instead.
    public var threadedBLASMinN: Int = 256
    /// Square real (`Float`, `Double`) matrices up to this size are
    /// differentiated (below `blockedBackwardMinN`), and factored below the
    /// blocked kernel's sizes (or with it off), by the interleaved C kernels
    /// (``Interleaved``), several matrices per vector instruction. 0 turns
    /// them off.
    public var interleavedMaxN: Int = 64
    /// Square real matrices from this n up are differentiated by the blocked
    /// kernel (``BlockedLU/backward``) instead, where it factors them: its
    /// whole-vector register tiles overtake the interleaved group, which
    /// outgrows L1 and L2. In cache, one thread, 2-core AVX-512 EPYC: n = 64
    /// f64 22 vs 36 µs, f32 12.6 vs 19 µs per matrix; n = 48 even (f64 14.1
    /// vs 14.3, f32 6.9 vs 7.1 µs); n = 56 f32 13.4 vs 11.9 µs.
    public var blockedBackwardMinN: Int = 64
    /// Real matrices with `max(m, n)` from `blockedGetrfMinN` (`Double`) or
    /// `blockedGetrfMinNFloat` (`Float`) up to `blockedGetrfMaxN` are
    /// factored by the blocked row-major C kernel (``BlockedLU``), one matrix
    /// per thread at a time, ahead of the interleaved kernels (whose group of
    /// 8 or 16 matrices outgrows L1 from n = 32 on) and of the column-major
    /// paths (no transposes, no per-call BLAS overhead). Crossovers measured
    /// on a 2-core AVX-512 EPYC, 4000 matrices: f64 n = 32 3.3–4.0 µs
    /// blocked vs 3.6–4.9 µs interleaved. f32, through the API, 10000
    /// matrices, median of 6 alternating rounds: n = 32 15.1 ms blocked vs
    /// 17.5 ms interleaved, n = 28 11.4–14.9 vs 8.7 ms (the interleaved
    /// group of 16 matrices outgrows L1 at n = 32). `blockedGetrfMaxN` = 0
    /// turns it off.
    public var blockedGetrfMinN: Int = 32
    public var blockedGetrfMinNFloat: Int = 32
    public var blockedGetrfMaxN: Int = 256
    /// Pivoted real matrices above the blocked kernel's sizes (or a lone one
    /// from `threadedBLASMinN` up) factor with the look-ahead getrf
    /// (``BlockedLU/getrfLarge``): panels factored by the blocked kernel,
    /// trailing updates by OpenBLAS GEMM, no transposes; a lone matrix
    /// spreads each step over the batch threads. `false` leaves them to the
    /// paths below.
    public var lookaheadGetrf: Bool = true
    /// Pivoted real matrices above the native sizes factor with BatchLU's
    /// recursive getrf over OpenBLAS GEMM (`RecursiveLU`); `false` sends them
    /// to LAPACK `getrf` (as complex matrices always go).
    public var recursiveGetrf: Bool = true
    /// ... when `min(m, n)` is at least this (below it, per-call overhead
    /// makes LAPACK `getrf` faster: 1000 × (64×32) f64 took 24 ms recursive,
    /// 6.7 ms in LAPACK).
    public var recursiveGetrfMinN: Int = 96
    /// The interleaved kernels write an output (factors or gradient) from
    /// `streamingStoreMinBytes` up to below `streamingStoreMaxBytes` with
    /// non-temporal stores, which do not read the destination's lines into
    /// the caches first (an output this large is written once and would only
    /// evict the inputs). Above the upper bound, glibc's malloc maps every
    /// allocation afresh (its mmap threshold tops out at 32 MiB), and the
    /// kernel's zeroing of each page on first touch leaves the lines in the
    /// cache, where plain stores are cheaper. 2-core AVX-512 EPYC (32 MB L3),
    /// through the API: f32 100000 × 8² factor 5.1–5.2 → 4.1–4.2 ms, 20000 ×
    /// 16² factor 4.9–5.1 → 4.4–4.5 ms and backward 6.7–7.0 → 5.9–6.0 ms;
    /// f64 100000 × 8² (51 MB, fresh pages) backward 13.0–13.6 → 14.5 ms,
    /// hence the bound. `streamingStoreMinBytes = Int.max` turns it off.
    public var streamingStoreMinBytes: Int = 8 << 20
    public var streamingStoreMaxBytes: Int = 32 << 20
    /// Threads used across the batch.
    public var threads: Int = Parallel.cores

    public init() {}
    public init(nativeFactorMaxN: Int? = nil, nativeBLASMaxN: Int? = nil, blockSize: Int? = nil,
                threadedBLASMinN: Int? = nil, threads: Int? = nil, interleavedMaxN: Int? = nil,
                recursiveGetrf: Bool? = nil, recursiveGetrfMinN: Int? = nil,
                blockedGetrfMinN: Int? = nil, blockedGetrfMinNFloat: Int? = nil, blockedGetrfMaxN: Int? = nil,
                lookaheadGetrf: Bool? = nil, streamingStoreMinBytes: Int? = nil, streamingStoreMaxBytes: Int? = nil,
                blockedBackwardMinN: Int? = nil) {
        if let v = lookaheadGetrf { self.lookaheadGetrf = v }
        if let v = blockedBackwardMinN { self.blockedBackwardMinN = v }
        if let v = streamingStoreMinBytes { self.streamingStoreMinBytes = v }
        if let v = streamingStoreMaxBytes { self.streamingStoreMaxBytes = v }
        if let v = blockedGetrfMinN { self.blockedGetrfMinN = v }
        if let v = blockedGetrfMinNFloat { self.blockedGetrfMinNFloat = v }
        if let v = blockedGetrfMaxN { self.blockedGetrfMaxN = v }
        if let v = recursiveGetrf { self.recursiveGetrf = v }
        if let v = recursiveGetrfMinN { self.recursiveGetrfMinN = v }
        if let v = interleavedMaxN { self.interleavedMaxN = v }
        if let v = nativeFactorMaxN { self.nativeFactorMaxN = v }
        if let v = nativeBLASMaxN { self.nativeBLASMaxN = v }
        if let v = blockSize { self.blockSize = max(1, v) }
        if let v = threadedBLASMinN { self.threadedBLASMinN = v }
        if let v = threads { self.threads = max(1, v) }
    }
}

/// The CPU backend: native batched kernels for small matrices, LAPACK
/// `getrf` and BLAS `trsm`/`trmm`/`gemm` for larger ones, the batch split
/// across cores with OpenBLAS kept single-threaded meanwhile.
public struct CPUBackend: LUBackend {
    public var tuning: CPUTuning
    public init(tuning: CPUTuning = CPUTuning()) { self.tuning = tuning }

    public var name: String { "cpu" }

    /// OpenBLAS's kernel family in this process (for example `SkylakeX`).
    public static var openBLASCoreName: String { BLASThreads.coreName }

    var ops: MatOps { MatOps(tuning: tuning) }

    /// A batch too small to split over the threads, of matrices large enough
    /// to be worth threading one at a time.
    func isLoneLarge(count: Int, n: Int) -> Bool { count < tuning.threads && n >= tuning.threadedBLASMinN }

    /// Runs `body` over the batch: in parallel with single-threaded BLAS, or,
    /// for a few large matrices, serially with OpenBLAS threaded.
    /// `threadedBLAS` = false: never hand the threads to OpenBLAS (the body
    /// threads a lone matrix itself).
    func runBatch(count: Int, n: Int, flopsPerItem: Double, align: Int = 1, threadedBLAS: Bool = true,
                  _ body: @Sendable (Range<Int>) -> Void) {
        if threadedBLAS, isLoneLarge(count: count, n: n), n > tuning.nativeBLASMaxN {
            BLASThreads.withThreads(BLASThreads.maxThreads) { body(0..<count) }
        } else {
            BLASThreads.shared {
                Parallel.forEachChunk(count: count, threads: tuning.threads, workPerItem: flopsPerItem, align: align,
                                      body)
            }
        }
    }

    /// Whether m×n matrices of `T` go to the interleaved kernels.
    func usesInterleaved<T: LUScalar>(_: T.Type, m: Int, n: Int) -> Bool {
        m == n && n >= 1 && n <= tuning.interleavedMaxN && cKernelsSupport(T.self)
    }

    /// Whether the interleaved kernels write an output of `count` elements
    /// with non-temporal stores (``CPUTuning/streamingStoreMinBytes``).
    func streams<T: LUScalar>(_: T.Type, count: Int) -> Bool {
        let bytes = count * MemoryLayout<T>.stride
        return bytes >= tuning.streamingStoreMinBytes && bytes < tuning.streamingStoreMaxBytes
    }

    /// Whether m×n matrices of `T` are factored by the blocked C kernel
    /// (a lone large matrix is left to the paths that thread it).
    func usesBlocked<T: LUScalar>(_: T.Type, m: Int, n: Int, batch: Int) -> Bool {
        let s = max(m, n), minN = T.self == Float.self ? tuning.blockedGetrfMinNFloat : tuning.blockedGetrfMinN
        return min(m, n) >= 1 && s >= minN && s <= tuning.blockedGetrfMaxN
            && cKernelsSupport(T.self) && !isLoneLarge(count: batch, n: s)
    }

    // MARK: Forward

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    @_specialize(where T == Complex<Float>)
    @_specialize(where T == Complex<Double>)
    public func luFactor<T: LUScalar>(_ a: Tensor<T>, pivot: Bool) throws -> LUFactors<T> {
        let m = a.rows, n = a.cols, k = min(m, n), batch = a.batchCount
        var pivots = [Int32](repeating: 0, count: batch * k)
        var info = [Int32](repeating: 0, count: batch)
        let interleaved = usesInterleaved(T.self, m: m, n: n)
        let path: String
        if usesBlocked(T.self, m: m, n: n, batch: batch) { path = "blocked-getrf(\(Interleaved.isa))" }
        else if interleaved { path = "interleaved-getf2(\(Interleaved.isa))" }
        else if max(m, n) <= tuning.nativeFactorMaxN { path = "native-getf2" }
        else if pivot && tuning.lookaheadGetrf && cKernelsSupport(T.self) { path = "lookahead-getrf(\(Interleaved.isa))" }
        else if pivot {
            path = tuning.recursiveGetrf && k >= tuning.recursiveGetrfMinN && cKernelsSupport(T.self)
                ? "recursive-getrf" : "lapack-getrf"
        }
        else { path = "native-blocked-nopivot" }

        // The factors go to a fresh array (huge pages when large) that each
        // thread fills for its own matrices straight from the input.
        let lu: [T] = a.withUnsafeBufferPointer { src in
            freshArray(count: batch * m * n) { out in
                guard batch > 0 else { return }
                let srcP = SendablePointer(UnsafeMutablePointer(mutating: src.baseAddress!))
                let luP = SendablePointer(out)
                if k == 0 {
                    out.initialize(from: srcP.base, count: batch * m * n)
                    return
                }
                let flops = Double(m) * Double(n) * Double(k)
                pivots.withUnsafeMutableBufferPointer { pivBuf in
                    info.withUnsafeMutableBufferPointer { infoBuf in
                        // Each chunk writes only its own matrices' LU, pivots and info.
                        let pivP = SendablePointer(pivBuf.baseAddress!)
                        let infoP = SendablePointer(infoBuf.baseAddress!)
                        // The interleaved kernels work on groups of matrices:
                        // chunks start on a group boundary.
                        // The look-ahead getrf threads a lone matrix itself.
                        let lookahead = path.hasPrefix("lookahead")
                        let streamed = streams(T.self, count: batch * m * n)
                        let own = lookahead && isLoneLarge(count: batch, n: max(m, n))
                            ? min(tuning.threads, BLASThreads.maxThreads) : 1
                        runBatch(count: batch, n: max(m, n), flopsPerItem: flops,
                                 align: path.hasPrefix("interleaved") ? Interleaved.groupAlign : 1,
                                 threadedBLAS: !lookahead) { range in
                            factorChunk(range, m: m, n: n, path: path, pivot: pivot, src: UnsafePointer(srcP.base),
                                        lu: luP.base, ipiv: pivP.base, info: infoP.base, threads: own,
                                        stream: streamed)
                        }
                    }
                }
            }
        }
        return LUFactors(unchecked: Tensor(unchecked: a.shape, elements: lu),
                         pivots: Tensor(unchecked: a.batchShape + [k], elements: pivots),
                         info: Tensor(unchecked: a.batchShape, elements: info),
                         pivoted: pivot, execution: Execution(backend: name, path: path))
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    @_specialize(where T == Complex<Float>)
    @_specialize(where T == Complex<Double>)
    private func factorChunk<T: LUScalar>(_ range: Range<Int>, m: Int, n: Int, path: String, pivot: Bool,
                                          src: UnsafePointer<T>, lu: UnsafeMutablePointer<T>,
                                          ipiv: UnsafeMutablePointer<Int32>, info: UnsafeMutablePointer<Int32>,
                                          threads: Int, stream: Bool) {
        let k = min(m, n), size = m * n
        let lo = range.lowerBound
        if path.hasPrefix("lookahead-getrf") {
            BlockedLU.getrfLarge(src + lo * size, lu + lo * size, ipiv: ipiv + lo * k, info: info + lo,
                                 count: range.count, m: m, n: n, pivot: pivot, threads: threads)
            return
        }
        if path.hasPrefix("blocked-getrf") {
            BlockedLU.getrf(src + lo * size, lu + lo * size, ipiv: ipiv + lo * k, info: info + lo,
                            count: range.count, m: m, n: n, pivot: pivot)
            return
        }
        if path.hasPrefix("interleaved-getf2") {
            Interleaved.getrf(src + lo * size, lu + lo * size, ipiv: ipiv + lo * k, info: info + lo,
                              count: range.count, n: n, pivot: pivot, stream: stream)
            return
        }
        switch path {
        case "native-getf2":
            (lu + range.lowerBound * size).initialize(from: src + range.lowerBound * size, count: range.count * size)
            for b in range {
                info[b] = Native.getf2(m: m, n: n, a: lu + b * size, lda: n, ipiv: ipiv + b * k, pivot: pivot)
            }
        case "lapack-getrf", "recursive-getrf":
            // Column-major algorithms: factor a transposed copy of the input,
            // write the factors back transposed.
            let scratch = allocateScratch(T.self, count: size)
            defer { scratch.deallocate() }
            for b in range {
                parallelTranspose(rows: m, cols: n, src + b * size, lds: n, scratch, ldd: m, alone: range.count == 1)
                let r = path == "recursive-getrf"
                    ? RecursiveLU.getrf(m: m, n: n, a: scratch, lda: max(1, m), ipiv: ipiv + b * k)
                    : T.lapackGetrf(m: blasInt(m), n: blasInt(n), a: scratch, lda: blasInt(max(1, m)), ipiv: ipiv + b * k)
                precondition(r >= 0, "getrf rejected argument \(-r)")
                info[b] = r
                parallelTranspose(rows: n, cols: m, scratch, lds: m, lu + b * size, ldd: n, alone: range.count == 1)
            }
        default:
            (lu + range.lowerBound * size).initialize(from: src + range.lowerBound * size, count: range.count * size)
            for b in range {
                info[b] = blockedNoPivot(m: m, n: n, a: lu + b * size, ipiv: ipiv + b * k)
            }
        }
    }

    /// Right-looking blocked LU without row exchanges, row-major, in place:
    /// native panel, then `trsm` for the block row of `U` and `gemm` for the
    /// trailing update.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    @_specialize(where T == Complex<Float>)
    @_specialize(where T == Complex<Double>)
    private func blockedNoPivot<T: LUScalar>(m: Int, n: Int, a: UnsafeMutablePointer<T>,
                                             ipiv: UnsafeMutablePointer<Int32>) -> Int32 {
        let k = min(m, n), nb = tuning.blockSize
        var info: Int32 = 0
        var j0 = 0
        while j0 < k {
            let jb = min(nb, k - j0)
            let panel = a + j0 * n + j0
            let pinfo = Native.getf2(m: m - j0, n: jb, a: panel, lda: n, ipiv: ipiv + j0, pivot: false)
            if pinfo != 0, info == 0 { info = pinfo + Int32(j0) }
            for i in 0..<jb { ipiv[j0 + i] = Int32(j0 + i + 1) }
            let right = n - j0 - jb
            if right > 0 {
                ops.trsm(.left, .lower, .none, .unit, m: jb, n: right, a: panel, lda: n,
                         b: panel + jb, ldb: n)
                let below = m - j0 - jb
                if below > 0 {
                    ops.gemm(.none, .none, m: below, n: right, k: jb, alpha: -1,
                             a: panel + jb * n, lda: n, b: panel + jb, ldb: n,
                             beta: 1, c: panel + jb * n + jb, ldc: n)
                }
            }
            j0 += jb
        }
        return info
    }

    // MARK: Solve

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    @_specialize(where T == Complex<Float>)
    @_specialize(where T == Complex<Double>)
    public func luSolve<T: LUScalar>(_ factors: LUFactors<T>, _ b: Tensor<T>, factorIndex: [Int],
                                     adjoint: Bool) throws -> Tensor<T> {
        let n = factors.rows, nrhs = b.cols, count = b.batchCount
        var x = b
        if count == 0 || n == 0 || nrhs == 0 { return x }
        let ops = self.ops
        factors.lu.withUnsafeBufferPointer { luBuf in
            factors.pivots.withUnsafeBufferPointer { pivBuf in
                x.withUnsafeMutableBufferPointer { xBuf in
                    let luP = SendablePointer(UnsafeMutablePointer(mutating: luBuf.baseAddress!))
                    let pivP = SendablePointer(UnsafeMutablePointer(mutating: pivBuf.baseAddress!))
                    // Each chunk writes only its own right-hand sides.
                    let xP = SendablePointer(xBuf.baseAddress!)
                    runBatch(count: count, n: n, flopsPerItem: 2 * Double(n * n * nrhs)) { range in
                        for i in range {
                            let f = factorIndex[i]
                            let lu = UnsafePointer(luP.base + f * n * n), piv = UnsafePointer(pivP.base + f * n)
                            let xi = xP.base + i * n * nrhs
                            if !adjoint {
                                ops.swapRows(xi, cols: nrhs, ipiv: piv, k: n, reverse: false)
                                ops.trsm(.left, .lower, .none, .unit, m: n, n: nrhs, a: lu, lda: n, b: xi, ldb: nrhs)
                                ops.trsm(.left, .upper, .none, .nonUnit, m: n, n: nrhs, a: lu, lda: n, b: xi, ldb: nrhs)
                            } else {
                                ops.trsm(.left, .upper, .adjoint, .nonUnit, m: n, n: nrhs, a: lu, lda: n, b: xi, ldb: nrhs)
                                ops.trsm(.left, .lower, .adjoint, .unit, m: n, n: nrhs, a: lu, lda: n, b: xi, ldb: nrhs)
                                ops.swapRows(xi, cols: nrhs, ipiv: piv, k: n, reverse: true)
                            }
                        }
                    }
                }
            }
        }
        return x
    }

    // MARK: Backward

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    @_specialize(where T == Complex<Float>)
    @_specialize(where T == Complex<Double>)
    public func luFactorBackward<T: LUScalar>(_ factors: LUFactors<T>, _ gradLU: Tensor<T>) throws -> Tensor<T> {
        let m = factors.rows, n = factors.cols, k = min(m, n), count = factors.batchCount
        if count == 0 || k == 0 { return try Tensor<T>(zeros: gradLU.shape) }
        let ops = self.ops
        // Matrices the blocked kernel factors (wide, tall, square from
        // blockedBackwardMinN): its backward; smaller square ones interleaved
        // (BLAS trsm/trmm per matrix otherwise).
        let blockedKernel = usesBlocked(T.self, m: m, n: n, batch: count)
        let interleaved = usesInterleaved(T.self, m: m, n: n) && !(blockedKernel && n >= tuning.blockedBackwardMinN)
        let blocked = !interleaved && blockedKernel
        let streamed = streams(T.self, count: count * m * n)
        // Every element of each gradient is written (the C kernels, or
        // Backward.square/wide/tall, which fill `out` before solving), so the
        // array starts uninitialised.
        let out: [T] = factors.lu.withUnsafeBufferPointer { luBuf in
            factors.pivots.withUnsafeBufferPointer { pivBuf in
                gradLU.withUnsafeBufferPointer { gBuf in
                    freshArray(count: count * m * n) { oBase in
                        let luP = SendablePointer(UnsafeMutablePointer(mutating: luBuf.baseAddress!))
                        let pivP = SendablePointer(UnsafeMutablePointer(mutating: pivBuf.baseAddress!))
                        let gP = SendablePointer(UnsafeMutablePointer(mutating: gBuf.baseAddress!))
                        // Each chunk writes only its own matrices' gradients.
                        let oP = SendablePointer(oBase)
                        runBatch(count: count, n: max(m, n), flopsPerItem: 4 * Double(m * n * k),
                                 align: interleaved ? Interleaved.groupAlign : 1) { range in
                            if interleaved || blocked {
                                let lo = range.lowerBound, size = m * n
                                let l = UnsafePointer(luP.base + lo * size), p = UnsafePointer(pivP.base + lo * k)
                                let g = UnsafePointer(gP.base + lo * size), o = oP.base + lo * size
                                if interleaved {
                                    Interleaved.backward(lu: l, ipiv: p, g: g, out: o, count: range.count, n: n,
                                                         stream: streamed)
                                } else {
                                    BlockedLU.backward(lu: l, ipiv: p, g: g, out: o, count: range.count, m: m, n: n)
                                }
                                return
                            }
                            let w = UnsafeMutablePointer<T>.allocate(capacity: k * k)
                            let r = UnsafeMutablePointer<T>.allocate(capacity: k * k)
                            defer { w.deallocate(); r.deallocate() }
                            for b in range {
                                let lu = UnsafePointer(luP.base + b * m * n)
                                let g = UnsafePointer(gP.base + b * m * n)
                                let o = oP.base + b * m * n
                                if m == n {
                                    Backward.square(ops, n: n, lu: lu, g: g, out: o, w: w)
                                } else if m < n {
                                    Backward.wide(ops, m: m, n: n, lu: lu, g: g, out: o, w: w, r: r)
                                } else {
                                    Backward.tall(ops, m: m, n: n, lu: lu, g: g, out: o, w: w, r: r)
                                }
                                ops.swapRows(o, cols: n, ipiv: UnsafePointer(pivP.base + b * k), k: k, reverse: true)
                            }
                        }
                    }
                }
            }
        }
        return Tensor(unchecked: gradLU.shape, elements: out)
    }

    // MARK: Unpack, det

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    @_specialize(where T == Complex<Float>)
    @_specialize(where T == Complex<Double>)
    public func luUnpack<T: LUScalar>(_ factors: LUFactors<T>) throws -> LUUnpacked<T> {
        try HostLU.unpack(factors)
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    @_specialize(where T == Complex<Float>)
    @_specialize(where T == Complex<Double>)
    public func det<T: LUScalar>(_ factors: LUFactors<T>) throws -> Tensor<T> {
        HostLU.det(factors)
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    @_specialize(where T == Complex<Float>)
    @_specialize(where T == Complex<Double>)
    public func slogdet<T: LUScalar>(_ factors: LUFactors<T>) throws -> (sign: Tensor<T>, logAbsDet: Tensor<T.RealScalar>) {
        HostLU.slogdet(factors)
    }
}
