import CBatchKernels
import Testing
@testable import BatchLU

// The interleaved C kernels (every instruction-set variant this CPU runs:
// baseline x86-64, AVX2+FMA, AVX-512) against LAPACK for the factorization
// and against the scalar Swift backward, on batches that do not fill the
// last vector group and that hold singular, tied and non-finite members.

/// The interleaved factorization of `a`; the factors written `offset`
/// elements into a new array (to test streamed stores from a misaligned
/// address), returned without the offset.
func interleavedFactor<T: LUScalar>(_ a: Tensor<T>, stream: Bool = false, offset: Int = 0,
                                    variant: Int32) -> (lu: [T], piv: [Int32], info: [Int32]) {
    let n = a.cols, count = a.batchCount
    var lu = [T](repeating: .zero, count: count * n * n + offset)
    var piv = [Int32](repeating: 0, count: count * n), info = [Int32](repeating: 0, count: count)
    a.withUnsafeBufferPointer { inp in
        lu.withUnsafeMutableBufferPointer { o in
            piv.withUnsafeMutableBufferPointer { p in
                info.withUnsafeMutableBufferPointer { i in
                    Interleaved.getrf(inp.baseAddress!, o.baseAddress! + offset, ipiv: p.baseAddress!,
                                      info: i.baseAddress!, count: count, n: n, pivot: true, stream: stream,
                                      variant: variant)
                }
            }
        }
    }
    return (Array(lu[offset...]), piv, info)
}

/// Runs a C backward `kernel(lu, ipiv, g, out)` on the factors `f` and the
/// gradient `g`, into an array that starts as NaN (so every element it
/// leaves unwritten shows), `offset` elements in.
func kernelBackward<T: LUScalar>(_ f: LUFactors<T>, _ g: Tensor<T>, offset: Int = 0,
                                 _ kernel: (UnsafePointer<T>, UnsafePointer<Int32>, UnsafePointer<T>,
                                            UnsafeMutablePointer<T>) -> Void) -> [T] {
    var out = [T](repeating: T(re: .nan, im: 0), count: g.elements.count + offset)
    f.lu.withUnsafeBufferPointer { lu in
        f.pivots.withUnsafeBufferPointer { p in
            g.withUnsafeBufferPointer { gp in
                out.withUnsafeMutableBufferPointer { o in
                    kernel(lu.baseAddress!, p.baseAddress!, gp.baseAddress!, o.baseAddress! + offset)
                }
            }
        }
    }
    return Array(out[offset...])
}

func checkInterleaved<T: LUScalar & BinaryFloatingPoint>(_: T.Type, variant: Int32, name: String) throws {
    let lapack = TestBackend.cpuLibrary.choice, scalar = TestBackend.cpuNative.choice
    for n in [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 32, 33, 64] {
        // 59 matrices: the last pair of groups (n <= 4) has a full first
        // group and a partial second one, both for 16 lanes (f32) and 8
        // (f64); singular members sit in first and second groups of pairs.
        let batch = 59, size = n * n
        var a = try Tensor<T>.random([batch, n, n], seed: UInt64(100 + n))
        for b in [3, 26, 50] {                                                // all zero: info 1
            for i in 0..<size { a.elements[b * size + i] = .zero }
        }
        for b in [7, 13, 44, 57] {                                            // last column zero: info n
            for r in 0..<n { a.elements[b * size + r * n + (n - 1)] = .zero }
        }
        for r in 0..<n { a.elements[11 * size + r * n] = T(r % 2 == 0 ? 1 : -1) } // ties in column 0
        a.elements[20 * size + size / 2] = .nan                                // non-finite members
        a.elements[29 * size] = .infinity
        let got = interleavedFactor(a, variant: variant)
        let ref = try luFactorEx(a, backend: lapack)
        // Streamed (non-temporal) stores from a misaligned address: the same values.
        let streamed = interleavedFactor(a, stream: true, offset: 1, variant: variant)
        #expect(streamed.piv == got.piv && streamed.info == got.info && sameValues(streamed.lu[...], got.lu[...]),
                "streamed factors \(name) \(T.typeName) n=\(n)")
        for b in 0..<batch where b != 20 && b != 29 {
            let what = "\(name) \(T.typeName) n=\(n) matrix \(b)"
            #expect(got.piv[(b * n)..<((b + 1) * n)] == ref.pivots.elements[(b * n)..<((b + 1) * n)], "pivots \(what)")
            #expect(got.info[b] == ref.info.elements[b], "info \(what)")
            let d = fro(zip(got.lu[(b * size)..<((b + 1) * size)], ref.lu.elements[(b * size)..<((b + 1) * size)])
                .map { $0 - $1 })
            #expect(d <= 1e3 * T.eps * max(1, fro(ref.lu.elements[(b * size)..<((b + 1) * size)])), "factors \(what)")
        }
        // The backward of a regular batch, against the scalar Swift path.
        let r = try Tensor<T>.random([batch, n, n], seed: UInt64(200 + n))
        let f = try luFactorEx(r, backend: lapack)
        let g = try Tensor<T>.random([batch, n, n], seed: UInt64(300 + n))
        let out = kernelBackward(f, g) { lu, p, gp, o in
            Interleaved.backward(lu: lu, ipiv: p, g: gp, out: o, count: batch, n: n, variant: variant)
        }
        let want = try luFactorBackward(f, g, backend: scalar)
        #expect(relErr(out, want.elements) < 1e4 * T.eps, "backward \(name) \(T.typeName) n=\(n)")
        let streamedOut = kernelBackward(f, g, offset: 1) { lu, p, gp, o in
            Interleaved.backward(lu: lu, ipiv: p, g: gp, out: o, count: batch, n: n, stream: true, variant: variant)
        }
        #expect(sameValues(streamedOut[...], out[...]), "streamed backward \(name) \(T.typeName) n=\(n)")
    }
}

@Test func interleavedKernelsEveryVariant() throws {
    #expect(!Interleaved.supportedISAs.isEmpty)
    for (variant, name) in Interleaved.supportedISAs {
        try checkInterleaved(Float.self, variant: variant, name: name)
        try checkInterleaved(Double.self, variant: variant, name: name)
    }
}

/// A CPU path through the API: the input is not modified, and each member
/// of the batch gets what it gets alone (factors and pivots).
func checkPathThroughTheAPI<T: LUScalar>(_ a: Tensor<T>, path: String, members: [Int]) throws {
    let copy = a
    let f = try luFactorEx(a, backend: .cpu)
    #expect(a == copy, "input modified")
    #expect(f.execution?.path == path)
    let size = a.rows * a.cols, k = min(a.rows, a.cols)
    for b in members {
        let one = try luFactorEx(try a.matrix(b).reshapedBatch([1]), backend: .cpu)
        #expect(Array(f.lu.elements[(b * size)..<((b + 1) * size)]) == one.lu.elements, "\(path) member \(b)")
        #expect(Array(f.pivots.elements[(b * k)..<((b + 1) * k)]) == one.pivots.elements, "\(path) member \(b)")
    }
}

@Test func interleavedPathThroughTheAPI() throws {
    try checkPathThroughTheAPI(try Tensor<Double>.random([50, 6, 6], seed: 9),
                               path: "interleaved-getf2(\(Interleaved.isa))", members: [0, 17, 49])
}

/// Streamed (non-temporal) output through the API: with the threshold at 0,
/// the interleaved factorization and backward give the same values as with
/// it off.
@Test func streamedOutputThroughTheAPI() throws {
    let on = BackendChoice.custom(CPUBackend(tuning: CPUTuning(streamingStoreMinBytes: 0, streamingStoreMaxBytes: .max)))
    let off = BackendChoice.custom(CPUBackend(tuning: CPUTuning(streamingStoreMinBytes: .max)))
    let a = try Tensor<Float>.random([45, 7, 7], seed: 21)
    let g = try Tensor<Float>.random([45, 7, 7], seed: 22)
    let fOn = try luFactorEx(a, backend: on), fOff = try luFactorEx(a, backend: off)
    #expect(fOn.execution?.path == "interleaved-getf2(\(Interleaved.isa))")
    #expect(fOn.lu == fOff.lu && fOn.pivots == fOff.pivots && fOn.info == fOff.info)
    #expect(try luFactorBackward(fOn, g, backend: on) == luFactorBackward(fOff, g, backend: off))
}
