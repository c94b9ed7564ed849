import CBatchKernels
import Testing
@testable import BatchLU

// The blocked row-major C kernel (every instruction-set variant this CPU
// runs) against two independent references: the interleaved kernels, which
// run the unblocked algorithm (the blocked kernel subtracts every element's
// products in the same order, so the factors must agree exactly, non-finite
// members included), and LAPACK getrf for pivots, info and the residual on
// square, tall and wide shapes, with and without pivoting.

/// The blocked kernel on `a`: from `a` into a new array, or (`inPlace`) on a
/// copy of `a` passed as both input and output.
func blockedFactor<T: LUScalar>(_ a: Tensor<T>, pivot: Bool = true, inPlace: Bool = false,
                                variant: Int32) -> (lu: [T], piv: [Int32], info: [Int32]) {
    let m = a.rows, n = a.cols, k = min(m, n), count = a.batchCount
    var lu = inPlace ? a.elements : [T](repeating: .zero, count: count * m * n)
    var piv = [Int32](repeating: 0, count: count * k), info = [Int32](repeating: 0, count: count)
    a.withUnsafeBufferPointer { inp in
        lu.withUnsafeMutableBufferPointer { o in
            piv.withUnsafeMutableBufferPointer { p in
                info.withUnsafeMutableBufferPointer { i in
                    BlockedLU.getrf(inPlace ? UnsafePointer(o.baseAddress!) : inp.baseAddress!, o.baseAddress!,
                                    ipiv: p.baseAddress!, info: i.baseAddress!,
                                    count: count, m: m, n: n, pivot: pivot, variant: variant)
                }
            }
        }
    }
    return (lu, piv, info)
}

/// Equal as numbers, NaN equal to NaN (0 and -0 are equal).
func sameValues<T: LUScalar & BinaryFloatingPoint>(_ x: ArraySlice<T>, _ y: ArraySlice<T>) -> Bool {
    x.count == y.count && zip(x, y).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }
}

func checkBlockedAgainstUnblocked<T: LUScalar & BinaryFloatingPoint>(_: T.Type, variant: Int32, name: String) throws {
    let lapack = TestBackend.cpuLibrary.choice
    for n in [32, 33, 40, 64] {  // 32: the blocked path's smallest n (CPUTuning.blockedGetrfMinN)
        let batch = 21, size = n * n
        var a = try Tensor<T>.random([batch, n, n], seed: UInt64(400 + n))
        for i in 0..<size { a.elements[3 * size + i] = .zero }                 // all zero: info 1
        for r in 0..<n { a.elements[5 * size + r * n + 20] = .zero }           // column 20 zero: info 21
        for r in 0..<n { a.elements[7 * size + r * n] = T(r % 2 == 0 ? 1 : -1) } // ties in column 0
        for r in 0..<n { for c in 0..<n { a.elements[9 * size + r * n + c] = T(r % 3 + c % 5) } } // rank 2
        a.elements[12 * size + size / 2] = .nan                                // non-finite members
        a.elements[15 * size] = .infinity
        a.elements[18 * size + n + 3] = -.infinity
        // Inf in the first pivot row beyond the first panel, zero multipliers
        // below it: rows with a zero multiplier must stay as they are (a
        // blocked update would make 0 * Inf = NaN there).
        a.elements[20 * size] = 100
        a.elements[20 * size + 20] = .infinity
        for r in stride(from: 1, to: n, by: 2) { a.elements[20 * size + r * n] = .zero }
        let got = blockedFactor(a, variant: variant)
        let unblocked = interleavedFactor(a, variant: variant)
        // In place (the kernel checks finiteness separately from its copy).
        let inPlace = blockedFactor(a, inPlace: true, variant: variant)
        #expect(inPlace.piv == got.piv && inPlace.info == got.info && sameValues(inPlace.lu[...], got.lu[...]),
                "in place vs copied \(name) \(T.typeName) n=\(n)")
        let ref = try luFactorEx(a, backend: lapack)
        for b in 0..<batch {
            let what = "\(name) \(T.typeName) n=\(n) matrix \(b)"
            let piv = (b * n)..<((b + 1) * n), f = (b * size)..<((b + 1) * size)
            #expect(got.piv[piv] == unblocked.piv[piv], "pivots vs unblocked \(what)")
            #expect(got.info[b] == unblocked.info[b], "info vs unblocked \(what)")
            #expect(sameValues(got.lu[f], unblocked.lu[f]), "factors vs unblocked \(what)")
            guard b != 9, b != 12, b != 15, b != 18, b != 20 else { continue }
            #expect(got.piv[piv] == ref.pivots.elements[piv], "pivots vs LAPACK \(what)")
            #expect(got.info[b] == ref.info.elements[b], "info vs LAPACK \(what)")
            let d = fro(zip(got.lu[f], ref.lu.elements[f]).map { $0 - $1 })
            #expect(d <= 1e3 * T.eps * max(1, fro(ref.lu.elements[f])), "factors vs LAPACK \(what)")
        }
        #expect(got.info[3] == 1 && got.info[5] == 21, "\(name) \(T.typeName) n=\(n) singular members")
    }
}

func checkBlockedShapes<T: LUScalar & BinaryFloatingPoint>(_: T.Type, variant: Int32, name: String) throws {
    let lapack = TestBackend.cpuLibrary.choice, native = TestBackend.cpuNative.choice
    // (9, 32, 20), (6, 20, 32): max(m, n) = 32, the blocked path's smallest; a last panel narrower than a
    // vector, and (20 rows) panels padded to whole vectors.
    for (batch, m, n) in [(3, 100, 70), (3, 70, 100), (2, 5, 90), (2, 90, 5), (2, 129, 129), (1, 250, 161),
                          (9, 32, 20), (6, 20, 32)] {
        let k = min(m, n), size = m * n
        var a = try Tensor<T>.random([batch, m, n], seed: UInt64(m * 11 + n))
        for r in 0..<m { a.elements[r * n + k / 2] = .zero }                   // matrix 0: zero column k/2
        let got = blockedFactor(a, variant: variant)
        let ref = try luFactorEx(a, backend: lapack)
        #expect(got.info[0] == Int32(k / 2 + 1), "\(name) \(T.typeName) \(m)x\(n) zero column")
        for b in 0..<batch {
            let what = "\(name) \(T.typeName) \(m)x\(n) matrix \(b)"
            let piv = (b * k)..<((b + 1) * k), f = (b * size)..<((b + 1) * size)
            #expect(got.piv[piv] == ref.pivots.elements[piv], "pivots \(what)")
            #expect(got.info[b] == ref.info.elements[b], "info \(what)")
            let am = Array(a.elements[f])
            let r = reconstruct(Array(got.lu[f]), got.piv[piv], m: m, n: n)
            #expect(fro(zip(r, am).map { $0 - $1 }) <= 8 * Double(max(m, n)) * T.eps * fro(am), "residual \(what)")
        }
        // Without pivoting, on matrices made diagonally dominant: against the
        // native unpivoted getf2, and ipiv[j] = j + 1.
        var d = try Tensor<T>.random([batch, m, n], seed: UInt64(m * 13 + n))
        for b in 0..<batch { for j in 0..<k { d.elements[b * size + j * n + j] += T(2 * max(m, n)) } }
        let nopiv = blockedFactor(d, pivot: false, variant: variant)
        let want = try luFactorEx(d, pivot: false, backend: native)
        #expect(nopiv.piv == want.pivots.elements, "unpivoted ipiv \(name) \(T.typeName) \(m)x\(n)")
        #expect(relErr(nopiv.lu, want.lu.elements) < 1e3 * T.eps, "unpivoted \(name) \(T.typeName) \(m)x\(n)")
    }
}

@Test func blockedKernelEveryVariant() throws {
    for (variant, name) in Interleaved.supportedISAs {
        try checkBlockedAgainstUnblocked(Float.self, variant: variant, name: name)
        try checkBlockedAgainstUnblocked(Double.self, variant: variant, name: name)
        try checkBlockedShapes(Float.self, variant: variant, name: name)
        try checkBlockedShapes(Double.self, variant: variant, name: name)
    }
}

/// The blocked kernel into outputs 0, one element, 16, 32 and 48 bytes past
/// a cache line: whether it factors a matrix in place or in its aligned
/// working copy (which depends on the variant, the CPU, the matrix's size
/// and the offset: FN(rm_getrf) in rowmajor_impl.h), the factors, pivots
/// and info must be the same bits, and LAPACK's pivots. (A wrong choice
/// between the two would pass: it is a question of speed.)
func checkBlockedOutputAlignment<T: LUScalar & BinaryFloatingPoint>(_: T.Type, variant: Int32, name: String,
                                                                    shapes: [(Int, Int)]) throws {
    let lapack = TestBackend.cpuLibrary.choice
    let stride = MemoryLayout<T>.stride
    for (m, n) in shapes {
        let batch = 3, k = min(m, n), size = m * n
        var a = try Tensor<T>.random([batch, m, n], seed: UInt64(700 + m + 3 * n))
        for r in 0..<m { a.elements[size + r * n + k / 3] = .zero }  // matrix 1: info k/3 + 1
        a.elements[2 * size + size / 2] = .nan                       // matrix 2: factored unblocked
        let ref = try luFactorEx(a, backend: lapack)
        var first: (lu: [T], piv: [Int32], info: [Int32])?
        for offset in [0, stride, 16, 32, 48] {
            let raw = UnsafeMutableRawPointer.allocate(byteCount: batch * size * stride + 64, alignment: 64)
            defer { raw.deallocate() }
            let out = (raw + offset).bindMemory(to: T.self, capacity: batch * size)
            var piv = [Int32](repeating: 0, count: batch * k), info = [Int32](repeating: 0, count: batch)
            a.withUnsafeBufferPointer { inp in
                piv.withUnsafeMutableBufferPointer { p in
                    info.withUnsafeMutableBufferPointer { i in
                        BlockedLU.getrf(inp.baseAddress!, out, ipiv: p.baseAddress!, info: i.baseAddress!,
                                        count: batch, m: m, n: n, pivot: true, variant: variant)
                    }
                }
            }
            let got = (lu: Array(UnsafeBufferPointer(start: out, count: batch * size)), piv: piv, info: info)
            let what = "\(name) \(T.typeName) \(m)x\(n) output \(offset) bytes past a line"
            guard let f = first else {
                first = got
                // Matrix 2 holds a NaN, where pivots are the algorithm's own.
                #expect(got.piv[..<(2 * k)] == ref.pivots.elements[..<(2 * k)], "pivots vs LAPACK \(what)")
                #expect(got.info[..<2] == ref.info.elements[..<2] && got.info[1] == Int32(k / 3 + 1),
                        "info vs LAPACK \(what)")
                for b in 0..<2 {
                    let am = Array(a.elements[(b * size)..<((b + 1) * size)])
                    let r = reconstruct(Array(got.lu[(b * size)..<((b + 1) * size)]), got.piv[(b * k)..<((b + 1) * k)],
                                        m: m, n: n)
                    #expect(fro(zip(r, am).map { $0 - $1 }) <= 8 * Double(max(m, n)) * T.eps * fro(am),
                            "residual matrix \(b) \(what)")
                }
                continue
            }
            #expect(got.piv == f.piv && got.info == f.info, "pivots and info vs 64-byte aligned, \(what)")
            let same = zip(got.lu, f.lu).allSatisfy { ($0 == $1 && $0.sign == $1.sign) || ($0.isNaN && $1.isNaN) }
            #expect(same, "factors vs 64-byte aligned, \(what)")
        }
    }
}

@Test func blockedKernelAnyOutputAlignment() throws {
    for (variant, name) in Interleaved.supportedISAs {
        // 8 to 16 KiB (f64 32², 64 x 32, 32 x 64), 32 KiB and more (64², 128²),
        // rows padded to whole vectors below and above 32 KiB (f32 100 x 70,
        // 128 x 70; f64 100 x 70).
        try checkBlockedOutputAlignment(Double.self, variant: variant, name: name,
                                        shapes: [(32, 32), (64, 32), (32, 64), (64, 64), (128, 128), (100, 70)])
        try checkBlockedOutputAlignment(Float.self, variant: variant, name: name,
                                        shapes: [(64, 32), (64, 64), (128, 128), (100, 70), (128, 70)])
    }
}

@Test func blockedPathThroughTheAPI() throws {
    try checkPathThroughTheAPI(try Tensor<Float>.random([9, 48, 40], seed: 12),
                               path: "blocked-getrf(\(Interleaved.isa))", members: [0, 4, 8])
}

/// The blocked kernel's backward (every variant; square, wide and tall)
/// against the scalar Swift backward on the same factors.
func checkBlockedBackward<T: LUScalar & BinaryFloatingPoint>(_: T.Type, variant: Int32, name: String) throws {
    let lapack = TestBackend.cpuLibrary.choice, scalar = TestBackend.cpuNative.choice
    let square = [1, 3, 9, 33, 65, 100, 130].map { ($0, $0) }
    let rectangular = [(64, 32), (32, 64), (40, 33), (33, 40), (130, 7), (7, 130), (9, 1), (1, 9), (100, 65),
                       (65, 100), (2, 3), (3, 2)]
    for (m, n) in square + rectangular {
        let batch = 3
        let f = try luFactorEx(try Tensor<T>.random([batch, m, n], seed: UInt64(500 + m + 7 * n)), backend: lapack)
        let g = try Tensor<T>.random([batch, m, n], seed: UInt64(600 + m + 7 * n))
        let out = kernelBackward(f, g) { lu, p, gp, o in
            BlockedLU.backward(lu: lu, ipiv: p, g: gp, out: o, count: batch, m: m, n: n, variant: variant)
        }
        let want = try luFactorBackward(f, g, backend: scalar)
        #expect(relErr(out, want.elements) < 1e4 * T.eps, "backward \(name) \(T.typeName) \(m)x\(n)")
    }
}

@Test func blockedBackwardEveryVariant() throws {
    for (variant, name) in Interleaved.supportedISAs {
        try checkBlockedBackward(Float.self, variant: variant, name: name)
        try checkBlockedBackward(Double.self, variant: variant, name: name)
    }
}

/// The blocked kernel's wide and tall backward against central finite
/// differences of LAPACK's factorization (Double), one matrix each.
@Test func blockedRectangularBackwardMatchesFiniteDifferences() throws {
    let lapack = TestBackend.cpuLibrary.choice
    for (s, (m, n)) in [(37, 11), (11, 37), (34, 33), (33, 34)].enumerated() {
        let a: Tensor<Double> = try wellConditioned([1, m, n], seed: UInt64(140 + s))
        let w = try Tensor<Double>.random([1, m, n], seed: UInt64(150 + s))
        let f = try luFactorEx(a, backend: lapack)
        let out = kernelBackward(f, w) { lu, p, gp, o in
            BlockedLU.backward(lu: lu, ipiv: p, g: gp, out: o, count: 1, m: m, n: n)
        }
        let fd = try finiteDifference(a) { x in
            let fx = try luFactorEx(x, backend: lapack)
            #expect(fx.pivots == f.pivots, "FD step changed the pivots")
            return realInner(w.elements, fx.lu.elements)
        }
        let err = relErr(out, fd)
        #expect(err < 1e-7, "\(m)x\(n) rel err \(err)")
    }
}

/// The look-ahead getrf for large matrices (panels by the blocked kernel,
/// GEMM updates, 1 to 3 threads per step) against LAPACK getrf: identical
/// pivots and info, the residual within the normwise bound; square, tall,
/// wide, several panel widths, a zero column and a rank-deficient matrix.
func checkLookahead<T: LUScalar & BinaryFloatingPoint>(_: T.Type) throws {
    let lapack = TestBackend.cpuLibrary.choice
    // (Small sizes and panels: the debug build runs the C kernels unoptimised.)
    // 1100 × 240 f64 (2 MB) is large enough for the copy to be split over the threads.
    var cases = [(300, 290, 64), (260, 300, 128), (330, 97, 32), (150, 400, 64)]
    if T.self == Double.self { cases.append((1100, 240, 64)) }
    for (m, n, panel) in cases {
        let k = min(m, n)
        var a = try Tensor<T>.random([2, m, n], seed: UInt64(m + 3 * n))
        for r in 0..<m { a.elements[r * n + 70] = .zero }                      // matrix 0: zero column 70
        for r in 0..<m { for c in 0..<n { a.elements[m * n + r * n + c] = T(r % 3 + c % 5) } } // rank 2
        let ref = try luFactorEx(a, backend: lapack)
        for threads in [1, 2, 3] {
            // Both matrices from the input into a fresh array (threads 2: in place).
            var lu = threads == 2 ? a.elements : [T](repeating: .nan, count: 2 * m * n)
            var piv = [Int32](repeating: 0, count: 2 * k), info = [Int32](repeating: -1, count: 2)
            a.withUnsafeBufferPointer { inp in
                lu.withUnsafeMutableBufferPointer { l in
                    piv.withUnsafeMutableBufferPointer { p in
                        info.withUnsafeMutableBufferPointer { i in
                            // Under the BLAS gate, as the library calls it (its GEMM calls
                            // must run single-threaded while other tests run).
                            BLASThreads.shared {
                                BlockedLU.getrfLarge(threads == 2 ? UnsafePointer(l.baseAddress!) : inp.baseAddress!,
                                                     l.baseAddress!, ipiv: p.baseAddress!, info: i.baseAddress!,
                                                     count: 2, m: m, n: n, pivot: true, threads: threads, panel: panel)
                            }
                        }
                    }
                }
            }
            let what = "\(T.typeName) \(m)x\(n) panel \(panel) threads \(threads)"
            #expect(piv[0..<k] == ref.pivots.elements[0..<k], "pivots \(what)")
            #expect(info[0] == ref.info.elements[0] && info[0] == 71, "info \(what)")
            #expect(info[1] > 0, "rank 2 \(what)")
            let am = Array(a.elements[0..<(m * n)])
            let r = reconstruct(Array(lu[0..<(m * n)]), piv[0..<k], m: m, n: n)
            #expect(fro(zip(r, am).map { $0 - $1 }) <= 8 * Double(max(m, n)) * T.eps * fro(am), "residual \(what)")
        }
        // Through the API (both matrices; the rank-2 one: info only).
        let f = try luFactorEx(a, backend: .cpu)
        #expect(f.execution?.path == "lookahead-getrf(\(Interleaved.isa))")
        #expect(f.info.elements[1] > 0 && f.pivots.elements[0..<k] == ref.pivots.elements[0..<k])
    }
    // A lone matrix: the library threads it itself.
    let one = try Tensor<T>.random([1, 300, 300], seed: 77)
    let f = try luFactorEx(one, backend: .cpu), ref = try luFactorEx(one, backend: lapack)
    #expect(f.pivots == ref.pivots && f.info == ref.info, "lone \(T.typeName)")
}

@Test func lookaheadGetrfMatchesLAPACK() throws {
    try checkLookahead(Double.self)
    try checkLookahead(Float.self)
}
