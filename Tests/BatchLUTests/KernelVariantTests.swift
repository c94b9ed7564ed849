import ComplexModule
import Testing
@testable import BatchLU

// Every variant of the triangular kernels (side × uplo × trans × diag), on
// the native CPU loops and on the OpenCL kernels, against OpenBLAS's
// trsm/trmm on the same data.

let allVariants: [(TriSide, TriUplo, TriTrans, TriDiag)] = {
    var v = [(TriSide, TriUplo, TriTrans, TriDiag)]()
    for s in [TriSide.left, .right] { for u in [TriUplo.upper, .lower] {
        for t in [TriTrans.none, .transpose, .adjoint] { for d in [TriDiag.unit, .nonUnit] { v.append((s, u, t, d)) } } } }
    return v
}()

/// A well-conditioned triangular operand (dominant diagonal), full storage.
func triangularOperand<T: LUScalar>(_ k: Int, seed: UInt64) throws -> [T] {
    var a = try Tensor<T>.random([k, k], seed: seed).elements
    for i in 0..<k { a[i * k + i] = a[i * k + i] + T(re: 4, im: 0) }
    return a
}

func checkNativeVariants<T: LUScalar>(_: T.Type) throws {
    let m = 5, n = 7
    for (side, uplo, trans, diag) in allVariants {
        let k = side == .left ? m : n
        let a: [T] = try triangularOperand(k, seed: 1)
        let b = try Tensor<T>.random([m, n], seed: 2).elements
        for op in ["trsm", "trmm"] {
            var ref = b, got = b
            a.withUnsafeBufferPointer { ap in
                ref.withUnsafeMutableBufferPointer { rp in
                    got.withUnsafeMutableBufferPointer { gp in
                        if op == "trsm" {
                            T.blasTrsm(side: side, uplo: uplo, trans: trans, diag: diag, m: m, n: n, alpha: 1,
                                       a: ap.baseAddress!, lda: k, b: rp.baseAddress!, ldb: n)
                            Native.trsm(side: side, uplo: uplo, trans: trans, diag: diag, m: m, n: n,
                                        a: ap.baseAddress!, lda: k, b: gp.baseAddress!, ldb: n)
                        } else {
                            T.blasTrmm(side: side, uplo: uplo, trans: trans, diag: diag, m: m, n: n, alpha: 1,
                                       a: ap.baseAddress!, lda: k, b: rp.baseAddress!, ldb: n)
                            Native.trmm(side: side, uplo: uplo, trans: trans, diag: diag, m: m, n: n,
                                        a: ap.baseAddress!, lda: k, b: gp.baseAddress!, ldb: n)
                        }
                    }
                }
            }
            #expect(relErr(got, ref) < 100 * T.eps, "native \(op) \(side) \(uplo) \(trans) \(diag) \(T.typeName)")
        }
    }
}

@Test func nativeTriangularVariantsMatchBLAS() throws {
    try checkNativeVariants(Float.self)
    try checkNativeVariants(Double.self)
    try checkNativeVariants(Complex<Float>.self)
    try checkNativeVariants(Complex<Double>.self)
}

func checkOpenCLVariants<T: LUScalar>(_: T.Type) throws {
    let be = try OpenCLBackend()
    let prog = try be.program(T.self)
    let m = 5, n = 7, batch = 3
    for (side, uplo, trans, diag) in allVariants {
        let k = side == .left ? m : n
        var aAll = [T](), bAll = [T]()
        for i in 0..<batch {
            aAll += try triangularOperand(k, seed: UInt64(10 + i)) as [T]
            bAll += try Tensor<T>.random([m, n], seed: UInt64(20 + i)).elements
        }
        for op in ["trsm", "trmm"] {
            var ref = bAll
            aAll.withUnsafeBufferPointer { ap in
                ref.withUnsafeMutableBufferPointer { rp in
                    for i in 0..<batch {
                        let a = ap.baseAddress! + i * k * k, b = rp.baseAddress! + i * m * n
                        if op == "trsm" {
                            T.blasTrsm(side: side, uplo: uplo, trans: trans, diag: diag, m: m, n: n, alpha: 1, a: a, lda: k, b: b, ldb: n)
                        } else {
                            T.blasTrmm(side: side, uplo: uplo, trans: trans, diag: diag, m: m, n: n, alpha: 1, a: a, lda: k, b: b, ldb: n)
                        }
                    }
                }
            }
            let aBuf = try be.upload(aAll), bBuf = try be.upload(bAll)
            let aRef = OpenCLBackend.MatRef(buf: aBuf, stride: k * k, ld: k)
            let bRef = OpenCLBackend.MatRef(buf: bBuf, stride: m * n, ld: n)
            let s: OpenCLBackend.Side = side == .left ? .left : .right
            let u: OpenCLBackend.Uplo = uplo == .upper ? .upper : .lower
            let t: OpenCLBackend.Trans = trans == .none ? .none : (trans == .transpose ? .transpose : .adjoint)
            if op == "trsm" {
                try be.trsm(T.self, prog, a: aRef, b: bRef, m: m, n: n, side: s, uplo: u, trans: t, unit: diag == .unit, batch: batch)
            } else {
                try be.trmm(T.self, prog, a: aRef, b: bRef, m: m, n: n, side: s, uplo: u, trans: t, unit: diag == .unit, batch: batch)
            }
            let got = try be.download(bBuf, count: bAll.count, as: T.self, zero: .zero)
            #expect(relErr(got, ref) < 100 * T.eps, "opencl \(op) \(side) \(uplo) \(trans) \(diag) \(T.typeName)")
        }
    }
}

@Test(.enabled(if: TestBackend.openCLAvailable))
func openCLTriangularVariantsMatchBLAS() throws {
    try checkOpenCLVariants(Float.self)
    try checkOpenCLVariants(Double.self)
    try checkOpenCLVariants(Complex<Float>.self)
    try checkOpenCLVariants(Complex<Double>.self)
}
