import ComplexModule
import RealModule
/// Per-matrix dense operations on the CPU: native loops for small sizes,
/// BLAS above `tuning.nativeBLASMaxN`. All row-major.
struct MatOps {
    let tuning: CPUTuning

    @inline(__always) func native(_ dims: Int...) -> Bool { dims.max()! <= tuning.nativeBLASMaxN }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    @_specialize(where T == Complex<Float>)
    @_specialize(where T == Complex<Double>)
    func trsm<T: LUScalar>(_ side: TriSide, _ uplo: TriUplo, _ trans: TriTrans, _ diag: TriDiag,
                           m: Int, n: Int, a: UnsafePointer<T>, lda: Int, b: UnsafeMutablePointer<T>, ldb: Int) {
        if m == 0 || n == 0 { return }
        if native(m, n) {
            Native.trsm(side: side, uplo: uplo, trans: trans, diag: diag, m: m, n: n, a: a, lda: lda, b: b, ldb: ldb)
        } else {
            T.blasTrsm(side: side, uplo: uplo, trans: trans, diag: diag, m: m, n: n, alpha: 1,
                       a: a, lda: lda, b: b, ldb: ldb)
        }
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    @_specialize(where T == Complex<Float>)
    @_specialize(where T == Complex<Double>)
    func trmm<T: LUScalar>(_ side: TriSide, _ uplo: TriUplo, _ trans: TriTrans, _ diag: TriDiag,
                           m: Int, n: Int, a: UnsafePointer<T>, lda: Int, b: UnsafeMutablePointer<T>, ldb: Int) {
        if m == 0 || n == 0 { return }
        if native(m, n) {
            Native.trmm(side: side, uplo: uplo, trans: trans, diag: diag, m: m, n: n, a: a, lda: lda, b: b, ldb: ldb)
        } else {
            T.blasTrmm(side: side, uplo: uplo, trans: trans, diag: diag, m: m, n: n, alpha: 1,
                       a: a, lda: lda, b: b, ldb: ldb)
        }
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    @_specialize(where T == Complex<Float>)
    @_specialize(where T == Complex<Double>)
    func gemm<T: LUScalar>(_ transA: TriTrans, _ transB: TriTrans, m: Int, n: Int, k: Int, alpha: T,
                           a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
                           beta: T, c: UnsafeMutablePointer<T>, ldc: Int) {
        if m == 0 || n == 0 { return }
        if k == 0 {
            // C = beta C
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == .zero ? .zero : beta * c[i * ldc + j] } }
            return
        }
        if native(m, n, k) {
            Native.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                        b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        } else {
            T.blasGemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                       b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        }
    }

    /// Applies the row interchanges `ipiv[0..<k]` (1-based) to the `rows × cols`
    /// matrix `x`: forward order gives `Pᵀ X`, reverse order gives `P X`.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    @_specialize(where T == Complex<Float>)
    @_specialize(where T == Complex<Double>)
    func swapRows<T>(_ x: UnsafeMutablePointer<T>, cols: Int, ipiv: UnsafePointer<Int32>, k: Int, reverse: Bool) {
        if cols == 0 { return }
        for s in 0..<k {
            let i = reverse ? k - 1 - s : s
            let p = Int(ipiv[i]) - 1
            if p == i { continue }
            let ri = x + i * cols, rp = x + p * cols
            for c in 0..<cols { let t = ri[c]; ri[c] = rp[c]; rp[c] = t }
        }
    }
}
