import _Differentiation

// The `_vjp…` functions are registered derivatives (`@derivative(of:)`); they
// are public only because the compiler requires a derivative to have the
// access level of its original. Call the original inside `gradient(at:)`.

/// The differentiable face of BatchLU, for use inside closures passed to
/// Swift's `gradient(at:)`, `valueWithPullback(at:)` and friends
/// (`import _Differentiation`).
///
///     let g  = gradient(at: a)    { a in (LUDiff.luFactor(a).lu * w).sum() }
///     let g2 = gradient(at: a, b) { a, b in LUDiff.luSolve(LUDiff.luFactor(a), b).sum() }
///     let g3 = gradient(at: a)    { a in LUDiff.slogdet(a).logAbsDet.sum() }
///
/// The functions mirror the throwing API (``luFactorEx(_:pivot:backend:)``,
/// ``luSolve(_:_:adjoint:backend:)``, `det(_:backend:)`,
/// `slogdet(_:backend:)`) but do not throw, because a differentiable
/// closure cannot easily throw: **an argument the throwing API would reject
/// (wrong rank, non-square matrix for `det`/`slogdet`/`luSolve`, mismatched
/// shapes, an unavailable named backend) traps here with the throwing API's
/// error in the message.** Check inputs with the throwing API first when
/// they come from outside. A singular matrix is not an error (as in
/// ``luFactorEx(_:pivot:backend:)``): `info` reports it, and its gradients
/// are non-finite in that matrix only.
///
/// Each registered derivative calls the backward function of the throwing
/// API (``luFactorBackward(_:_:backend:)``,
/// ``luSolveBackward(_:_:x:gradX:adjoint:backend:)``,
/// ``detBackward(_:det:gradDet:backend:)``,
/// ``slogdetBackward(_:sign:gradLogAbsDet:gradSign:backend:)``) on the
/// backend instance that ran the forward call.
///
/// Element types: `Float`, `Double`, `Complex<Float>`, `Complex<Double>`.
/// For complex tensors a loss must end in a real number: take
/// ``Tensor/realPart`` or ``Tensor/imaginaryPart`` before ``Tensor/sum()``.
/// Gradients follow the convention ∂loss/∂Re + i ∂loss/∂Im.
public enum LUDiff {}

extension LUDiff {
    /// An LU factorization inside a differentiable computation.
    ///
    /// Its tangent space has two parts: ``lu`` (the packed factors, whose
    /// cotangent goes through ``luFactorBackward(_:_:backend:)``) and
    /// ``matrix`` (the matrix that was factored, `A` itself: ``LUDiff/luSolve(_:_:adjoint:)``,
    /// `LUDiff.det` and `LUDiff.slogdet` are functions of
    /// `A`, and their backward functions give `∂loss/∂A` directly, so their
    /// cotangent lands here and is passed through to `A` unchanged). The
    /// pullback of ``LUDiff/luFactor(_:pivot:backend:)`` returns
    /// `luFactorBackward(factors, t.lu) + t.matrix`.
    ///
    /// `pivots`, `info` and the backend are not differentiable. `move(by:)`
    /// moves ``lu`` and ``matrix`` only; it does not refactor, so a moved
    /// value no longer describes a factorization (factor the moved matrix
    /// again instead).
    public struct Factors<T: LUScalar>: Differentiable {
        /// The packed factors, shape `[..., m, n]` (as ``LUFactors/lu``).
        public internal(set) var lu: Tensor<T>
        /// The matrix that was factored, shape `[..., m, n]`.
        public internal(set) var matrix: Tensor<T>
        /// The factorization as the throwing API returns it.
        @noDerivative public let factors: LUFactors<T>
        /// The backend instance that ran the factorization (`.custom`); the
        /// solves, determinants and every backward call use it too.
        @noDerivative public let backend: BackendChoice

        /// 1-based pivots, shape `[..., min(m, n)]`.
        public var pivots: Tensor<Int32> { factors.pivots }
        /// Per matrix: 0, or `j > 0` if `U[j-1, j-1]` is exactly zero.
        public var info: Tensor<Int32> { factors.info }
    }

    /// The result of `LUDiff.slogdet`: `sign` (±1, or the phase
    /// `det/|det|` for complex types) and `log|det A|`, both with the batch shape.
    ///
    /// For real types the sign is piecewise constant: a cotangent on it is
    /// ignored (as in PyTorch). For complex types it is differentiable.
    public struct Slogdet<T: LUScalar>: Differentiable {
        public var sign: Tensor<T>
        public var logAbsDet: Tensor<T.RealScalar>
    }
}

/// Runs a throwing call of the checked API; traps with its error otherwise.
@inline(__always)
func ludiffChecked<R>(_ op: String, _ body: () throws -> R) -> R {
    do { return try body() } catch {
        fatalError("LUDiff.\(op): \(error) (use the throwing API to check arguments before differentiating)")
    }
}

extension LUDiff {
    // MARK: Factorization

    /// LU factorization with partial pivoting of every matrix of `a`
    /// (`[..., m, n]`, square or rectangular), as ``luFactorEx(_:pivot:backend:)``:
    /// singular matrices are reported in `info`, not trapped on.
    /// Differentiable with respect to `a`.
    @differentiable(reverse, wrt: a)
    public static func luFactor<T: LUScalar>(_ a: Tensor<T>, pivot: Bool = true,
                                             backend: BackendChoice = .automatic) -> Factors<T> {
        ludiffChecked("luFactor") {
            let be = BackendChoice.custom(try backendFor(backend, T.self))
            let f = try luFactorEx(a, pivot: pivot, backend: be)
            return Factors(lu: f.lu, matrix: a, factors: f, backend: be)
        }
    }

    @derivative(of: luFactor, wrt: a)
    public static func _vjpLUFactor<T: LUScalar>(_ a: Tensor<T>, pivot: Bool, backend: BackendChoice)
        -> (value: Factors<T>, pullback: (Factors<T>.TangentVector) -> Tensor<T>) {
        let value = luFactor(a, pivot: pivot, backend: backend)
        let f = value.factors, be = value.backend
        return (value, { t in
            let viaLU: Tensor<T> = t.lu.isSymbolicZero
                ? .zero
                : ludiffChecked("luFactor (pullback)") { try luFactorBackward(f, t.lu, backend: be) }
            return viaLU + t.matrix
        })
    }

    // MARK: Solve

    /// Solves `A X = B` (or `Aᴴ X = B` with `adjoint`) with the factors of
    /// `A`, as ``luSolve(_:_:adjoint:backend:)``; batch dimensions broadcast.
    /// Differentiable with respect to the factors (that is, `A`) and `b`.
    @differentiable(reverse, wrt: (factors, b))
    public static func luSolve<T: LUScalar>(_ factors: Factors<T>, _ b: Tensor<T>,
                                            adjoint: Bool = false) -> Tensor<T> {
        ludiffChecked("luSolve") {
            try BatchLU.luSolve(factors.factors, b, adjoint: adjoint, backend: factors.backend)
        }
    }

    @derivative(of: luSolve, wrt: (factors, b))
    public static func _vjpLUSolve<T: LUScalar>(_ factors: Factors<T>, _ b: Tensor<T>, adjoint: Bool)
        -> (value: Tensor<T>, pullback: (Tensor<T>) -> (Factors<T>.TangentVector, Tensor<T>)) {
        let x = luSolve(factors, b, adjoint: adjoint)
        let f = factors.factors, be = factors.backend
        return (x, { v in
            if v.isSymbolicZero { return (.zero, .zero) }
            let (gA, gB) = ludiffChecked("luSolve (pullback)") {
                try luSolveBackward(f, b, x: x, gradX: v, adjoint: adjoint, backend: be)
            }
            var t = Factors<T>.TangentVector.zero
            t.matrix = gA
            return (t, gB)
        })
    }

    // MARK: Determinants

    /// `det(A)` per square matrix, from its factors. Differentiable with
    /// respect to the factors (that is, `A`).
    @differentiable(reverse)
    public static func det<T: LUScalar>(_ factors: Factors<T>) -> Tensor<T> {
        ludiffChecked("det") { try BatchLU.det(factors.factors, backend: factors.backend) }
    }

    @derivative(of: det)
    public static func _vjpDet<T: LUScalar>(_ factors: Factors<T>)
        -> (value: Tensor<T>, pullback: (Tensor<T>) -> Factors<T>.TangentVector) {
        let d = det(factors)
        let f = factors.factors, be = factors.backend
        return (d, { v in
            var t = Factors<T>.TangentVector.zero
            if v.isSymbolicZero { return t }
            t.matrix = ludiffChecked("det (pullback)") { try detBackward(f, det: d, gradDet: v, backend: be) }
            return t
        })
    }

    /// `(sign, log|det A|)` per square matrix, from its factors, as
    /// `slogdet(_:backend:)`. Differentiable with respect to the factors
    /// (that is, `A`).
    @differentiable(reverse)
    public static func slogdet<T: LUScalar>(_ factors: Factors<T>) -> Slogdet<T> {
        ludiffChecked("slogdet") {
            let (s, l) = try BatchLU.slogdet(factors.factors, backend: factors.backend)
            return Slogdet(sign: s, logAbsDet: l)
        }
    }

    @derivative(of: slogdet)
    public static func _vjpSlogdet<T: LUScalar>(_ factors: Factors<T>)
        -> (value: Slogdet<T>, pullback: (Slogdet<T>.TangentVector) -> Factors<T>.TangentVector) {
        let value = slogdet(factors)
        let f = factors.factors, be = factors.backend, sign = value.sign
        return (value, { v in
            var t = Factors<T>.TangentVector.zero
            let signUsed = T.isComplex && !v.sign.isSymbolicZero
            if v.logAbsDet.isSymbolicZero && !signUsed { return t }
            t.matrix = ludiffChecked("slogdet (pullback)") {
                try slogdetBackward(f, sign: sign, gradLogAbsDet: v.logAbsDet.materialized(shape: f.batchShape),
                                    gradSign: signUsed ? v.sign : nil, backend: be)
            }
            return t
        })
    }

    /// `det(A)` per square matrix of `a`: `det(luFactor(a))`.
    @differentiable(reverse, wrt: a)
    public static func det<T: LUScalar>(_ a: Tensor<T>, backend: BackendChoice = .automatic) -> Tensor<T> {
        det(luFactor(a, backend: backend))
    }

    /// `(sign, log|det A|)` per square matrix of `a`: `slogdet(luFactor(a))`.
    @differentiable(reverse, wrt: a)
    public static func slogdet<T: LUScalar>(_ a: Tensor<T>, backend: BackendChoice = .automatic) -> Slogdet<T> {
        slogdet(luFactor(a, backend: backend))
    }

    // MARK: Products

    /// `A · B` for every matrix pair (`[..., m, k]` times `[..., k, n]`, equal
    /// batch shapes, no broadcasting), on the CPU. Pullback: `Ā = C̄ Bᴴ`, `B̄ = Aᴴ C̄`.
    /// Traps on mismatched shapes.
    @differentiable(reverse)
    public static func matmul<T: LUScalar>(_ a: Tensor<T>, _ b: Tensor<T>) -> Tensor<T> {
        if a.isSymbolicZero || b.isSymbolicZero { return .zero }
        return batchedProduct(a, .none, b, .none, "LUDiff.matmul")
    }

    @derivative(of: matmul)
    public static func _vjpMatmul<T: LUScalar>(_ a: Tensor<T>, _ b: Tensor<T>)
        -> (value: Tensor<T>, pullback: (Tensor<T>) -> (Tensor<T>, Tensor<T>)) {
        (matmul(a, b), { v in
            if v.isSymbolicZero { return (.zero, .zero) }
            return (b.isSymbolicZero ? .zero : batchedProduct(v, .none, b, .adjoint, "LUDiff.matmul (pullback)"),
                    a.isSymbolicZero ? .zero : batchedProduct(a, .adjoint, v, .none, "LUDiff.matmul (pullback)"))
        })
    }
}
