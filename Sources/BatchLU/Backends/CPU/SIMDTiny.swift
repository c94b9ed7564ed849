// Tiny real matrices, vectorised across the batch: L matrices at a time
// (8 for Double, 16 for Float: one AVX-512 register) are interleaved so
// that lane l of vector e holds element e of matrix l ("compact" layout, as
// in oneMKL's compact routines). Pivot search, row interchanges and the
// zero-pivot rule are branch-free per-lane masks with LAPACK's semantics:
// the first row holding the largest |a| (strict >, so NaN never wins), no
// interchange and an unscaled column for a zero pivot, info = first zero
// pivot + 1.

/// |v| lane-wise (NaN stays NaN).
@inline(__always)
func vabs<V: SIMD>(_ v: V) -> V where V.Scalar: FloatingPoint {
    v.replacing(with: -v, where: v .< V())
}

enum SIMDTiny {
    /// Factors matrices `range` of the row-major batch at `a` in place when
    /// the element type has a vector path; returns false otherwise.
    static func factor<T: LUScalar>(_ range: Range<Int>, m: Int, n: Int, pivot: Bool, a: UnsafeMutablePointer<T>,
                                    ipiv: UnsafeMutablePointer<Int32>, info: UnsafeMutablePointer<Int32>) -> Bool {
        if T.self == Double.self {
            run(SIMD8<Double>.self, range, m, n, pivot, UnsafeMutableRawPointer(a).assumingMemoryBound(to: Double.self), ipiv, info)
            return true
        }
        if T.self == Float.self {
            run(SIMD16<Float>.self, range, m, n, pivot, UnsafeMutableRawPointer(a).assumingMemoryBound(to: Float.self), ipiv, info)
            return true
        }
        return false
    }

    /// The gradient of square factors (MATH.md, square case) for matrices
    /// `range`, fused in one pass per group; false if no vector path.
    static func backwardSquare<T: LUScalar>(_ range: Range<Int>, n: Int, lu: UnsafePointer<T>, ipiv: UnsafePointer<Int32>,
                                            g: UnsafePointer<T>, out: UnsafeMutablePointer<T>) -> Bool {
        if T.self == Double.self {
            backward(SIMD8<Double>.self, range, n, UnsafeRawPointer(lu).assumingMemoryBound(to: Double.self), ipiv,
                     UnsafeRawPointer(g).assumingMemoryBound(to: Double.self),
                     UnsafeMutableRawPointer(out).assumingMemoryBound(to: Double.self))
            return true
        }
        if T.self == Float.self {
            backward(SIMD16<Float>.self, range, n, UnsafeRawPointer(lu).assumingMemoryBound(to: Float.self), ipiv,
                     UnsafeRawPointer(g).assumingMemoryBound(to: Float.self),
                     UnsafeMutableRawPointer(out).assumingMemoryBound(to: Float.self))
            return true
        }
        return false
    }

    static func run(_: SIMD8<Double>.Type, _ range: Range<Int>, _ m: Int, _ n: Int, _ pivot: Bool,
                             _ a: UnsafeMutablePointer<Double>, _ ipiv: UnsafeMutablePointer<Int32>,
                             _ info: UnsafeMutablePointer<Int32>) {
        let L = SIMD8<Double>.scalarCount, size = m * n, k = min(m, n)
        let x = UnsafeMutablePointer<SIMD8<Double>>.allocate(capacity: size)
        let piv = UnsafeMutablePointer<SIMD8<Double>>.allocate(capacity: max(k, 1))
        defer { x.deallocate(); piv.deallocate() }
        var g0 = range.lowerBound
        while g0 < range.upperBound {
            let lanes = min(L, range.upperBound - g0)
            // Gather; missing lanes get the identity so nothing degenerates.
            for e in 0..<size {
                var v = SIMD8<Double>()
                for l in 0..<L {
                    v[l] = l < lanes ? a[(g0 + l) * size + e] : (e / n == e % n ? 1 : 0)
                }
                x[e] = v
            }
            var inf = SIMD8<Double>()
            let one = SIMD8<Double>(repeating: 1)
            for j in 0..<k {
                var idx = SIMD8<Double>(repeating: Double(j))
                if pivot {
                    var best = vabs(x[j * n + j])
                    var i = j + 1
                    while i < m {
                        let v = vabs(x[i * n + j])
                        let gt = v .> best
                        best.replace(with: v, where: gt)
                        idx.replace(with: Double(i), where: gt)
                        i += 1
                    }
                    // Interchange row j with row idx, per lane.
                    for i in (j + 1)..<max(m, j + 1) {
                        let sel = idx .== SIMD8<Double>(repeating: Double(i))
                        if !any(sel) { continue }
                        let rj = x + j * n, ri = x + i * n
                        for c in 0..<n {
                            let vj = rj[c], vi = ri[c]
                            rj[c] = vj.replacing(with: vi, where: sel)
                            ri[c] = vi.replacing(with: vj, where: sel)
                        }
                    }
                }
                piv[j] = idx
                let p = x[j * n + j]
                let nonzero = p .!= SIMD8<Double>()
                let tiny = vabs(p) .< SIMD8<Double>(repeating: Double.leastNormalMagnitude)
                inf.replace(with: Double(j + 1), where: .!nonzero .& (inf .== SIMD8<Double>()))
                let r = one / p
                let divide = any(tiny .& nonzero)
                for i in (j + 1)..<max(m, j + 1) {
                    let v = x[i * n + j]
                    var s = v * r
                    if divide { s.replace(with: v / p, where: tiny) }
                    x[i * n + j] = v.replacing(with: s, where: nonzero)
                }
                // Rank-1 update of the trailing block.
                let rj = x + j * n
                for i in (j + 1)..<max(m, j + 1) {
                    let ri = x + i * n
                    let l = ri[j]
                    for c in (j + 1)..<max(n, j + 1) { ri[c] = ri[c] - l * rj[c] }
                }
            }
            // Scatter.
            for l in 0..<lanes {
                let b = g0 + l
                for e in 0..<size { a[b * size + e] = x[e][l] }
                for j in 0..<k { ipiv[b * k + j] = Int32(piv[j][l]) + 1 }
                info[b] = Int32(inf[l])
            }
            g0 += lanes
        }
    }

    static func run(_: SIMD16<Float>.Type, _ range: Range<Int>, _ m: Int, _ n: Int, _ pivot: Bool,
                             _ a: UnsafeMutablePointer<Float>, _ ipiv: UnsafeMutablePointer<Int32>,
                             _ info: UnsafeMutablePointer<Int32>) {
        let L = SIMD16<Float>.scalarCount, size = m * n, k = min(m, n)
        let x = UnsafeMutablePointer<SIMD16<Float>>.allocate(capacity: size)
        let piv = UnsafeMutablePointer<SIMD16<Float>>.allocate(capacity: max(k, 1))
        defer { x.deallocate(); piv.deallocate() }
        var g0 = range.lowerBound
        while g0 < range.upperBound {
            let lanes = min(L, range.upperBound - g0)
            // Gather; missing lanes get the identity so nothing degenerates.
            for e in 0..<size {
                var v = SIMD16<Float>()
                for l in 0..<L {
                    v[l] = l < lanes ? a[(g0 + l) * size + e] : (e / n == e % n ? 1 : 0)
                }
                x[e] = v
            }
            var inf = SIMD16<Float>()
            let one = SIMD16<Float>(repeating: 1)
            for j in 0..<k {
                var idx = SIMD16<Float>(repeating: Float(j))
                if pivot {
                    var best = vabs(x[j * n + j])
                    var i = j + 1
                    while i < m {
                        let v = vabs(x[i * n + j])
                        let gt = v .> best
                        best.replace(with: v, where: gt)
                        idx.replace(with: Float(i), where: gt)
                        i += 1
                    }
                    // Interchange row j with row idx, per lane.
                    for i in (j + 1)..<max(m, j + 1) {
                        let sel = idx .== SIMD16<Float>(repeating: Float(i))
                        if !any(sel) { continue }
                        let rj = x + j * n, ri = x + i * n
                        for c in 0..<n {
                            let vj = rj[c], vi = ri[c]
                            rj[c] = vj.replacing(with: vi, where: sel)
                            ri[c] = vi.replacing(with: vj, where: sel)
                        }
                    }
                }
                piv[j] = idx
                let p = x[j * n + j]
                let nonzero = p .!= SIMD16<Float>()
                let tiny = vabs(p) .< SIMD16<Float>(repeating: Float.leastNormalMagnitude)
                inf.replace(with: Float(j + 1), where: .!nonzero .& (inf .== SIMD16<Float>()))
                let r = one / p
                let divide = any(tiny .& nonzero)
                for i in (j + 1)..<max(m, j + 1) {
                    let v = x[i * n + j]
                    var s = v * r
                    if divide { s.replace(with: v / p, where: tiny) }
                    x[i * n + j] = v.replacing(with: s, where: nonzero)
                }
                // Rank-1 update of the trailing block.
                let rj = x + j * n
                for i in (j + 1)..<max(m, j + 1) {
                    let ri = x + i * n
                    let l = ri[j]
                    for c in (j + 1)..<max(n, j + 1) { ri[c] = ri[c] - l * rj[c] }
                }
            }
            // Scatter.
            for l in 0..<lanes {
                let b = g0 + l
                for e in 0..<size { a[b * size + e] = x[e][l] }
                for j in 0..<k { ipiv[b * k + j] = Int32(piv[j][l]) + 1 }
                info[b] = Int32(inf[l])
            }
            g0 += lanes
        }
    }

    /// Square backward, real: Φ = tril₋₁(Lᵀ tril₋₁(Ḡ)) + triu(triu(Ḡ) Uᵀ),
    /// Lᵀ X = Φ, Z Uᵀ = X, Ā = P Z.
    static func backward(_: SIMD8<Double>.Type, _ range: Range<Int>, _ n: Int, _ lu: UnsafePointer<Double>,
                                  _ ipiv: UnsafePointer<Int32>, _ g: UnsafePointer<Double>,
                                  _ out: UnsafeMutablePointer<Double>) {
        let L = SIMD8<Double>.scalarCount, size = n * n
        let f = UnsafeMutablePointer<SIMD8<Double>>.allocate(capacity: size)   // factors
        let w = UnsafeMutablePointer<SIMD8<Double>>.allocate(capacity: size)   // Lᵀ tril₋₁(Ḡ)
        let o = UnsafeMutablePointer<SIMD8<Double>>.allocate(capacity: size)   // triu(Ḡ) Uᵀ, then Φ, X, Z
        let piv = UnsafeMutablePointer<SIMD8<Double>>.allocate(capacity: max(n, 1))
        defer { f.deallocate(); w.deallocate(); o.deallocate(); piv.deallocate() }
        var g0 = range.lowerBound
        while g0 < range.upperBound {
            let lanes = min(L, range.upperBound - g0)
            for e in 0..<size {
                var fv = SIMD8<Double>(), gv = SIMD8<Double>()
                for l in 0..<L {
                    if l < lanes {
                        fv[l] = lu[(g0 + l) * size + e]
                        gv[l] = g[(g0 + l) * size + e]
                    } else {
                        fv[l] = e / n == e % n ? 1 : 0
                    }
                }
                f[e] = fv
                let i = e / n, j = e % n
                w[e] = i > j ? gv : SIMD8<Double>()
                o[e] = i > j ? SIMD8<Double>() : gv
            }
            for j in 0..<n {
                var v = SIMD8<Double>()
                for l in 0..<lanes { v[l] = Double(ipiv[(g0 + l) * n + j] - 1) }
                for l in lanes..<L { v[l] = Double(j) }
                piv[j] = v
            }
            // w := Lᵀ w (unit upper): row i reads rows p > i, so go top-down.
            for i in 0..<n {
                for p in (i + 1)..<max(n, i + 1) {
                    let lpi = f[p * n + i]
                    for c in 0..<n { w[i * n + c] = w[i * n + c] + lpi * w[p * n + c] }
                }
            }
            // o := o Uᵀ: column j reads columns p >= j, so go left to right.
            for r in 0..<n {
                for j in 0..<n {
                    var s = SIMD8<Double>()
                    for p in j..<n { s = s + o[r * n + p] * f[j * n + p] }
                    o[r * n + j] = s
                }
            }
            // Φ: strictly lower part from w.
            for i in 0..<n { for j in 0..<i { o[i * n + j] = w[i * n + j] } }
            // Lᵀ X = Φ: bottom-up.
            for i in stride(from: n - 1, through: 0, by: -1) {
                for p in (i + 1)..<max(n, i + 1) {
                    let lpi = f[p * n + i]
                    for c in 0..<n { o[i * n + c] = o[i * n + c] - lpi * o[p * n + c] }
                }
            }
            // Z Uᵀ = X: X[r][j] = Σ_{p ≥ j} Z[r][p] U[j][p], so per row, columns right to left.
            for r in 0..<n {
                for j in stride(from: n - 1, through: 0, by: -1) {
                    var s = o[r * n + j]
                    for p in (j + 1)..<max(n, j + 1) { s = s - o[r * n + p] * f[j * n + p] }
                    o[r * n + j] = s / f[j * n + j]
                }
            }
            // Ā = P Z: interchanges in reverse order, per lane.
            for j in stride(from: n - 1, through: 0, by: -1) {
                let pj = piv[j]
                for i in (j + 1)..<max(n, j + 1) {
                    let sel = pj .== SIMD8<Double>(repeating: Double(i))
                    if !any(sel) { continue }
                    for c in 0..<n {
                        let vj = o[j * n + c], vi = o[i * n + c]
                        o[j * n + c] = vj.replacing(with: vi, where: sel)
                        o[i * n + c] = vi.replacing(with: vj, where: sel)
                    }
                }
            }
            for l in 0..<lanes {
                let b = g0 + l
                for e in 0..<size { out[b * size + e] = o[e][l] }
            }
            g0 += lanes
        }
    }

    static func backward(_: SIMD16<Float>.Type, _ range: Range<Int>, _ n: Int, _ lu: UnsafePointer<Float>,
                                  _ ipiv: UnsafePointer<Int32>, _ g: UnsafePointer<Float>,
                                  _ out: UnsafeMutablePointer<Float>) {
        let L = SIMD16<Float>.scalarCount, size = n * n
        let f = UnsafeMutablePointer<SIMD16<Float>>.allocate(capacity: size)   // factors
        let w = UnsafeMutablePointer<SIMD16<Float>>.allocate(capacity: size)   // Lᵀ tril₋₁(Ḡ)
        let o = UnsafeMutablePointer<SIMD16<Float>>.allocate(capacity: size)   // triu(Ḡ) Uᵀ, then Φ, X, Z
        let piv = UnsafeMutablePointer<SIMD16<Float>>.allocate(capacity: max(n, 1))
        defer { f.deallocate(); w.deallocate(); o.deallocate(); piv.deallocate() }
        var g0 = range.lowerBound
        while g0 < range.upperBound {
            let lanes = min(L, range.upperBound - g0)
            for e in 0..<size {
                var fv = SIMD16<Float>(), gv = SIMD16<Float>()
                for l in 0..<L {
                    if l < lanes {
                        fv[l] = lu[(g0 + l) * size + e]
                        gv[l] = g[(g0 + l) * size + e]
                    } else {
                        fv[l] = e / n == e % n ? 1 : 0
                    }
                }
                f[e] = fv
                let i = e / n, j = e % n
                w[e] = i > j ? gv : SIMD16<Float>()
                o[e] = i > j ? SIMD16<Float>() : gv
            }
            for j in 0..<n {
                var v = SIMD16<Float>()
                for l in 0..<lanes { v[l] = Float(ipiv[(g0 + l) * n + j] - 1) }
                for l in lanes..<L { v[l] = Float(j) }
                piv[j] = v
            }
            // w := Lᵀ w (unit upper): row i reads rows p > i, so go top-down.
            for i in 0..<n {
                for p in (i + 1)..<max(n, i + 1) {
                    let lpi = f[p * n + i]
                    for c in 0..<n { w[i * n + c] = w[i * n + c] + lpi * w[p * n + c] }
                }
            }
            // o := o Uᵀ: column j reads columns p >= j, so go left to right.
            for r in 0..<n {
                for j in 0..<n {
                    var s = SIMD16<Float>()
                    for p in j..<n { s = s + o[r * n + p] * f[j * n + p] }
                    o[r * n + j] = s
                }
            }
            // Φ: strictly lower part from w.
            for i in 0..<n { for j in 0..<i { o[i * n + j] = w[i * n + j] } }
            // Lᵀ X = Φ: bottom-up.
            for i in stride(from: n - 1, through: 0, by: -1) {
                for p in (i + 1)..<max(n, i + 1) {
                    let lpi = f[p * n + i]
                    for c in 0..<n { o[i * n + c] = o[i * n + c] - lpi * o[p * n + c] }
                }
            }
            // Z Uᵀ = X: X[r][j] = Σ_{p ≥ j} Z[r][p] U[j][p], so per row, columns right to left.
            for r in 0..<n {
                for j in stride(from: n - 1, through: 0, by: -1) {
                    var s = o[r * n + j]
                    for p in (j + 1)..<max(n, j + 1) { s = s - o[r * n + p] * f[j * n + p] }
                    o[r * n + j] = s / f[j * n + j]
                }
            }
            // Ā = P Z: interchanges in reverse order, per lane.
            for j in stride(from: n - 1, through: 0, by: -1) {
                let pj = piv[j]
                for i in (j + 1)..<max(n, j + 1) {
                    let sel = pj .== SIMD16<Float>(repeating: Float(i))
                    if !any(sel) { continue }
                    for c in 0..<n {
                        let vj = o[j * n + c], vi = o[i * n + c]
                        o[j * n + c] = vj.replacing(with: vi, where: sel)
                        o[i * n + c] = vi.replacing(with: vj, where: sel)
                    }
                }
            }
            for l in 0..<lanes {
                let b = g0 + l
                for e in 0..<size { out[b * size + e] = o[e][l] }
            }
            g0 += lanes
        }
    }
}
