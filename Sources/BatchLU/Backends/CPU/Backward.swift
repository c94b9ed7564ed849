import ComplexModule
import RealModule
// The gradient of the packed LU factorization for one matrix (MATH.md),
// row-major. Every inverse is a triangular solve; `L` and `U` are read in
// place from the packed factors (`trmm`/`trsm` look at one triangle only).
// The row permutation is applied by the caller.
enum Backward {
    /// `m = n`:
    ///   Φ = tril₋₁(Lᴴ L̄) + triu(Ū Uᴴ);  Lᴴ X = Φ;  Z Uᴴ = X;  Ā = P Z.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    @_specialize(where T == Complex<Float>)
    @_specialize(where T == Complex<Double>)
    static func square<T: LUScalar>(_ ops: MatOps, n: Int, lu: UnsafePointer<T>, g: UnsafePointer<T>,
                                    out: UnsafeMutablePointer<T>, w: UnsafeMutablePointer<T>) {
        // w = tril₋₁(Ḡ), out = triu(Ḡ)
        for i in 0..<n {
            for j in 0..<n {
                let v = g[i * n + j]
                w[i * n + j] = i > j ? v : .zero
                out[i * n + j] = i > j ? .zero : v
            }
        }
        ops.trmm(.left, .lower, .adjoint, .unit, m: n, n: n, a: lu, lda: n, b: w, ldb: n)      // Lᴴ tril₋₁(L̄)
        ops.trmm(.right, .upper, .adjoint, .nonUnit, m: n, n: n, a: lu, lda: n, b: out, ldb: n) // triu(Ū) Uᴴ
        for i in 1..<max(n, 1) { for j in 0..<i { out[i * n + j] = w[i * n + j] } }             // Φ
        ops.trsm(.left, .lower, .adjoint, .unit, m: n, n: n, a: lu, lda: n, b: out, ldb: n)
        ops.trsm(.right, .upper, .adjoint, .nonUnit, m: n, n: n, a: lu, lda: n, b: out, ldb: n)
    }

    /// `m < n`, `U = [U₁ | U₂]`:
    ///   T = tril₋₁(Lᴴ L̄ − triu(Ū) Uᴴ) U₁⁻ᴴ;  M = [T + triu(Ū₁) | Ū₂];  Ā = P L⁻ᴴ M.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    @_specialize(where T == Complex<Float>)
    @_specialize(where T == Complex<Double>)
    static func wide<T: LUScalar>(_ ops: MatOps, m: Int, n: Int, lu: UnsafePointer<T>, g: UnsafePointer<T>,
                                  out: UnsafeMutablePointer<T>, w: UnsafeMutablePointer<T>,
                                  r: UnsafeMutablePointer<T>) {
        for i in 0..<m {
            for j in 0..<m {
                let v = g[i * n + j]
                w[i * m + j] = i > j ? v : .zero
                r[i * m + j] = i > j ? .zero : v
            }
        }
        ops.trmm(.left, .lower, .adjoint, .unit, m: m, n: m, a: lu, lda: n, b: w, ldb: m)       // Lᴴ tril₋₁(L̄)
        ops.trmm(.right, .upper, .adjoint, .nonUnit, m: m, n: m, a: lu, lda: n, b: r, ldb: m)   // triu(Ū₁) U₁ᴴ
        ops.gemm(.none, .adjoint, m: m, n: m, k: n - m, alpha: 1, a: g + m, lda: n, b: lu + m, ldb: n,
                 beta: 1, c: r, ldc: m)                                                          // + Ū₂ U₂ᴴ
        for i in 0..<m { for j in 0..<m { w[i * m + j] = i > j ? w[i * m + j] - r[i * m + j] : .zero } }
        ops.trsm(.right, .upper, .adjoint, .nonUnit, m: m, n: m, a: lu, lda: n, b: w, ldb: m)   // T
        for i in 0..<m {
            for j in 0..<n {
                let gv = g[i * n + j]
                out[i * n + j] = j < m ? w[i * m + j] + (j >= i ? gv : .zero) : gv
            }
        }
        ops.trsm(.left, .lower, .adjoint, .unit, m: m, n: n, a: lu, lda: n, b: out, ldb: n)
    }

    /// `m > n`, `L = [L₁ ; L₂]`:
    ///   T = L₁⁻ᴴ triu(Ū Uᴴ − Lᴴ tril₋₁(L̄));  M = [T + tril₋₁(L̄₁) ; L̄₂];  Ā = P M U⁻ᴴ.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    @_specialize(where T == Complex<Float>)
    @_specialize(where T == Complex<Double>)
    static func tall<T: LUScalar>(_ ops: MatOps, m: Int, n: Int, lu: UnsafePointer<T>, g: UnsafePointer<T>,
                                  out: UnsafeMutablePointer<T>, w: UnsafeMutablePointer<T>,
                                  r: UnsafeMutablePointer<T>) {
        for i in 0..<n {
            for j in 0..<n {
                let v = g[i * n + j]
                w[i * n + j] = i > j ? v : .zero
                r[i * n + j] = i > j ? .zero : v
            }
        }
        ops.trmm(.right, .upper, .adjoint, .nonUnit, m: n, n: n, a: lu, lda: n, b: r, ldb: n)   // triu(Ū) Uᴴ
        ops.trmm(.left, .lower, .adjoint, .unit, m: n, n: n, a: lu, lda: n, b: w, ldb: n)       // L₁ᴴ tril₋₁(L̄₁)
        ops.gemm(.adjoint, .none, m: n, n: n, k: m - n, alpha: 1, a: lu + n * n, lda: n, b: g + n * n, ldb: n,
                 beta: 1, c: w, ldc: n)                                                          // + L₂ᴴ L̄₂
        for i in 0..<n { for j in 0..<n { r[i * n + j] = i <= j ? r[i * n + j] - w[i * n + j] : .zero } }
        ops.trsm(.left, .lower, .adjoint, .unit, m: n, n: n, a: lu, lda: n, b: r, ldb: n)       // T
        for i in 0..<m {
            for j in 0..<n {
                let gv = g[i * n + j]
                out[i * n + j] = i < n ? r[i * n + j] + (i > j ? gv : .zero) : gv
            }
        }
        ops.trsm(.right, .upper, .adjoint, .nonUnit, m: m, n: n, a: lu, lda: n, b: out, ldb: n)
    }
}

/// Operations on factors that are cheap enough to run on the host for any backend.
enum HostLU {
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    @_specialize(where T == Complex<Float>)
    @_specialize(where T == Complex<Double>)
    static func unpack<T: LUScalar>(_ f: LUFactors<T>) throws -> LUUnpacked<T> {
        let m = f.rows, n = f.cols, k = f.k, count = f.batchCount, batch = f.batchShape
        var P = [T](repeating: .zero, count: count * m * m)
        var L = [T](repeating: .zero, count: count * m * k)
        var U = [T](repeating: .zero, count: count * k * n)
        var perm = [Int32](repeating: 0, count: count * m)
        let lu = f.lu.elements, piv = f.pivots.elements
        for b in 0..<count {
            let a = b * m * n
            var pm = Array(0..<m)
            for i in 0..<k { pm.swapAt(i, Int(piv[b * k + i]) - 1) }
            for i in 0..<m {
                perm[b * m + i] = Int32(pm[i])
                P[b * m * m + pm[i] * m + i] = 1
            }
            for i in 0..<m {
                for j in 0..<k { L[b * m * k + i * k + j] = i > j ? lu[a + i * n + j] : (i == j ? 1 : .zero) }
            }
            for i in 0..<k {
                for j in i..<n { U[b * k * n + i * n + j] = lu[a + i * n + j] }
            }
        }
        return LUUnpacked(P: Tensor(unchecked: batch + [m, m], elements: P),
                          L: Tensor(unchecked: batch + [m, k], elements: L),
                          U: Tensor(unchecked: batch + [k, n], elements: U),
                          permutation: Tensor(unchecked: batch + [m], elements: perm))
    }

    /// `(-1)^(number of actual interchanges)`.
    static func permutationSign(_ piv: ArraySlice<Int32>) -> Bool {
        var odd = false
        for (i, p) in piv.enumerated() where Int(p) != i + 1 { odd.toggle() }
        return odd
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    @_specialize(where T == Complex<Float>)
    @_specialize(where T == Complex<Double>)
    static func det<T: LUScalar>(_ f: LUFactors<T>) -> Tensor<T> {
        let n = f.rows, count = f.batchCount
        let lu = f.lu.elements, piv = f.pivots.elements
        var out = [T](repeating: .zero, count: count)
        for b in 0..<count {
            var d: T = 1
            for i in 0..<n { d = d * lu[b * n * n + i * n + i] }
            out[b] = permutationSign(piv[(b * n)..<(b * n + n)]) ? -d : d
        }
        return Tensor(unchecked: f.batchShape, elements: out)
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    @_specialize(where T == Complex<Float>)
    @_specialize(where T == Complex<Double>)
    static func slogdet<T: LUScalar>(_ f: LUFactors<T>) -> (sign: Tensor<T>, logAbsDet: Tensor<T.RealScalar>) {
        let n = f.rows, count = f.batchCount
        let lu = f.lu.elements, piv = f.pivots.elements
        var sign = [T](repeating: .zero, count: count)
        var logabs = [T.RealScalar](repeating: .zero, count: count)
        for b in 0..<count {
            var s: T = permutationSign(piv[(b * n)..<(b * n + n)]) ? -1 : 1
            var l: T.RealScalar = 0
            for i in 0..<n {
                let u = lu[b * n * n + i * n + i]
                let a = u.modulus
                if a == 0 { s = .zero; l = -.infinity; break }
                // The phase of u: u / |u| (±1 for real types).
                s = s * (u / T(re: a, im: 0))
                l += T.RealScalar.log(a)
            }
            sign[b] = s
            logabs[b] = l
        }
        return (Tensor(unchecked: f.batchShape, elements: sign),
                Tensor(unchecked: f.batchShape, elements: logabs))
    }
}
