import ComplexModule
import Testing
@testable import BatchLU

let suiteShapes: [[Int]] = [
    [0, 4, 4], [3, 0, 0], [0, 0], [2, 0, 3], [1, 1], [5, 4, 4], [2, 3, 7, 7], [2, 100, 100],
    [3, 10, 6], [3, 6, 10], [40, 33, 33],
]

/// Shapes, reconstruction `‖PLU − A‖ ≤ c·n·ε·‖A‖`, and pivots/info identical
/// to a direct LAPACK call on the same data.
func checkFactor<T: LUScalar>(_: T.Type, _ backend: TestBackend) throws {
    for (s, shape) in suiteShapes.enumerated() {
        let a = try Tensor<T>.random(shape, seed: UInt64(100 + s))
        let copy = a
        let f = try luFactorEx(a, backend: backend.choice)
        #expect(a == copy, "input modified")
        let m = shape[shape.count - 2], n = shape[shape.count - 1], k = min(m, n)
        let batch = Array(shape.dropLast(2))
        #expect(f.lu.shape == shape)
        #expect(f.pivots.shape == batch + [k])
        #expect(f.info.shape == batch)
        for b in 0..<a.batchCount {
            let am = slice(a, b), lu = slice(f.lu, b)
            let piv = f.pivots.elements[(b * k)..<((b + 1) * k)]
            let ref = lapackReference(am, m: m, n: n)
            #expect(Array(piv) == ref.piv, "pivots differ from LAPACK: \(T.typeName) \(shape) #\(b)")
            #expect(f.info.elements[b] == ref.info)
            let r = reconstruct(lu, piv, m: m, n: n)
            let err = fro(zip(r, am).map { $0 - $1 })
            #expect(err <= 8 * Double(max(m, n)) * T.eps * max(fro(am), 1e-300),
                    "‖PLU − A‖ = \(err) for \(T.typeName) \(shape) #\(b)")
        }
    }
}

@Test(arguments: TestBackend.allCases)
func factorShapesReconstructionPivots(_ backend: TestBackend) throws {
    try checkFactor(Float.self, backend)
    try checkFactor(Double.self, backend)
    try checkFactor(Complex<Float>.self, backend)
    try checkFactor(Complex<Double>.self, backend)
}

/// Ties choose the first maximum; complex pivots compare |Re| + |Im|.
func checkTies<T: LUScalar>(_: T.Type, _ backend: TestBackend) throws {
    // Column 0 is [0.5, -2, 2, 1]: |−2| = |2| and the first (row 1) wins.
    let h = T(re: 0.5, im: 0)
    let a = try Tensor<T>(shape: [4, 4], elements: [h, 1, 0, 0,  -2, 0, 1, 0,  2, 0, 0, 1,  1, 1, 1, 1])
    let f = try luFactorEx(a, backend: backend.choice)
    #expect(f.pivots.elements[0] == 2)
    #expect(Array(f.pivots.elements) == lapackReference(a.elements, m: 4, n: 4).piv)
}

@Test(arguments: TestBackend.allCases)
func tiesPickFirstMaximum(_ backend: TestBackend) throws {
    try checkTies(Float.self, backend)
    try checkTies(Double.self, backend)
    try checkTies(Complex<Float>.self, backend)
    try checkTies(Complex<Double>.self, backend)
}

func checkComplexPivotMagnitude<R: ComplexLUComponent>(_: R.Type, _ backend: TestBackend) throws {
    typealias C = Complex<R>
    // |3| = 3 > |2+2i| = 2.83, but |Re|+|Im|: 3 < 4, so row 1 is the pivot (LAPACK's izamax).
    let a = try Tensor<C>(shape: [2, 2], elements: [C(3, 0), C(1, 0), C(2, 2), C(0, 1)])
    let f = try luFactorEx(a, backend: backend.choice)
    #expect(f.pivots.elements == [2, 2])
    #expect(Array(f.pivots.elements) == lapackReference(a.elements, m: 2, n: 2).piv)
    // A larger batch where modulus and |Re|+|Im| often disagree.
    let big = try Tensor<C>.random([20, 9, 9], seed: 77)
    let fb = try luFactorEx(big, backend: backend.choice)
    for b in 0..<20 {
        #expect(Array(fb.pivots.elements[(b * 9)..<(b * 9 + 9)]) == lapackReference(slice(big, b), m: 9, n: 9).piv)
    }
}

@Test(arguments: TestBackend.allCases)
func complexPivotsUseOneNorm(_ backend: TestBackend) throws {
    try checkComplexPivotMagnitude(Float.self, backend)
    try checkComplexPivotMagnitude(Double.self, backend)
}

/// `info` is exact and singular, NaN and Inf members do not affect the others.
func checkSingular<T: LUScalar>(_: T.Type, _ backend: TestBackend, n: Int) throws {
    var a = try wellConditioned([6, n, n], seed: 5) as Tensor<T>
    // #1: column 2 is zero → info = 3.
    for i in 0..<n { a[1, i, 2] = .zero }
    // #2: row 3 is zero; it stays zero and is the last row left → info = n.
    for j in 0..<n { a[2, 3, j] = .zero }
    // #3: a NaN, #4: an infinity, #5: all zeros → info = 1.
    a[3, 1, 1] = T(re: .nan, im: 0)
    a[4, 0, 2] = T(re: .infinity, im: 0)
    for i in 0..<n { for j in 0..<n { a[5, i, j] = .zero } }
    let f = try luFactorEx(a, backend: backend.choice)
    #expect(f.info.elements[0] == 0)
    #expect(f.info.elements[1] == 3)
    #expect(f.info.elements[2] == Int32(n))
    #expect(f.info.elements[5] == 1)
    // The singular members still match LAPACK, info and pivots.
    for b in [1, 2, 5] {
        let ref = lapackReference(slice(a, b), m: n, n: n)
        #expect(f.info.elements[b] == ref.info)
        #expect(Array(f.pivots.elements[(b * n)..<(b * n + n)]) == ref.piv)
    }
    // Member 0 is unaffected by its neighbours: identical to factoring it alone.
    let alone = try luFactorEx(try a.matrix(0), backend: backend.choice)
    #expect(slice(f.lu, 0) == alone.lu.elements)
    #expect(slice(f.lu, 0).allSatisfy { $0.isFiniteValue })
    // NaN / Inf stay in their own matrices.
    for b in [0, 1, 2, 5] { #expect(slice(f.lu, b).allSatisfy { $0.isFiniteValue }, "member \(b) poisoned") }
    #expect(!slice(f.lu, 3).allSatisfy { $0.isFiniteValue })

    // luFactor (not Ex) names the first singular matrix and column.
    expectError(.singularMatrix(batchIndex: 1, column: 2)) { try luFactor(a, backend: backend.choice) }
}

@Test(arguments: TestBackend.allCases)
func singularMembersAreConfined(_ backend: TestBackend) throws {
    for n in [5, 40] {
        try checkSingular(Float.self, backend, n: n)
        try checkSingular(Double.self, backend, n: n)
        try checkSingular(Complex<Float>.self, backend, n: n)
        try checkSingular(Complex<Double>.self, backend, n: n)
    }
}

/// `pivot: false`: `L U = A` with identity pivots; a zero pivot sets `info`.
func checkNoPivot<T: LUScalar>(_: T.Type, _ backend: TestBackend) throws {
    for shape in [[3, 5, 5], [2, 9, 4], [2, 4, 9], [2, 70, 70], [0, 3, 3]] {
        let a: Tensor<T> = try wellConditioned(shape, seed: 9)
        let f = try luFactorEx(a, pivot: false, backend: backend.choice)
        let m = shape[1], n = shape[2], k = min(m, n)
        #expect(!f.pivoted)
        for b in 0..<a.batchCount {
            let piv = f.pivots.elements[(b * k)..<((b + 1) * k)]
            #expect(Array(piv) == (1...max(k, 1)).prefix(k).map { Int32($0) })
            let r = reconstruct(slice(f.lu, b), piv, m: m, n: n)
            let am = slice(a, b)
            #expect(fro(zip(r, am).map { $0 - $1 }) <= 8 * Double(max(m, n)) * T.eps * fro(am))
            #expect(f.info.elements[b] == 0)
        }
    }
    // [[0, 1], [1, 0]] has no LU without pivoting: info reports the zero pivot.
    let swap = try Tensor<T>(shape: [2, 2], elements: [0, 1, 1, 0])
    #expect(try luFactorEx(swap, pivot: false, backend: backend.choice).info.elements == [1])
    #expect(try luFactorEx(swap, pivot: true, backend: backend.choice).info.elements == [0])
    // Zero pivot in the middle of a larger matrix (leading 3x3 minor singular).
    var z: Tensor<T> = try wellConditioned([40, 40], seed: 3)
    for i in 0..<3 { for j in 0..<3 { z[i, j] = T(re: 1, im: 0) } }
    #expect(try luFactorEx(z, pivot: false, backend: backend.choice).info.elements == [2])
}

@Test(arguments: TestBackend.allCases)
func unpivotedFactorization(_ backend: TestBackend) throws {
    try checkNoPivot(Float.self, backend)
    try checkNoPivot(Double.self, backend)
    try checkNoPivot(Complex<Float>.self, backend)
    try checkNoPivot(Complex<Double>.self, backend)
}

/// `luUnpack`: P a permutation consistent with the index form, L unit lower,
/// U upper, and `P L U = A`.
func checkUnpack<T: LUScalar>(_: T.Type, _ backend: TestBackend) throws {
    for shape in [[2, 5, 5], [3, 7, 4], [3, 4, 7], [0, 2, 2], [1, 0, 3]] {
        let a = try Tensor<T>.random(shape, seed: 11)
        let f = try luFactorEx(a, backend: backend.choice)
        let u = try luUnpack(f, backend: backend.choice)
        let m = shape[1], n = shape[2], k = min(m, n)
        #expect(u.P.shape == [shape[0], m, m] && u.L.shape == [shape[0], m, k] && u.U.shape == [shape[0], k, n])
        #expect(u.permutation.shape == [shape[0], m])
        for b in 0..<shape[0] {
            let P = slice(u.P, b), L = slice(u.L, b), U = slice(u.U, b)
            for i in 0..<m { for j in 0..<k { if i < j { #expect(L[i * k + j] == .zero) }; if i == j { #expect(L[i * k + j] == 1) } } }
            for i in 0..<k { for j in 0..<i { #expect(U[i * n + j] == .zero) } }
            let perm = u.permutation.elements[(b * m)..<((b + 1) * m)].map { Int($0) }
            #expect(Set(perm) == Set(0..<m))
            for (i, r) in perm.enumerated() { #expect(P[r * m + i] == 1) }
            #expect(P.filter { $0 != .zero }.count == m)
            let plu = matmul(P, matmul(L, U, m, k, n), m, m, n)
            let am = slice(a, b)
            #expect(fro(zip(plu, am).map { $0 - $1 }) <= 8 * Double(max(m, n)) * T.eps * max(fro(am), 1e-300))
        }
    }
}

@Test(arguments: TestBackend.allCases)
func unpack(_ backend: TestBackend) throws {
    try checkUnpack(Float.self, backend)
    try checkUnpack(Double.self, backend)
    try checkUnpack(Complex<Float>.self, backend)
    try checkUnpack(Complex<Double>.self, backend)
}

/// Every backend and path gives identical pivots and info, values within tolerance.
func checkAgreement<T: LUScalar>(_: T.Type) throws {
    for shape in [[30, 6, 6], [4, 50, 50], [3, 40, 20], [3, 20, 40]] {
        let a = try Tensor<T>.random(shape, seed: 21)
        let results = try TestBackend.allCases.map { try luFactorEx(a, backend: $0.choice) }
        for r in results.dropFirst() {
            #expect(r.pivots == results[0].pivots)
            #expect(r.info == results[0].info)
            let d = fro(zip(r.lu.elements, results[0].lu.elements).map { $0 - $1 })
            #expect(d <= 1e3 * T.eps * fro(results[0].lu.elements))
        }
    }
}

@Test func backendsAndPathsAgree() throws {
    try checkAgreement(Float.self)
    try checkAgreement(Double.self)
    try checkAgreement(Complex<Float>.self)
    try checkAgreement(Complex<Double>.self)
}

/// The CPU path that factors a random tensor of `shape`.
func cpuPath<T: LUScalar>(_: T.Type, _ shape: [Int], pivot: Bool = true, tuning: CPUTuning? = nil) throws -> String? {
    let backend: BackendChoice = tuning.map { .custom(CPUBackend(tuning: $0)) } ?? .cpu
    let f = try luFactorEx(try Tensor<T>.random(shape, seed: 1), pivot: pivot, backend: backend)
    #expect(f.execution?.backend == "cpu")
    return f.execution?.path
}

@Test func executionNamesBackendAndPath() throws {
    let isa = Interleaved.isa
    #expect(["avx512", "avx2", "baseline"].contains(isa))
    let interleaved = "interleaved-getf2(\(isa))", blocked = "blocked-getrf(\(isa))"
    let lookahead = "lookahead-getrf(\(isa))"
    #expect(try cpuPath(Double.self, [4, 8, 8]) == interleaved)
    #expect(try cpuPath(Float.self, [4, 31, 31]) == interleaved)
    #expect(try cpuPath(Float.self, [4, 32, 32]) == blocked)
    #expect(try cpuPath(Float.self, [4, 64, 64]) == blocked)
    #expect(try cpuPath(Double.self, [4, 32, 32]) == blocked)
    #expect(try cpuPath(Complex<Double>.self, [4, 8, 8]) == "native-getf2")
    #expect(try cpuPath(Double.self, [4, 24, 20]) == "native-getf2")
    #expect(try cpuPath(Double.self, [2, 64, 32]) == blocked)
    #expect(try cpuPath(Double.self, [2, 300, 260]) == lookahead)
    // A lone matrix from threadedBLASMinN up goes to the path that threads one matrix.
    #expect(try cpuPath(Double.self, [1, 256, 256]) == (Parallel.cores > 1 ? lookahead : blocked))
    let noLookahead = CPUTuning(blockedGetrfMaxN: 0, lookaheadGetrf: false)
    #expect(try cpuPath(Double.self, [2, 100, 100], tuning: noLookahead) == "recursive-getrf")
    #expect(try cpuPath(Double.self, [2, 64, 32], tuning: noLookahead) == "lapack-getrf")
    #expect(try cpuPath(Complex<Float>.self, [2, 40, 40]) == "lapack-getrf")
    #expect(try cpuPath(Double.self, [2, 64, 80], pivot: false) == blocked)
    #expect(try cpuPath(Double.self, [2, 64, 300], pivot: false) == "native-blocked-nopivot")
}

/// BatchLU's recursive getrf (real matrices above the native sizes) against
/// LAPACK getrf on the same input: identical pivots and info, a residual
/// within the normwise bound, square, tall and wide, across both block sizes
/// of its inverted diagonal blocks (16 below min(m, n) = 512, 32 from there),
/// with a zero column and a rank-deficient matrix in the batch.
func checkRecursive<T: LUScalar & BinaryFloatingPoint>(_: T.Type) throws {
    let lapack = TestBackend.cpuLibrary.choice
    // From min(m, n) = 33 up (the default starts at 96), so that narrow shapes run it too.
    let recursive = BackendChoice.custom(CPUBackend(tuning: CPUTuning(recursiveGetrfMinN: 33, blockedGetrfMaxN: 0, lookaheadGetrf: false)))
    for (batch, m, n) in [(3, 65, 65), (2, 100, 70), (2, 70, 100), (2, 129, 129), (1, 300, 257), (1, 520, 520)] {
        var a = try Tensor<T>.random([batch, m, n], seed: UInt64(m * 7 + n))
        for r in 0..<m { a.elements[r * n + 17] = .zero }                      // matrix 0: zero column 17
        if batch > 1 { for r in 0..<m { for c in 0..<n { a.elements[m * n + r * n + c] = T(r % 3 + c % 5) } } } // rank 2
        let f = try luFactorEx(a, backend: recursive)
        #expect(f.execution?.path == "recursive-getrf")
        let ref = try luFactorEx(a, backend: lapack)
        if batch > 1 {
            // The rank-deficient matrix: exact zeros decide its pivots, rounding
            // may not; compare info only.
            #expect(f.info.elements[1] > 0 && ref.info.elements[1] > 0, "rank 2 \(m)x\(n) \(T.typeName)")
        }
        for b in 0..<batch where b != 1 {
            let k = min(m, n)
            #expect(f.pivots.elements[(b * k)..<((b + 1) * k)] == ref.pivots.elements[(b * k)..<((b + 1) * k)],
                    "pivots \(m)x\(n) \(T.typeName) matrix \(b)")
            #expect(f.info.elements[b] == ref.info.elements[b], "info \(m)x\(n) \(T.typeName)")
        }
        #expect(f.info.elements[0] == 18, "zero column 17 \(m)x\(n) \(T.typeName)")
        for b in 0..<batch {
            let am = Array(a.elements[(b * m * n)..<((b + 1) * m * n)])
            let r = reconstruct(Array(f.lu.elements[(b * m * n)..<((b + 1) * m * n)]),
                                f.pivots.elements[(b * min(m, n))..<((b + 1) * min(m, n))], m: m, n: n)
            #expect(fro(zip(r, am).map { $0 - $1 }) <= 8 * Double(max(m, n)) * T.eps * fro(am),
                    "residual \(m)x\(n) \(T.typeName) matrix \(b)")
        }
    }
}

@Test func recursiveGetrfMatchesLAPACK() throws {
    try checkRecursive(Double.self)
    try checkRecursive(Float.self)
}
