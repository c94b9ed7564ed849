import RealModule
// The public API: the Swift spelling of torch.linalg's LU family. Every
// function checks its arguments (in a fixed order) before any work starts,
// then runs on exactly one backend.

// MARK: Argument checks

@inline(__always)
func requireMatrices<T>(_ a: Tensor<T>, _ op: String) throws {
    guard a.rank >= 2 else { throw BatchLUError.rankTooLow(operation: op, shape: a.shape) }
    // BLAS and LAPACK take 32-bit dimensions and leading dimensions.
    guard a.rows <= Int(Int32.max), a.cols <= Int(Int32.max) else {
        throw BatchLUError.matrixTooLarge(rows: a.rows, cols: a.cols)
    }
}

@inline(__always)
func requireSquare<T: LUScalar>(_ f: LUFactors<T>, _ op: String) throws {
    guard f.rows == f.cols else { throw BatchLUError.notSquare(operation: op, rows: f.rows, cols: f.cols) }
}

func backendFor<T: LUScalar>(_ choice: BackendChoice, _: T.Type) throws -> any LUBackend {
    try BackendResolver.resolve(choice, for: T.self)
}

// MARK: Factorization

/// LU factorization with partial pivoting of every matrix in `a` (shape
/// `[..., m, n]`), as `torch.linalg.lu_factor_ex`. Singular matrices are
/// reported in `info`; they are not errors.
///
/// - Parameters:
///   - pivot: `false` factors without row exchanges (`info` then reports the
///     first exactly zero pivot; the factorization exists only if all leading
///     minors are nonzero).
///   - backend: which backend runs the call.
public func luFactorEx<T: LUScalar>(_ a: Tensor<T>, pivot: Bool = true,
                                    backend: BackendChoice = .automatic) throws -> LUFactors<T> {
    try requireMatrices(a, "luFactorEx")
    let be = try backendFor(backend, T.self)
    let f = try be.luFactor(a, pivot: pivot)
    BatchLULog.logger.debug("luFactor \(T.typeName) \(a.shape) on \(f.execution?.description ?? be.name)")
    return f
}

/// Like ``luFactorEx(_:pivot:backend:)``, but throws
/// ``BatchLUError/singularMatrix(batchIndex:column:)`` for the first matrix
/// (in flat batch order) whose `info` is nonzero, as `torch.linalg.lu_factor`.
public func luFactor<T: LUScalar>(_ a: Tensor<T>, pivot: Bool = true,
                                  backend: BackendChoice = .automatic) throws -> LUFactors<T> {
    let f = try luFactorEx(a, pivot: pivot, backend: backend)
    if let b = f.info.elements.firstIndex(where: { $0 != 0 }) {
        throw BatchLUError.singularMatrix(batchIndex: b, column: Int(f.info.elements[b]) - 1)
    }
    return f
}

/// `P`, `L` and `U` with `A = P L U`, as `torch.lu_unpack`, plus the permutation as indices.
public func luUnpack<T: LUScalar>(_ factors: LUFactors<T>,
                                  backend: BackendChoice = .automatic) throws -> LUUnpacked<T> {
    try backendFor(backend, T.self).luUnpack(factors)
}

// MARK: Solve

/// Solves `A X = B` (or `Aᴴ X = B` with `adjoint`) with the factors of `A`,
/// as `torch.linalg.lu_solve`. `b` has shape `[..., n, nrhs]`; batch
/// dimensions of `factors` and `b` broadcast.
public func luSolve<T: LUScalar>(_ factors: LUFactors<T>, _ b: Tensor<T>, adjoint: Bool = false,
                                 backend: BackendChoice = .automatic) throws -> Tensor<T> {
    let (plan, expanded) = try solvePlan(factors, b, "luSolve")
    return try backendFor(backend, T.self).luSolve(factors, expanded, factorIndex: plan.lhsIndex, adjoint: adjoint)
}

/// Checks and broadcasts a solve; returns the plan and `b` expanded to the
/// broadcast batch shape.
func solvePlan<T: LUScalar>(_ factors: LUFactors<T>, _ b: Tensor<T>, _ op: String, expand: Bool = true) throws
    -> (BatchBroadcast, Tensor<T>) {
    try requireSquare(factors, op)
    try requireMatrices(b, op)
    guard b.rows == factors.rows else { throw BatchLUError.rightHandSideRows(expected: factors.rows, got: b.rows) }
    let plan = try BatchBroadcast(factors.batchShape, b.batchShape)
    let outShape = plan.shape + [b.rows, b.cols]
    if plan.shape == b.batchShape || !expand { return (plan, b) }
    let size = b.rows * b.cols
    _ = try Tensor<T>.checkedCount(outShape)
    var out = [T]()
    out.reserveCapacity(plan.rhsIndex.count * size)
    for src in plan.rhsIndex { out.append(contentsOf: b.elements[(src * size)..<((src + 1) * size)]) }
    return (plan, Tensor(unchecked: outShape, elements: out))
}

// MARK: Determinants

/// `det(A)` per square matrix, through the LU factorization.
public func det<T: LUScalar>(_ a: Tensor<T>, backend: BackendChoice = .automatic) throws -> Tensor<T> {
    try requireMatrices(a, "det")
    guard a.rows == a.cols else { throw BatchLUError.notSquare(operation: "det", rows: a.rows, cols: a.cols) }
    let be = try backendFor(backend, T.self)
    return try be.det(be.luFactor(a, pivot: true))
}

/// `(sign, log|det A|)` per square matrix, as `torch.linalg.slogdet`: `sign`
/// is ±1 (real) or the phase `det/|det|` (complex), 0 with `logAbsDet = -∞`
/// for an exactly singular matrix. Does not overflow where `det` does.
public func slogdet<T: LUScalar>(_ a: Tensor<T>, backend: BackendChoice = .automatic) throws
    -> (sign: Tensor<T>, logAbsDet: Tensor<T.RealScalar>) {
    try requireMatrices(a, "slogdet")
    guard a.rows == a.cols else { throw BatchLUError.notSquare(operation: "slogdet", rows: a.rows, cols: a.cols) }
    let be = try backendFor(backend, T.self)
    return try be.slogdet(be.luFactor(a, pivot: true))
}

/// `det` from existing factors.
public func det<T: LUScalar>(_ factors: LUFactors<T>, backend: BackendChoice = .automatic) throws -> Tensor<T> {
    try requireSquare(factors, "det")
    return try backendFor(backend, T.self).det(factors)
}

/// `slogdet` from existing factors.
public func slogdet<T: LUScalar>(_ factors: LUFactors<T>, backend: BackendChoice = .automatic) throws
    -> (sign: Tensor<T>, logAbsDet: Tensor<T.RealScalar>) {
    try requireSquare(factors, "slogdet")
    return try backendFor(backend, T.self).slogdet(factors)
}
