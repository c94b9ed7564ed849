import _Differentiation
import ComplexModule
import Foundation
import Testing
@testable import BatchLU

// Swift automatic differentiation through the LUDiff layer: AD gradients
// against the backward functions of the throwing API (same inputs, exact or
// to rounding) and against central finite differences in double precision
// (complex: ∂loss/∂Re + i ∂loss/∂Im).

// MARK: Helpers (private to this suite)

/// Random + 2 on the main diagonal of every matrix: well conditioned, square or not.
private func adInput<T: LUScalar>(_ shape: [Int], seed: UInt64) throws -> Tensor<T> {
    var a = try Tensor<T>.random(shape, seed: seed)
    let m = shape[shape.count - 2], n = shape[shape.count - 1]
    for b in 0..<(a.count / max(m * n, 1)) {
        for i in 0..<min(m, n) { a.elements[b * m * n + i * n + i] = a.elements[b * m * n + i * n + i] + T(re: 2, im: 0) }
    }
    return a
}

/// Central differences, step `h`, of a real function of every element of `x`
/// (both parts for complex types).
private func centralDifferences<T: LUScalar>(_ x: Tensor<T>, h: Double = 1e-6,
                                             _ f: (Tensor<T>) -> Double) -> Tensor<T> {
    var g = x
    for e in 0..<x.count {
        var parts = [Double](repeating: 0, count: 2)
        for c in 0..<(T.isComplex ? 2 : 1) {
            let d = c == 0 ? T(re: T.RealScalar(h), im: 0) : T(re: 0, im: T.RealScalar(h))
            var p = x, m = x
            p.elements[e] = p.elements[e] + d
            m.elements[e] = m.elements[e] - d
            parts[c] = (f(p) - f(m)) / (2 * h)
        }
        g.elements[e] = T(re: T.RealScalar(parts[0]), im: T.RealScalar(parts[1]))
    }
    return g
}

private func norm<T: LUScalar>(_ x: Tensor<T>) -> Double {
    x.elements.reduce(0.0) { $0 + Double($1.re) * Double($1.re) + Double($1.im) * Double($1.im) }.squareRoot()
}

/// ‖x − y‖ / ‖y‖ (shapes must match).
private func relativeError<T: LUScalar>(_ x: Tensor<T>, _ y: Tensor<T>) -> Double {
    #expect(x.shape == y.shape)
    return norm(x - y) / max(norm(y), 1e-300)
}

/// Rounding tolerance for AD vs. backward (a few ulps, scaled).
private func roundingTolerance<T: LUScalar>(_: T.Type) -> Double { 64 * Double(T.RealScalar.ulpOfOne) }

private let factorShapes: [[Int]] = [[3, 4, 4], [2, 5, 3], [2, 3, 5]]

// MARK: Zero and tangent algebra

@Test func symbolicZeroAlgebra() throws {
    let t = try Tensor<Double>.random([2, 3], seed: 1)
    let z = Tensor<Double>.zero
    #expect(z.isSymbolicZero && !t.isSymbolicZero)
    #expect(!(try Tensor<Double>(zeros: [])).isSymbolicZero)          // a real rank-0 tensor
    #expect(z + t == t && t + z == t && t - z == t && z + z == z && z - z == z)
    #expect(z - t == (try Tensor(shape: [2, 3], elements: t.elements.map { -$0 })))
    #expect(t - t == (try Tensor<Double>(zeros: [2, 3])))
    // Equality is structural: the symbolic zero equals only itself.
    #expect(z == Tensor<Double>.zero)
    #expect(z != (try Tensor<Double>(zeros: [2, 2])))
    #expect(z != (try Tensor<Double>(zeros: [])))
    #expect(z.materialized(shape: [2, 2]) == (try Tensor<Double>(zeros: [2, 2])))
    #expect(t.materialized(shape: [2, 3]) == t)
    // Helpers treat it as zeros of any shape.
    #expect((z * t).isSymbolicZero && (2 * z).isSymbolicZero && z.adjoint().isSymbolicZero)
    #expect(LUDiff.matmul(z, t).isSymbolicZero && z.realPart.isSymbolicZero)
    // Complex tensors are their own tangent vectors too.
    let c = try Tensor<Complex<Double>>.random([2, 2], seed: 2)
    #expect(Tensor<Complex<Double>>.zero + c == c)
}

@Test func moveByAddsTheOffset() throws {
    let t = try Tensor<Double>.random([3, 2, 2], seed: 3)
    let d = try Tensor<Double>.random([3, 2, 2], seed: 4)
    var moved = t
    moved.move(by: d)
    #expect(moved == t + d)
    #expect(moved.elements == zip(t.elements, d.elements).map { $0 + $1 })
    moved.move(by: .zero)
    #expect(moved == t + d)
    var z = Tensor<Double>.zero
    z.move(by: d)
    #expect(z == d)
    // Factors move their differentiable parts and keep the rest.
    var f = LUDiff.luFactor(t)
    var step = LUDiff.Factors<Double>.TangentVector.zero
    step.matrix = d
    f.move(by: step)
    #expect(f.matrix == t + d && f.lu == LUDiff.luFactor(t).lu && f.pivots == LUDiff.luFactor(t).pivots)
}

// MARK: luFactor

/// `Re Σ (LU ∘ W)`: its gradient with respect to LU is conj(W).
private func checkLUFactor<T: LUScalar>(_: T.Type, _ shape: [Int], pivot: Bool = true, fd: Bool) throws
    where T.RealScalar: Differentiable, T.RealScalar.TangentVector == T.RealScalar {
    let a: Tensor<T> = try adInput(shape, seed: 11)
    let w = try Tensor<T>.random(shape, seed: 12)
    let g = gradient(at: a) { a in (LUDiff.luFactor(a, pivot: pivot).lu * w).realPart.sum() }
    let f = try luFactorEx(a, pivot: pivot)
    let expected = try luFactorBackward(f, w.conjugated())
    #expect(relativeError(g, expected) <= roundingTolerance(T.self), "\(T.self) \(shape)")
    if fd {
        let numeric = centralDifferences(a) { a in
            Double((LUDiff.luFactor(a, pivot: pivot).lu * w).realPart.sum())
        }
        #expect(relativeError(g, numeric) < 1e-6, "\(T.self) \(shape)")
    }
}

@Test(arguments: factorShapes)
func luFactorGradient(shape: [Int]) throws {
    try checkLUFactor(Double.self, shape, fd: true)
    try checkLUFactor(Complex<Double>.self, shape, fd: true)
    try checkLUFactor(Float.self, shape, fd: false)
    try checkLUFactor(Complex<Float>.self, shape, fd: false)
    try checkLUFactor(Double.self, shape, pivot: false, fd: true)
}

// MARK: luSolve

private func checkLUSolve<T: LUScalar>(_: T.Type, aShape: [Int], bShape: [Int], adjoint: Bool, fd: Bool) throws
    where T.RealScalar: Differentiable, T.RealScalar.TangentVector == T.RealScalar {
    let a: Tensor<T> = try adInput(aShape, seed: 21)
    let b = try Tensor<T>.random(bShape, seed: 22)
    let f = try luFactor(a)
    let x = try luSolve(f, b, adjoint: adjoint)
    let w = try Tensor<T>.random(x.shape, seed: 23)
    @differentiable(reverse)
    func loss(_ a: Tensor<T>, _ b: Tensor<T>) -> T.RealScalar {
        (LUDiff.luSolve(LUDiff.luFactor(a), b, adjoint: adjoint) * w).realPart.sum()
    }
    let (ga, gb) = gradient(at: a, b, of: loss)
    let (ea, eb) = try luSolveBackward(f, b, x: x, gradX: w.conjugated(), adjoint: adjoint)
    #expect(relativeError(ga, ea) <= roundingTolerance(T.self))
    #expect(relativeError(gb, eb) <= roundingTolerance(T.self))
    if fd {
        #expect(relativeError(ga, centralDifferences(a) { Double(loss($0, b)) }) < 1e-6)
        #expect(relativeError(gb, centralDifferences(b) { Double(loss(a, $0)) }) < 1e-6)
    }
}

@Test func luSolveGradient() throws {
    for adjoint in [false, true] {
        try checkLUSolve(Double.self, aShape: [3, 4, 4], bShape: [3, 4, 2], adjoint: adjoint, fd: true)
        try checkLUSolve(Complex<Double>.self, aShape: [3, 4, 4], bShape: [3, 4, 2], adjoint: adjoint, fd: true)
        try checkLUSolve(Float.self, aShape: [3, 4, 4], bShape: [3, 4, 2], adjoint: adjoint, fd: false)
        // Broadcast batch dimensions: B̄ is summed over the broadcast ones.
        try checkLUSolve(Double.self, aShape: [3, 4, 4], bShape: [4, 3], adjoint: adjoint, fd: true)
        try checkLUSolve(Complex<Double>.self, aShape: [1, 4, 4], bShape: [2, 4, 1], adjoint: adjoint, fd: true)
    }
}

/// The spelling, with the plain sum of X.
@Test func luSolveSumGradient() throws {
    let a: Tensor<Double> = try adInput([3, 4, 4], seed: 31)
    let b = try Tensor<Double>.random([3, 4, 2], seed: 32)
    let g2 = gradient(at: a, b) { a, b in LUDiff.luSolve(LUDiff.luFactor(a), b).sum() }
    let f = try luFactor(a)
    let x = try luSolve(f, b)
    let ones = try Tensor<Double>(shape: x.shape, elements: Array(repeating: 1, count: x.count))
    let (ea, eb) = try luSolveBackward(f, b, x: x, gradX: ones)
    #expect(g2.0 == ea && g2.1 == eb)
}

// MARK: det and slogdet

private func checkDeterminants<T: LUScalar>(_: T.Type, fd: Bool) throws
    where T.RealScalar: Differentiable, T.RealScalar.TangentVector == T.RealScalar {
    let a: Tensor<T> = try adInput([3, 4, 4], seed: 41)
    let w = try Tensor<T>.random([3], seed: 42)
    let f = try luFactor(a)
    let tol = roundingTolerance(T.self)

    // det: Re Σ w ∘ det(A)
    let gDet = gradient(at: a) { a in (LUDiff.det(a) * w).realPart.sum() }
    let d = try det(f)
    #expect(relativeError(gDet, try detBackward(f, det: d, gradDet: w.conjugated())) <= tol)

    // slogdet's log|det|, the spelling.
    let gLog = gradient(at: a) { a in LUDiff.slogdet(a).logAbsDet.sum() }
    let (s, _) = try slogdet(f)
    let ones = try Tensor<T.RealScalar>(shape: [3], elements: [1, 1, 1])
    #expect(relativeError(gLog, try slogdetBackward(f, sign: s, gradLogAbsDet: ones)) <= tol)

    // Both outputs: the sign (phase) carries a gradient for complex types only.
    let wl = try Tensor<T.RealScalar>.random([3], seed: 43)
    @differentiable(reverse)
    func both(_ a: Tensor<T>) -> T.RealScalar {
        let r = LUDiff.slogdet(a)
        // One tensor sum: generic `T.RealScalar + T.RealScalar` has no derivative.
        return ((r.sign * w).realPart + r.logAbsDet * wl).sum()
    }
    let gBoth = gradient(at: a, of: both)
    let eBoth = try slogdetBackward(f, sign: s, gradLogAbsDet: wl, gradSign: w.conjugated())
    #expect(relativeError(gBoth, eBoth) <= tol)

    if fd {
        #expect(relativeError(gDet, centralDifferences(a) { Double((LUDiff.det($0) * w).realPart.sum()) }) < 1e-6)
        #expect(relativeError(gLog, centralDifferences(a) { Double(LUDiff.slogdet($0).logAbsDet.sum()) }) < 1e-6)
        #expect(relativeError(gBoth, centralDifferences(a) { Double(both($0)) }) < 1e-6)
    }
}

@Test func determinantGradients() throws {
    try checkDeterminants(Double.self, fd: true)
    try checkDeterminants(Complex<Double>.self, fd: true)
    try checkDeterminants(Float.self, fd: false)
    try checkDeterminants(Complex<Float>.self, fd: false)
}

/// A loss that uses only the sign of a real determinant does not depend on
/// `A` (almost everywhere): the gradient is the symbolic zero.
@Test func unusedOutputsGiveZeroGradient() throws {
    let a: Tensor<Double> = try adInput([2, 3, 3], seed: 51)
    let g = gradient(at: a) { a in LUDiff.slogdet(a).sign.sum() }
    #expect(g.materialized(shape: a.shape) == (try Tensor<Double>(zeros: a.shape)))
}

// MARK: Compositions

/// One factorization feeding a solve, a log-determinant and the packed
/// factors: the cotangents of all three reach `A`.
@Test func sharedFactorization() throws {
    let a: Tensor<Double> = try adInput([3, 4, 4], seed: 61)
    let b = try Tensor<Double>.random([3, 4, 2], seed: 62)
    let w = try Tensor<Double>.random([3, 4, 4], seed: 63)
    @differentiable(reverse)
    func loss(_ a: Tensor<Double>, _ b: Tensor<Double>) -> Double {
        let f = LUDiff.luFactor(a)
        let x = LUDiff.luSolve(f, b)
        return (x * x).sum() + 0.5 * LUDiff.slogdet(f).logAbsDet.sum() + (f.lu * w).sum() - LUDiff.det(f).sum()
    }
    let (ga, gb) = gradient(at: a, b, of: loss)
    // The same from the backward functions, summed by hand.
    let f = try luFactor(a)
    let x = try luSolve(f, b)
    let (sa, sb) = try luSolveBackward(f, b, x: x, gradX: 2 * x)
    let (sign, _) = try slogdet(f)
    let half = try Tensor<Double>(shape: [3], elements: [0.5, 0.5, 0.5])
    let d = try det(f)
    let minusOne = try Tensor<Double>(shape: [3], elements: [-1, -1, -1])
    let expected = try sa + slogdetBackward(f, sign: sign, gradLogAbsDet: half) + luFactorBackward(f, w)
        + detBackward(f, det: d, gradDet: minusOne)
    #expect(relativeError(ga, expected) < 1e-13)
    #expect(relativeError(gb, sb) < 1e-13)
    #expect(relativeError(ga, centralDifferences(a) { loss($0, b) }) < 1e-6)
    #expect(relativeError(gb, centralDifferences(b) { loss(a, $0) }) < 1e-6)
}

/// The loss helpers on complex tensors: matmul, adjoint, products, scalar
/// multiples, sums, differences and both real projections.
@Test func lossHelpersComplex() throws {
    typealias C = Complex<Double>
    let a = try Tensor<C>.random([2, 3, 4], seed: 71)
    let b = try Tensor<C>.random([2, 3, 4], seed: 72)
    let w = try Tensor<C>.random([2, 3, 3], seed: 73)
    let s = C(0.5, -1.25)
    @differentiable(reverse)
    func loss(_ a: Tensor<C>, _ b: Tensor<C>) -> Double {
        let p = LUDiff.matmul(a, b.adjoint()) * w       // [2, 3, 3]
        let q = s * p - p * C(2, 1) + LUDiff.matmul(a.adjoint().adjoint() * b, a.adjoint())
        return p.imaginaryPart.sum() + q.realPart.sum() + (q.imaginaryPart * p.realPart).sum()
    }
    let (ga, gb) = gradient(at: a, b, of: loss)
    #expect(relativeError(ga, centralDifferences(a) { loss($0, b) }) < 1e-6)
    #expect(relativeError(gb, centralDifferences(b) { loss(a, $0) }) < 1e-6)
}

/// Complex end to end: a Gaussian-style loss with a complex matrix.
@Test func complexSolveAndLogDet() throws {
    typealias C = Complex<Double>
    let a: Tensor<C> = try adInput([2, 3, 3], seed: 81)
    let b = try Tensor<C>.random([2, 3, 2], seed: 82)
    @differentiable(reverse)
    func loss(_ a: Tensor<C>) -> Double {
        let f = LUDiff.luFactor(a)
        let x = LUDiff.luSolve(f, b)
        return (x.adjoint().realPart * x.adjoint().imaginaryPart).sum() + LUDiff.slogdet(f).logAbsDet.sum()
    }
    let g = gradient(at: a, of: loss)
    #expect(relativeError(g, centralDifferences(a, loss)) < 1e-6)
}

// MARK: Backends

/// A CPU backend that counts the calls it serves.
private final class CountingBackend: LUBackend, @unchecked Sendable {
    let inner = CPUBackend()
    private let lock = NSLock()
    private var counts: [String: Int] = [:]
    var name: String { "counting" }
    func count(_ op: String) -> Int { lock.lock(); defer { lock.unlock() }; return counts[op, default: 0] }
    private func bump(_ op: String) { lock.lock(); counts[op, default: 0] += 1; lock.unlock() }

    func luFactor<T: LUScalar>(_ a: Tensor<T>, pivot: Bool) throws -> LUFactors<T> {
        bump("luFactor"); return try inner.luFactor(a, pivot: pivot)
    }
    func luSolve<T: LUScalar>(_ factors: LUFactors<T>, _ b: Tensor<T>, factorIndex: [Int],
                              adjoint: Bool) throws -> Tensor<T> {
        bump("luSolve"); return try inner.luSolve(factors, b, factorIndex: factorIndex, adjoint: adjoint)
    }
    func luFactorBackward<T: LUScalar>(_ factors: LUFactors<T>, _ gradLU: Tensor<T>) throws -> Tensor<T> {
        bump("luFactorBackward"); return try inner.luFactorBackward(factors, gradLU)
    }
    func luUnpack<T: LUScalar>(_ factors: LUFactors<T>) throws -> LUUnpacked<T> {
        bump("luUnpack"); return try inner.luUnpack(factors)
    }
    func det<T: LUScalar>(_ factors: LUFactors<T>) throws -> Tensor<T> {
        bump("det"); return try inner.det(factors)
    }
    func slogdet<T: LUScalar>(_ factors: LUFactors<T>) throws -> (sign: Tensor<T>, logAbsDet: Tensor<T.RealScalar>) {
        bump("slogdet"); return try inner.slogdet(factors)
    }
}

/// Forward and backward of every LUDiff function run on the backend that
/// was named for the factorization.
@Test func pullbacksRunOnTheForwardBackend() throws {
    let be = CountingBackend()
    let a: Tensor<Double> = try adInput([2, 3, 3], seed: 91)
    let b = try Tensor<Double>.random([2, 3, 1], seed: 92)
    let g = gradient(at: a) { a in
        let f = LUDiff.luFactor(a, backend: .custom(be))
        return LUDiff.luSolve(f, b).sum() + f.lu.sum() + LUDiff.slogdet(f).logAbsDet.sum() + LUDiff.det(f).sum()
    }
    #expect(g.shape == a.shape)
    #expect(be.count("luFactor") == 1)
    #expect(be.count("luFactorBackward") == 1)
    #expect(be.count("slogdet") == 1 && be.count("det") == 1)
    // Forward solve, backward adjoint solve, one adjoint solve each for slogdet and det.
    #expect(be.count("luSolve") == 4)
}

// MARK: Invalid input

@Test func invalidInputTraps() async {
    await #expect(processExitsWith: .failure) {
        _ = LUDiff.det(try! Tensor<Double>.random([2, 3], seed: 1))     // not square
    }
    await #expect(processExitsWith: .failure) {
        let f = LUDiff.luFactor(try! Tensor<Double>.identity(3))
        _ = LUDiff.luSolve(f, try! Tensor<Double>.random([4, 1], seed: 1))   // wrong number of rows
    }
}

// MARK: README

/// The README's "Differentiable programming" example, verbatim, plus checks.
@Test func readmeDifferentiableExample() throws {
    let a = try Tensor<Double>.random([3, 4, 4], seed: 1) + 2 * Tensor<Double>.identity(4, batch: [3])
    let b = try Tensor<Double>.random([3, 4, 2], seed: 2)
    let w = try Tensor<Double>.random([3, 4, 4], seed: 3)

    let g  = gradient(at: a)    { a in (LUDiff.luFactor(a).lu * w).sum() }
    let g2 = gradient(at: a, b) { a, b in LUDiff.luSolve(LUDiff.luFactor(a), b).sum() }
    let g3 = gradient(at: a)    { a in LUDiff.slogdet(a).logAbsDet.sum() }
    print(g.shape, g2.0.shape, g2.1.shape, g3.shape)   // [3, 4, 4] [3, 4, 4] [3, 4, 2] [3, 4, 4]

    #expect(g == (try luFactorBackward(luFactor(a), w)))
    #expect(g2.0.shape == [3, 4, 4] && g2.1.shape == [3, 4, 2])
    // ∂ log|det A| / ∂A = A⁻ᵀ: g3ᵀ A = I.
    let check = LUDiff.matmul(g3.adjoint(), a)
    #expect(relativeError(check, try Tensor<Double>.identity(4, batch: [3])) < 1e-13)
}

/// The README's differentiable snippet (imports aside) appears, line for
/// line and in order, in `readmeDifferentiableExample` above.
@Test func readmeDifferentiableSnippetIsVerbatim() throws {
    let here = URL(fileURLWithPath: #filePath)
    let root = here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
    let source = try String(contentsOf: here, encoding: .utf8)
    let section = try #require(readme.components(separatedBy: "## Differentiable programming").dropFirst().first)
    let block = try #require(section.components(separatedBy: "```swift\n").dropFirst().first?
        .components(separatedBy: "```").first)
    let snippet = block.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("import ") && !$0.isEmpty }
    let body = try #require(source.components(separatedBy: "func readmeDifferentiableExample() throws {").dropFirst().first)
    let testLines = body.split(separator: "\n", omittingEmptySubsequences: false).map { String($0.dropFirst(4)) }
    var position = 0
    for line in snippet {
        let found = testLines[position...].firstIndex(of: line)
        #expect(found != nil, "README line not in the test: \(line)")
        position = (found ?? position) + 1
    }
    #expect(snippet.count == 7)
}
