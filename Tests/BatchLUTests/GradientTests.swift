import ComplexModule
import Testing
@testable import BatchLU

// Gradients against central finite differences in Double / Complex<Double>
// (complex convention: ∂loss/∂Re + i ∂loss/∂Im), and Float against Double.

/// Σ Re(conj(w) · x)
func realInner<T: LUScalar>(_ w: [T], _ x: [T]) -> Double {
    zip(w, x).reduce(0.0) { $0 + Double($1.0.re) * Double($1.1.re) + Double($1.0.im) * Double($1.1.im) }
}

/// Central differences of a real loss with respect to every element of `a`.
func finiteDifference<T: LUScalar>(_ a: Tensor<T>, h: Double = 1e-6,
                                   _ loss: (Tensor<T>) throws -> Double) rethrows -> [T] {
    var g = [T](repeating: .zero, count: a.count)
    for e in 0..<a.count {
        var parts: [T.RealScalar] = [0, 0]
        for (c, dir) in [T(re: T.RealScalar(h), im: 0), T(re: 0, im: T.RealScalar(h))].enumerated() {
            if c == 1 && !T.isComplex { break }
            var p = a, m = a
            p.elements[e] = p.elements[e] + dir
            m.elements[e] = m.elements[e] - dir
            parts[c] = T.RealScalar((try loss(p) - loss(m)) / (2 * h))
        }
        g[e] = T(re: parts[0], im: parts[1])
    }
    return g
}

func relErr<T: LUScalar>(_ x: [T], _ y: [T]) -> Double {
    fro(zip(x, y).map { $0 - $1 }) / max(fro(y), 1e-300)
}

// MARK: LU backward

func checkLUBackwardFD<T: LUScalar>(_: T.Type, _ backend: TestBackend, pivot: Bool) throws {
    for (s, shape) in [[2, 4, 4], [2, 6, 3], [2, 3, 6], [5, 5], [1, 1, 1], [1, 7, 2], [1, 2, 7]].enumerated() {
        let a: Tensor<T> = try wellConditioned(shape, seed: UInt64(40 + s))
        let w = try Tensor<T>.random(shape, seed: UInt64(90 + s))
        let (f, pullback) = try luFactorWithPullback(a, pivot: pivot, backend: backend.choice)
        let g = try pullback(w)
        #expect(g.shape == shape)
        let fd = try finiteDifference(a) { x in
            let fx = try luFactorEx(x, pivot: pivot, backend: backend.choice)
            #expect(fx.pivots == f.pivots, "FD step changed the pivots")
            return realInner(w.elements, fx.lu.elements)
        }
        let err = relErr(g.elements, fd)
        #expect(err < 1e-7, "\(T.typeName) \(shape) pivot=\(pivot) rel err \(err)")
        // luFactorBackward on the same factors is the same computation.
        #expect(try luFactorBackward(f, w, backend: backend.choice) == g)
    }
}

@Test(arguments: TestBackend.allCases)
func luBackwardMatchesFiniteDifferences(_ backend: TestBackend) throws {
    for pivot in [true, false] {
        try checkLUBackwardFD(Double.self, backend, pivot: pivot)
        try checkLUBackwardFD(Complex<Double>.self, backend, pivot: pivot)
    }
}

/// Float gradients agree with Double ones on the same data, within Float's tolerance.
func checkFloatAgainstDouble<F: LUScalar, D: LUScalar>(_: F.Type, _: D.Type, _ backend: TestBackend) throws {
    for shape in [[3, 6, 6], [2, 8, 5], [2, 5, 8], [2, 40, 40]] {
        let ad: Tensor<D> = try wellConditioned(shape, seed: 8)
        let wd = try Tensor<D>.random(shape, seed: 9)
        let gd = try luFactorBackward(luFactorEx(ad, backend: backend.choice), wd, backend: backend.choice)
        let af = convert(ad, to: F.self), wf = convert(wd, to: F.self)
        let gf = try luFactorBackward(luFactorEx(af, backend: backend.choice), wf, backend: backend.choice)
        let err = relErr(convert(gf, to: D.self).elements, gd.elements)
        #expect(err < 2e3 * F.eps, "\(F.typeName) \(shape): rel err \(err)")
    }
}

@Test(arguments: TestBackend.allCases)
func floatBackwardWithinTolerance(_ backend: TestBackend) throws {
    try checkFloatAgainstDouble(Float.self, Double.self, backend)
    try checkFloatAgainstDouble(Complex<Float>.self, Complex<Double>.self, backend)
}

/// A singular member gets non-finite gradients only in its own matrix.
func checkBackwardConfinement<T: LUScalar>(_: T.Type, _ backend: TestBackend) throws {
    for shape in [[3, 5, 5], [3, 6, 4], [3, 4, 6], [3, 40, 40], [3, 40, 36], [3, 36, 40], [3, 64, 64]] {
        var a: Tensor<T> = try wellConditioned(shape, seed: 4)
        for i in 0..<shape[1] { a[1, i, 0] = .zero }   // member 1: zero first column
        let w = try Tensor<T>.random(shape, seed: 5)
        let f = try luFactorEx(a, backend: backend.choice)
        #expect(f.info.elements == [0, 1, 0])
        let g = try luFactorBackward(f, w, backend: backend.choice)
        for b in [0, 2] {
            #expect(slice(g, b).allSatisfy { $0.isFiniteValue })
            let alone = try luFactorBackward(luFactorEx(a.matrix(b), backend: backend.choice),
                                             w.matrix(b), backend: backend.choice)
            // Same values as the member alone (not bitwise: BLAS threading may differ).
            #expect(relErr(slice(g, b), alone.elements) < 100 * T.eps)
        }
    }
}

@Test(arguments: TestBackend.allCases)
func backwardConfinesSingularMembers(_ backend: TestBackend) throws {
    try checkBackwardConfinement(Double.self, backend)
    try checkBackwardConfinement(Complex<Float>.self, backend)
}

// MARK: Solve, det, slogdet backward

func checkSolveBackwardFD<T: LUScalar>(_: T.Type, _ backend: TestBackend, adjoint: Bool) throws {
    // Factors batch [2] and B batch [3, 1] broadcast to [3, 2].
    let a: Tensor<T> = try wellConditioned([2, 4, 4], seed: 61)
    let b = try Tensor<T>.random([3, 1, 4, 2], seed: 62)
    let w = try Tensor<T>.random([3, 2, 4, 2], seed: 63)
    let f = try luFactorEx(a, backend: backend.choice)
    let (x, pullback) = try luSolveWithPullback(f, b, adjoint: adjoint, backend: backend.choice)
    #expect(x.shape == [3, 2, 4, 2])
    let (ga, gb) = try pullback(w)
    #expect(ga.shape == a.shape && gb.shape == b.shape)
    let fdA = try finiteDifference(a) { aa in
        realInner(w.elements, try luSolve(luFactorEx(aa, backend: backend.choice), b, adjoint: adjoint,
                                          backend: backend.choice).elements)
    }
    let fdB = try finiteDifference(b) { bb in
        realInner(w.elements, try luSolve(f, bb, adjoint: adjoint, backend: backend.choice).elements)
    }
    #expect(relErr(ga.elements, fdA) < 1e-7, "\(T.typeName) adjoint=\(adjoint) dA")
    #expect(relErr(gb.elements, fdB) < 1e-7, "\(T.typeName) adjoint=\(adjoint) dB")
}

@Test(arguments: TestBackend.allCases)
func solveBackwardMatchesFiniteDifferences(_ backend: TestBackend) throws {
    for adjoint in [false, true] {
        try checkSolveBackwardFD(Double.self, backend, adjoint: adjoint)
        try checkSolveBackwardFD(Complex<Double>.self, backend, adjoint: adjoint)
    }
}

func checkDetBackwardFD<T: LUScalar>(_: T.Type, _ backend: TestBackend) throws {
    for shape in [[3, 4, 4], [1, 1], [1, 34, 34]] {
        let a: Tensor<T> = try wellConditioned(shape, seed: 71)
        let batch = Array(shape.dropLast(2))
        let w = try Tensor<T>.random(batch, seed: 72)
        let (d, pullback) = try detWithPullback(a, backend: backend.choice)
        let g = try pullback(w)
        let fd = try finiteDifference(a) { x in realInner(w.elements, try det(x, backend: backend.choice).elements) }
        #expect(relErr(g.elements, fd) < 1e-7, "det \(T.typeName) \(shape)")
        #expect(d == (try det(a, backend: backend.choice)))

        // slogdet: a real weight on log|det| and (complex) a weight on the sign.
        let wl = try Tensor<T.RealScalar>.random(batch, seed: 73)
        let ws = try Tensor<T>.random(batch, seed: 74)
        let (sign, _, sp) = try slogdetWithPullback(a, backend: backend.choice)
        #expect(sign.shape == batch)
        let gs = try sp(wl, T.isComplex ? ws : nil)
        let fds = try finiteDifference(a) { x in
            let (s, l) = try slogdet(x, backend: backend.choice)
            return realInner(wl.elements, l.elements) + (T.isComplex ? realInner(ws.elements, s.elements) : 0)
        }
        #expect(relErr(gs.elements, fds) < 1e-7, "slogdet \(T.typeName) \(shape)")
    }
}

@Test(arguments: TestBackend.allCases)
func detBackwardMatchesFiniteDifferences(_ backend: TestBackend) throws {
    try checkDetBackwardFD(Double.self, backend)
    try checkDetBackwardFD(Complex<Double>.self, backend)
}
