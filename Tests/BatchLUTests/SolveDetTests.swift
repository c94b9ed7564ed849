import ComplexModule
import Testing
@testable import BatchLU

/// Residuals `‖op(A) X − B‖ ≤ c·n·ε·‖A‖·‖X‖`, for both orientations.
func checkSolve<T: LUScalar>(_: T.Type, _ backend: TestBackend) throws {
    for (shape, nrhs) in [([3, 5, 5], 2), ([2, 100, 100], 3), ([4, 1, 1], 1), ([2, 3, 3], 0), ([0, 4, 4], 2), ([6, 6], 4)] {
        let a = try Tensor<T>.random(shape, seed: 31)
        let n = shape[shape.count - 1]
        let batch = Array(shape.dropLast(2))
        let b = try Tensor<T>.random(batch + [n, nrhs], seed: 32)
        let bCopy = b
        let f = try luFactorEx(a, backend: backend.choice)
        for adjoint in [false, true] {
            let x = try luSolve(f, b, adjoint: adjoint, backend: backend.choice)
            #expect(b == bCopy)
            #expect(x.shape == b.shape)
            for i in 0..<a.batchCount {
                var am = slice(a, i)
                if adjoint { am = adjointOf(am, n, n) }
                let xm = slice(x, i), bm = slice(b, i)
                let r = zip(matmul(am, xm, n, n, nrhs), bm).map { $0 - $1 }
                #expect(fro(r) <= 20 * Double(n) * T.eps * fro(am) * fro(xm) + 1e-300,
                        "\(T.typeName) \(shape) adjoint=\(adjoint)")
            }
        }
    }
}

@Test(arguments: TestBackend.allCases)
func solveResiduals(_ backend: TestBackend) throws {
    try checkSolve(Float.self, backend)
    try checkSolve(Double.self, backend)
    try checkSolve(Complex<Float>.self, backend)
    try checkSolve(Complex<Double>.self, backend)
}

/// Batch dimensions broadcast as in torch: factors `[3]` with `B` `[2, 1]` → `[2, 3]`.
func checkBroadcast<T: LUScalar>(_: T.Type, _ backend: TestBackend) throws {
    let a: Tensor<T> = try wellConditioned([3, 4, 4], seed: 41)
    let b = try Tensor<T>.random([2, 1, 4, 2], seed: 42)
    let f = try luFactorEx(a, backend: backend.choice)
    let x = try luSolve(f, b, backend: backend.choice)
    #expect(x.shape == [2, 3, 4, 2])
    for i in 0..<2 {
        for j in 0..<3 {
            let single = try luSolve(luFactorEx(a.matrix(j), backend: backend.choice), b.matrix(i), backend: backend.choice)
            #expect(relErr(slice(x, i * 3 + j), single.elements) < 10 * T.eps)
        }
    }
    // Unbatched factors against a batched B, and the reverse.
    let x2 = try luSolve(luFactorEx(a.matrix(0), backend: backend.choice), b, backend: backend.choice)
    #expect(x2.shape == [2, 1, 4, 2])
    let x3 = try luSolve(f, b.matrix(1), backend: backend.choice)
    #expect(x3.shape == [3, 4, 2])
}

@Test(arguments: TestBackend.allCases)
func solveBroadcasting(_ backend: TestBackend) throws {
    try checkBroadcast(Double.self, backend)
    try checkBroadcast(Complex<Float>.self, backend)
}

/// `det` against the cofactor expansion (independent of LU) for 3 × 3, and
/// against `∏ diag(U)` times the sign of the permutation counted from its cycles.
func checkDet<T: LUScalar>(_: T.Type, _ backend: TestBackend) throws {
    let a = try Tensor<T>.random([7, 3, 3], seed: 51)
    let d = try det(a, backend: backend.choice)
    #expect(d.shape == [7])
    for b in 0..<7 {
        let m = slice(a, b)
        let cof = m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6])
        #expect((d.elements[b] - cof).absD <= 50 * T.eps * max(cof.absD, 1))
    }
    for shape in [[4, 9, 9], [2, 50, 50]] {
        let a = try Tensor<T>.random(shape, seed: 52)
        let n = shape[1]
        let f = try luFactorEx(a, backend: backend.choice)
        let u = try luUnpack(f, backend: backend.choice)
        let d = try det(a, backend: backend.choice)
        for b in 0..<shape[0] {
            // Parity from the cycle decomposition of the permutation.
            let perm = u.permutation.elements[(b * n)..<((b + 1) * n)].map { Int($0) }
            var seen = [Bool](repeating: false, count: n), transpositions = 0
            for s in 0..<n where !seen[s] {
                var len = 0, c = s
                while !seen[c] { seen[c] = true; c = perm[c]; len += 1 }
                transpositions += len - 1
            }
            var prod: T = transpositions % 2 == 0 ? 1 : -1
            for i in 0..<n { prod = prod * f.lu[b, i, i] }
            #expect((d.elements[b] - prod).absD <= 10 * Double(n) * T.eps * prod.absD)
        }
        // slogdet agrees with det where det is representable.
        let (s, l) = try slogdet(a, backend: backend.choice)
        for b in 0..<shape[0] {
            let rebuilt = s.elements[b] * T(re: T.RealScalar.exp(l.elements[b]), im: 0)
            #expect((rebuilt - d.elements[b]).absD <= 10 * Double(n) * T.eps * d.elements[b].absD)
            #expect(abs(s.elements[b].absD - 1) < 10 * T.eps)
        }
    }
    // Empty matrices have determinant 1; singular ones 0 with slogdet (0, -inf).
    #expect(try det(Tensor<T>(zeros: [3, 0, 0]), backend: backend.choice).elements == [1, 1, 1])
    let sing = try Tensor<T>(zeros: [2, 2])
    #expect(try det(sing, backend: backend.choice).elements == [.zero])
    let (ss, ls) = try slogdet(sing, backend: backend.choice)
    #expect(ss.elements == [.zero] && ls.elements == [-.infinity])
    #expect(ss.shape == [] && ls.shape == [])
}

@Test(arguments: TestBackend.allCases)
func determinants(_ backend: TestBackend) throws {
    try checkDet(Float.self, backend)
    try checkDet(Double.self, backend)
    try checkDet(Complex<Float>.self, backend)
    try checkDet(Complex<Double>.self, backend)
}

/// slogdet of a matrix whose det overflows: 10·I plus a random strictly upper
/// part has det = 10ⁿ exactly, so log|det| = n·ln 10.
func checkSlogdetOverflow<T: LUScalar>(_: T.Type, n: Int, _ backend: TestBackend) throws {
    var a = try Tensor<T>.random([n, n], seed: 61)
    for i in 0..<n { for j in 0...i { a[i, j] = i == j ? T(re: 10, im: 0) : .zero } }
    let d = try det(a, backend: backend.choice)
    #expect(!d.elements[0].isFiniteValue, "det should overflow for this size")
    let (s, l) = try slogdet(a, backend: backend.choice)
    let expected = Double(n) * 2.302585092994046
    #expect(abs(Double(l.elements[0]) - expected) <= 10 * Double(n) * T.eps * expected)
    #expect(s.elements[0] == 1)
}

@Test(arguments: TestBackend.allCases)
func slogdetDoesNotOverflow(_ backend: TestBackend) throws {
    try checkSlogdetOverflow(Float.self, n: 50, backend)
    try checkSlogdetOverflow(Double.self, n: 400, backend)
    try checkSlogdetOverflow(Complex<Float>.self, n: 50, backend)
    try checkSlogdetOverflow(Complex<Double>.self, n: 400, backend)
}
