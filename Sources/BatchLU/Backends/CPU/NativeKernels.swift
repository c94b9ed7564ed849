import RealModule
import ComplexModule

// Native, generic, row-major dense kernels for small matrices, where a BLAS
// or LAPACK call costs more than its arithmetic. They follow LAPACK's
// reference semantics exactly (pivot choice, zero-pivot handling), so every
// path gives the same pivots. Larger sizes go to BLAS (see MatOps).

enum Native {
    /// Unblocked LU (LAPACK `getf2` semantics) of the `m × n` row-major matrix
    /// at `a` with leading dimension `lda`, in place.
    ///
    /// With `pivot`, step `j` picks the first row holding the largest
    /// ``LUScalar/pivotMagnitude`` in column `j`, records it 1-based in
    /// `ipiv[j]` and swaps whole rows (all `n` columns). A zero pivot leaves
    /// the column unscaled, sets `info` to `j + 1` if it is still 0, and the
    /// factorization continues. Without `pivot`, `ipiv[j] = j + 1`.
    /// - Returns: LAPACK's `info` for this matrix.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    @_specialize(where T == Complex<Float>)
    @_specialize(where T == Complex<Double>)
    static func getf2<T: LUScalar>(m: Int, n: Int, a: UnsafeMutablePointer<T>, lda: Int,
                                   ipiv: UnsafeMutablePointer<Int32>, pivot: Bool) -> Int32 {
        let k = min(m, n)
        var info: Int32 = 0
        for j in 0..<k {
            var p = j
            if pivot {
                var best = a[j * lda + j].pivotMagnitude
                var i = j + 1
                while i < m {
                    let v = a[i * lda + j].pivotMagnitude
                    if v > best { best = v; p = i }
                    i += 1
                }
            }
            ipiv[j] = Int32(p + 1)
            let piv = a[p * lda + j]
            if piv != .zero {
                if p != j {
                    let rp = a + p * lda, rj = a + j * lda
                    for c in 0..<n { let t = rp[c]; rp[c] = rj[c]; rj[c] = t }
                }
                // LAPACK scales by the reciprocal unless the pivot is tiny.
                if piv.modulus >= T.RealScalar.leastNormalMagnitude {
                    let r = 1 / piv
                    for i in (j + 1)..<max(m, j + 1) { a[i * lda + j] = a[i * lda + j] * r }
                } else {
                    for i in (j + 1)..<max(m, j + 1) { a[i * lda + j] = a[i * lda + j] / piv }
                }
            } else if info == 0 {
                info = Int32(j + 1)
            }
            // Rank-1 update of the trailing block (with the unscaled column
            // when the pivot was zero, as LAPACK does).
            if j + 1 < n {
                let rj = a + j * lda
                for i in (j + 1)..<max(m, j + 1) {
                    let ri = a + i * lda
                    let l = ri[j]
                    if l == .zero { continue }
                    for c in (j + 1)..<n { ri[c] = ri[c] - l * rj[c] }
                }
            }
        }
        return info
    }

    /// Element of `op(A)` at `(i, j)` for a triangular solve / multiply.
    @inline(__always)
    static func opA<T: LUScalar>(_ a: UnsafePointer<T>, _ lda: Int, _ i: Int, _ j: Int, _ trans: TriTrans) -> T {
        switch trans {
        case .none: return a[i * lda + j]
        case .transpose: return a[j * lda + i]
        case .adjoint: return a[j * lda + i].conj
        }
    }

    /// Row-major triangular solve, in place on `b` (`m × n`, leading dim `ldb`):
    /// `op(A) X = B` (left, `A` is `m × m`) or `X op(A) = B` (right, `A` is `n × n`).
    /// Only the `uplo` triangle of `A` is read; `unit` takes the diagonal as 1.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    @_specialize(where T == Complex<Float>)
    @_specialize(where T == Complex<Double>)
    static func trsm<T: LUScalar>(side: TriSide, uplo: TriUplo, trans: TriTrans, diag: TriDiag,
                                  m: Int, n: Int, a: UnsafePointer<T>, lda: Int,
                                  b: UnsafeMutablePointer<T>, ldb: Int) {
        // The triangle op(A) actually has.
        let lower = (uplo == .lower) == (trans == .none)
        let unit = diag == .unit
        if side == .left {
            for s in 0..<m {
                let i = lower ? s : m - 1 - s
                let bi = b + i * ldb
                let range = lower ? 0..<i : (i + 1)..<m
                for p in range {
                    let f = opA(a, lda, i, p, trans)
                    if f == .zero { continue }
                    let bp = b + p * ldb
                    for c in 0..<n { bi[c] = bi[c] - f * bp[c] }
                }
                if !unit {
                    let d = opA(a, lda, i, i, trans)
                    for c in 0..<n { bi[c] = bi[c] / d }
                }
            }
        } else {
            // x op(A) = b per row: op(A) upper → columns ascending. For a
            // (conjugate-)transposed A, op(A)[p][j] = A[j][p]: row j of A is
            // contiguous, so the inner product runs along it.
            for r in 0..<m {
                let br = b + r * ldb
                for t in 0..<n {
                    let j = lower ? n - 1 - t : t
                    var s = br[j]
                    let range = lower ? (j + 1)..<n : 0..<j
                    let aj = a + j * lda
                    switch trans {
                    case .none: for p in range { s = s - br[p] * a[p * lda + j] }
                    case .transpose: for p in range { s = s - br[p] * aj[p] }
                    case .adjoint: for p in range { s = s - br[p] * aj[p].conj }
                    }
                    br[j] = unit ? s : s / opA(a, lda, j, j, trans)
                }
            }
        }
    }

    /// Row-major triangular multiply, in place on `b`:
    /// `B := op(A) B` (left) or `B := B op(A)` (right).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    @_specialize(where T == Complex<Float>)
    @_specialize(where T == Complex<Double>)
    static func trmm<T: LUScalar>(side: TriSide, uplo: TriUplo, trans: TriTrans, diag: TriDiag,
                                  m: Int, n: Int, a: UnsafePointer<T>, lda: Int,
                                  b: UnsafeMutablePointer<T>, ldb: Int) {
        let lower = (uplo == .lower) == (trans == .none)
        let unit = diag == .unit
        if side == .left {
            // Row i of the result reads rows i... (upper) or ...i (lower):
            // go in the order that leaves those rows unmodified.
            for s in 0..<m {
                let i = lower ? m - 1 - s : s
                let bi = b + i * ldb
                if !unit {
                    let d = opA(a, lda, i, i, trans)
                    for c in 0..<n { bi[c] = d * bi[c] }
                }
                let range = lower ? 0..<i : (i + 1)..<m
                for p in range {
                    let f = opA(a, lda, i, p, trans)
                    if f == .zero { continue }
                    let bp = b + p * ldb
                    for c in 0..<n { bi[c] = bi[c] + f * bp[c] }
                }
            }
        } else {
            for r in 0..<m {
                let br = b + r * ldb
                for t in 0..<n {
                    let j = lower ? t : n - 1 - t
                    var s: T = unit ? br[j] : br[j] * opA(a, lda, j, j, trans)
                    let range = lower ? (j + 1)..<n : 0..<j
                    let aj = a + j * lda
                    switch trans {
                    case .none: for p in range { s = s + br[p] * a[p * lda + j] }
                    case .transpose: for p in range { s = s + br[p] * aj[p] }
                    case .adjoint: for p in range { s = s + br[p] * aj[p].conj }
                    }
                    br[j] = s
                }
            }
        }
    }

    /// Row-major `C = alpha op(A) op(B) + beta C` (`C` is `m × n`, inner `k`).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    @_specialize(where T == Complex<Float>)
    @_specialize(where T == Complex<Double>)
    static func gemm<T: LUScalar>(transA: TriTrans, transB: TriTrans, m: Int, n: Int, k: Int, alpha: T,
                                  a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
                                  beta: T, c: UnsafeMutablePointer<T>, ldc: Int) {
        for i in 0..<m {
            let ci = c + i * ldc
            if beta == .zero { for j in 0..<n { ci[j] = .zero } } else if beta != 1 {
                for j in 0..<n { ci[j] = beta * ci[j] }
            }
            for p in 0..<k {
                let f = alpha * opA(a, lda, i, p, transA)
                if f == .zero { continue }
                if transB == .none {
                    let bp = b + p * ldb
                    for j in 0..<n { ci[j] = ci[j] + f * bp[j] }
                } else {
                    for j in 0..<n { ci[j] = ci[j] + f * opA(b, ldb, p, j, transB) }
                }
            }
        }
    }
}
