import RealModule
// Reverse-mode derivatives (MATH.md). Complex convention as PyTorch: for a
// real loss, a gradient is ∂loss/∂Re + i ∂loss/∂Im. No inverse is formed:
// every A⁻¹ / A⁻ᴴ is a triangular solve with the factors.

/// The gradient with respect to `A` of the packed factors `lu`, given
/// `gradLU = ∂loss/∂lu` (same shape as `lu`). Square, wide and tall, real
/// and complex. Matrices that are singular (`info > 0`) get non-finite
/// gradients; the others are unaffected.
public func luFactorBackward<T: LUScalar>(_ factors: LUFactors<T>, _ gradLU: Tensor<T>,
                                          backend: BackendChoice = .automatic) throws -> Tensor<T> {
    guard gradLU.shape == factors.lu.shape else {
        throw BatchLUError.gradientShapeMismatch(expected: factors.lu.shape, got: gradLU.shape)
    }
    return try backendFor(backend, T.self).luFactorBackward(factors, gradLU)
}

/// The factors of `a` and a pullback that maps `∂loss/∂lu` to `∂loss/∂A`.
public func luFactorWithPullback<T: LUScalar>(_ a: Tensor<T>, pivot: Bool = true,
                                              backend: BackendChoice = .automatic) throws
    -> (factors: LUFactors<T>, pullback: @Sendable (Tensor<T>) throws -> Tensor<T>) {
    let be = try backendFor(backend, T.self)
    let f = try luFactorEx(a, pivot: pivot, backend: .custom(be))
    return (f, { g in try luFactorBackward(f, g, backend: .custom(be)) })
}

/// Gradients of `X = luSolve(factors, b, adjoint:)` with respect to `A`
/// (the matrix `factors` factor) and `b`, given `gradX = ∂loss/∂X`.
///
///     B̄ = A⁻ᴴ X̄,  Ā = −B̄ Xᴴ          (adjoint: B̄ = A⁻¹ X̄,  Ā = −X B̄ᴴ)
///
/// Both are summed over broadcast batch dimensions, so `gradA` has the shape
/// of `factors.lu` and `gradB` the shape of `b`.
public func luSolveBackward<T: LUScalar>(_ factors: LUFactors<T>, _ b: Tensor<T>, x: Tensor<T>,
                                         gradX: Tensor<T>, adjoint: Bool = false,
                                         backend: BackendChoice = .automatic) throws
    -> (gradA: Tensor<T>, gradB: Tensor<T>) {
    let (plan, _) = try solvePlan(factors, b, "luSolveBackward", expand: false)
    let outShape = plan.shape + [b.rows, b.cols]
    guard x.shape == outShape else { throw BatchLUError.gradientShapeMismatch(expected: outShape, got: x.shape) }
    guard gradX.shape == outShape else {
        throw BatchLUError.gradientShapeMismatch(expected: outShape, got: gradX.shape)
    }
    let be = try backendFor(backend, T.self)
    let gb = try be.luSolve(factors, gradX, factorIndex: plan.lhsIndex, adjoint: !adjoint)
    let n = factors.rows, nrhs = b.cols
    var gradA = try Tensor<T>(zeros: factors.lu.shape)
    var gradB = try Tensor<T>(zeros: b.shape)
    let ops = MatOps(tuning: CPUTuning())
    gb.withUnsafeBufferPointer { gbP in
        x.withUnsafeBufferPointer { xP in
            gradA.withUnsafeMutableBufferPointer { gaP in
                BLASThreads.shared {
                    for (i, f) in plan.lhsIndex.enumerated() {
                        let bi = gbP.baseAddress! + i * n * nrhs, xi = xP.baseAddress! + i * n * nrhs
                        // Accumulate into the factor this output matrix used.
                        if adjoint {
                            ops.gemm(.none, .adjoint, m: n, n: n, k: nrhs, alpha: -1, a: xi, lda: nrhs,
                                     b: bi, ldb: nrhs, beta: 1, c: gaP.baseAddress! + f * n * n, ldc: n)
                        } else {
                            ops.gemm(.none, .adjoint, m: n, n: n, k: nrhs, alpha: -1, a: bi, lda: nrhs,
                                     b: xi, ldb: nrhs, beta: 1, c: gaP.baseAddress! + f * n * n, ldc: n)
                        }
                    }
                }
            }
        }
        gradB.withUnsafeMutableBufferPointer { gbOut in
            let size = n * nrhs
            for (i, src) in plan.rhsIndex.enumerated() {
                for e in 0..<size { gbOut[src * size + e] = gbOut[src * size + e] + gbP[i * size + e] }
            }
        }
    }
    return (gradA, gradB)
}

/// `X = luSolve(factors, b, adjoint:)` and its pullback `X̄ ↦ (Ā, B̄)`.
public func luSolveWithPullback<T: LUScalar>(_ factors: LUFactors<T>, _ b: Tensor<T>, adjoint: Bool = false,
                                             backend: BackendChoice = .automatic) throws
    -> (x: Tensor<T>, pullback: @Sendable (Tensor<T>) throws -> (gradA: Tensor<T>, gradB: Tensor<T>)) {
    let be = try backendFor(backend, T.self)
    let x = try luSolve(factors, b, adjoint: adjoint, backend: .custom(be))
    return (x, { g in try luSolveBackward(factors, b, x: x, gradX: g, adjoint: adjoint, backend: .custom(be)) })
}

/// Solves `Aᴴ Y = diag(c) ⊗ I` per matrix: `c_i A_i⁻ᴴ`, one adjoint solve.
func scaledAdjointInverse<T: LUScalar>(_ factors: LUFactors<T>, _ c: [T], _ be: any LUBackend) throws -> Tensor<T> {
    let n = factors.rows, count = factors.batchCount
    var rhs = [T](repeating: .zero, count: count * n * n)
    for b in 0..<count { for i in 0..<n { rhs[b * n * n + i * n + i] = c[b] } }
    return try be.luSolve(factors, Tensor(unchecked: factors.lu.shape, elements: rhs),
                          factorIndex: Array(0..<count), adjoint: true)
}

/// Gradient of `det(A)`: `Ā = ḡ · conj(det) · A⁻ᴴ`, computed as one adjoint
/// solve with the factors of `A`. `det` and `gradDet` have the batch shape.
public func detBackward<T: LUScalar>(_ factors: LUFactors<T>, det: Tensor<T>, gradDet: Tensor<T>,
                                     backend: BackendChoice = .automatic) throws -> Tensor<T> {
    try requireSquare(factors, "detBackward")
    guard det.shape == factors.batchShape else {
        throw BatchLUError.gradientShapeMismatch(expected: factors.batchShape, got: det.shape)
    }
    guard gradDet.shape == factors.batchShape else {
        throw BatchLUError.gradientShapeMismatch(expected: factors.batchShape, got: gradDet.shape)
    }
    let c = zip(gradDet.elements, det.elements).map { $0 * $1.conj }
    return try scaledAdjointInverse(factors, c, backendFor(backend, T.self))
}

/// Gradient of `slogdet(A)`: `Ā = c · A⁻ᴴ` with `c = ḡ_logAbsDet` for real
/// types and `c = ḡ_logAbsDet − i·Im(conj(ḡ_sign)·sign)` for complex ones
/// (PyTorch's convention; the sign of a real matrix is piecewise constant
/// and has no gradient).
public func slogdetBackward<T: LUScalar>(_ factors: LUFactors<T>, sign: Tensor<T>,
                                         gradLogAbsDet: Tensor<T.RealScalar>, gradSign: Tensor<T>? = nil,
                                         backend: BackendChoice = .automatic) throws -> Tensor<T> {
    try requireSquare(factors, "slogdetBackward")
    let bs = factors.batchShape
    guard sign.shape == bs else { throw BatchLUError.gradientShapeMismatch(expected: bs, got: sign.shape) }
    guard gradLogAbsDet.shape == bs else {
        throw BatchLUError.gradientShapeMismatch(expected: bs, got: gradLogAbsDet.shape)
    }
    if let gs = gradSign, gs.shape != bs { throw BatchLUError.gradientShapeMismatch(expected: bs, got: gs.shape) }
    var c = gradLogAbsDet.elements.map { T(re: $0, im: 0) }
    if T.isComplex, let gs = gradSign {
        for i in c.indices {
            let im = (gs.elements[i].conj * sign.elements[i]).im
            c[i] = c[i] - T(re: 0, im: im)
        }
    }
    return try scaledAdjointInverse(factors, c, backendFor(backend, T.self))
}

/// `det(A)` and its pullback `ḡ ↦ Ā`.
public func detWithPullback<T: LUScalar>(_ a: Tensor<T>, backend: BackendChoice = .automatic) throws
    -> (det: Tensor<T>, pullback: @Sendable (Tensor<T>) throws -> Tensor<T>) {
    try requireMatrices(a, "det")
    guard a.rows == a.cols else { throw BatchLUError.notSquare(operation: "det", rows: a.rows, cols: a.cols) }
    let be = try backendFor(backend, T.self)
    let f = try be.luFactor(a, pivot: true)
    let d = try be.det(f)
    return (d, { g in try detBackward(f, det: d, gradDet: g, backend: .custom(be)) })
}

/// `slogdet(A)` and its pullback `(ḡ_logAbsDet, ḡ_sign) ↦ Ā`.
public func slogdetWithPullback<T: LUScalar>(_ a: Tensor<T>, backend: BackendChoice = .automatic) throws
    -> (sign: Tensor<T>, logAbsDet: Tensor<T.RealScalar>,
        pullback: @Sendable (Tensor<T.RealScalar>, Tensor<T>?) throws -> Tensor<T>) {
    try requireMatrices(a, "slogdet")
    guard a.rows == a.cols else { throw BatchLUError.notSquare(operation: "slogdet", rows: a.rows, cols: a.cols) }
    let be = try backendFor(backend, T.self)
    let f = try be.luFactor(a, pivot: true)
    let (s, l) = try be.slogdet(f)
    return (s, l, { gl, gs in try slogdetBackward(f, sign: s, gradLogAbsDet: gl, gradSign: gs, backend: .custom(be)) })
}
