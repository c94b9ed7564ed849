import ComplexModule
import Foundation
import Synchronization
import Testing
@testable import BatchLU

// The rows of docs/errors.md that ErrorTests.swift and NPYTests.swift do not
// already cover, on every backend, and for every invalid call: the exact
// typed error, no backend call (the argument checks come first), and every
// input unchanged byte for byte. Plus: valid calls never modify their inputs.

/// One invalid call: its docs/errors.md row, the error, whether a backend
/// may be reached before the error (only `singularMatrix`, a result check),
/// and the call.
struct BadCall<T: LUScalar> {
    let row: String
    let error: BatchLUError
    var reachesBackend = false
    let call: (BackendChoice) throws -> Void
}

/// Everything the calls below read, snapshotted before and after.
struct BadInputs<T: LUScalar> {
    let a: Tensor<T>           // [2, 4, 4]
    let f: LUFactors<T>        // factors of a
    let b: Tensor<T>           // [2, 4, 1]
    let x: Tensor<T>           // solve of b
    let wide: LUFactors<T>     // [2, 3, 5]
    let tall: LUFactors<T>     // [2, 5, 3]
    let singular: Tensor<T>    // [3, 3, 3], matrix 1 singular at column 2
    let emptyHuge: LUFactors<T>   // [2^32, 1, 0, 2, 2]: no elements, huge batch dimensions

    init(_ be: BackendChoice) throws {
        a = try wellConditioned([2, 4, 4], seed: 11)
        f = try luFactorEx(a, backend: be)
        b = try Tensor<T>.random([2, 4, 1], seed: 12)
        x = try luSolve(f, b, backend: be)
        wide = try luFactorEx(Tensor<T>.random([2, 3, 5], seed: 13), backend: be)
        tall = try luFactorEx(Tensor<T>.random([2, 5, 3], seed: 14), backend: be)
        var s = try Tensor<T>.random([3, 3, 3], seed: 15)
        // Rows [1, i, 1 + i]: column 2 = column 0 + column 1, and U[2, 2] comes out exactly 0.
        for i in 0..<3 { s[1, i, 0] = 1; s[1, i, 1] = T(re: T.RealScalar(i), im: 0); s[1, i, 2] = T(re: T.RealScalar(1 + i), im: 0) }
        singular = s
        emptyHuge = try luFactorEx(Tensor<T>(zeros: [1 << 32, 1, 0, 2, 2]), backend: be)
    }

    var bytes: [UInt8] {
        snapshot(a) + snapshot(f) + snapshot(b) + snapshot(x) + snapshot(wide) + snapshot(tall) + snapshot(singular)
            + snapshot(emptyHuge)
    }
}

func badCalls<T: LUScalar>(_ v: BadInputs<T>) throws -> [BadCall<T>] {
    let big = Int(Int32.max) + 1
    let bs = [2]
    let d = try Tensor<T>(zeros: bs), rl = try Tensor<T.RealScalar>(zeros: bs)
    var calls: [BadCall<T>] = [
        // Rank.
        .init(row: "rank < 2", error: .rankTooLow(operation: "luFactorEx", shape: [4])) { _ = try luFactorEx(Tensor<T>(zeros: [4]), backend: $0) },
        .init(row: "rank < 2", error: .rankTooLow(operation: "slogdet", shape: [])) { _ = try slogdet(Tensor<T>(zeros: []), backend: $0) },
        .init(row: "rank < 2", error: .rankTooLow(operation: "det", shape: [2])) { _ = try detWithPullback(Tensor<T>(zeros: [2]), backend: $0) },
        .init(row: "rank < 2", error: .rankTooLow(operation: "slogdet", shape: [2])) { _ = try slogdetWithPullback(Tensor<T>(zeros: [2]), backend: $0) },
        .init(row: "rank < 2", error: .rankTooLow(operation: "luSolve", shape: [])) { _ = try luSolve(v.f, Tensor<T>(zeros: []), backend: $0) },
        .init(row: "rank < 2", error: .rankTooLow(operation: "luFactorEx", shape: [3])) { _ = try luFactorWithPullback(Tensor<T>(zeros: [3]), backend: $0) },
        // 32-bit matrix dimensions (zero batch: no element exists).
        .init(row: "matrix dimension > Int32.max", error: .matrixTooLarge(rows: big, cols: big)) {
            _ = try det(Tensor<T>(zeros: [0, big, big]), backend: $0)
        },
        .init(row: "matrix dimension > Int32.max", error: .matrixTooLarge(rows: 4, cols: big)) {
            _ = try luSolve(v.f, Tensor<T>(zeros: [0, 4, big]), backend: $0)
        },
        .init(row: "matrix dimension > Int32.max", error: .matrixTooLarge(rows: big, cols: 1)) {
            _ = try luFactor(Tensor<T>(zeros: [0, big, 1]), backend: $0)
        },
        // Square-only operations.
        .init(row: "not square", error: .notSquare(operation: "det", rows: 3, cols: 5)) { _ = try det(v.wide, backend: $0) },
        .init(row: "not square", error: .notSquare(operation: "slogdet", rows: 5, cols: 3)) { _ = try slogdet(v.tall, backend: $0) },
        .init(row: "not square", error: .notSquare(operation: "det", rows: 4, cols: 3)) { _ = try detWithPullback(Tensor<T>(zeros: [4, 3]), backend: $0) },
        .init(row: "not square", error: .notSquare(operation: "luSolve", rows: 5, cols: 3)) { _ = try luSolve(v.tall, v.b, backend: $0) },
        .init(row: "not square", error: .notSquare(operation: "luSolveBackward", rows: 3, cols: 5)) {
            _ = try luSolveBackward(v.wide, v.b, x: v.x, gradX: v.x, backend: $0)
        },
        .init(row: "not square", error: .notSquare(operation: "slogdetBackward", rows: 5, cols: 3)) {
            _ = try slogdetBackward(v.tall, sign: d, gradLogAbsDet: rl, backend: $0)
        },
        // Right-hand sides.
        .init(row: "right-hand side rows != n", error: .rightHandSideRows(expected: 4, got: 5)) {
            _ = try luSolve(v.f, Tensor<T>(zeros: [2, 5, 1]), adjoint: true, backend: $0)
        },
        .init(row: "right-hand side rows != n", error: .rightHandSideRows(expected: 4, got: 3)) {
            _ = try luSolveWithPullback(v.f, Tensor<T>(zeros: [3, 1]), backend: $0)
        },
        // Broadcasting.
        .init(row: "batch shapes do not broadcast", error: .batchShapesDoNotBroadcast([2], [2, 3])) {
            _ = try luSolve(v.f, Tensor<T>(zeros: [2, 3, 4, 1]), backend: $0)
        },
        .init(row: "batch shapes do not broadcast", error: .batchShapesDoNotBroadcast([2], [0])) {
            _ = try luSolve(v.f, Tensor<T>(zeros: [0, 4, 1]), backend: $0)
        },
        .init(row: "batch shapes do not broadcast", error: .batchShapesDoNotBroadcast([2], [3])) {
            _ = try luSolveBackward(v.f, Tensor<T>(zeros: [3, 4, 1]), x: v.x, gradX: v.x, backend: $0)
        },
        // Broadcast batch whose element count overflows (every operand is empty).
        .init(row: "broadcast shape overflows", error: .elementCountOverflow(shape: [1 << 32, 1 << 32, 0])) {
            _ = try luSolve(v.emptyHuge, Tensor<T>(zeros: [1, 1 << 32, 0, 2, 1]), backend: $0)
        },
        // Gradients of the wrong shape.
        .init(row: "gradient of the wrong shape", error: .gradientShapeMismatch(expected: [2, 4, 4], got: [2, 4, 4, 1])) {
            _ = try luFactorBackward(v.f, Tensor<T>(zeros: [2, 4, 4, 1]), backend: $0)
        },
        .init(row: "gradient of the wrong shape", error: .gradientShapeMismatch(expected: [2, 4, 1], got: [2, 4, 1, 1])) {
            _ = try luSolveBackward(v.f, v.b, x: Tensor<T>(zeros: [2, 4, 1, 1]), gradX: v.x, backend: $0)
        },
        .init(row: "gradient of the wrong shape", error: .gradientShapeMismatch(expected: [2], got: [1])) {
            _ = try detBackward(v.f, det: Tensor<T>(zeros: [1]), gradDet: d, backend: $0)
        },
        .init(row: "gradient of the wrong shape", error: .gradientShapeMismatch(expected: [2], got: [2, 2])) {
            _ = try slogdetBackward(v.f, sign: Tensor<T>(zeros: [2, 2]), gradLogAbsDet: rl, backend: $0)
        },
        .init(row: "gradient of the wrong shape", error: .gradientShapeMismatch(expected: [2], got: [])) {
            _ = try slogdetBackward(v.f, sign: d, gradLogAbsDet: rl, gradSign: Tensor<T>(zeros: []), backend: $0)
        },
        // Hand-made factors: validated at construction.
        .init(row: "pivot out of range", error: .pivotOutOfRange(batchIndex: 0, position: 1, value: -1, rows: 4)) { _ in
            var p = v.f.pivots; p[0, 1] = -1
            _ = try LUFactors(lu: v.f.lu, pivots: p, info: v.f.info)
        },
        .init(row: "pivot out of range", error: .pivotOutOfRange(batchIndex: 1, position: 3, value: .min, rows: 4)) { _ in
            var p = v.f.pivots; p[1, 3] = .min
            _ = try LUFactors(lu: v.f.lu, pivots: p, info: v.f.info)
        },
        .init(row: "pivot out of range", error: .pivotOutOfRange(batchIndex: 1, position: 0, value: .max, rows: 4)) { _ in
            var p = v.f.pivots; p[1, 0] = .max
            _ = try LUFactors(lu: v.f.lu, pivots: p, info: v.f.info)
        },
        .init(row: "pivot out of range", error: .pivotOutOfRange(batchIndex: 0, position: 2, value: 6, rows: 5)) { _ in
            var p = v.tall.pivots; p[0, 2] = 6   // tall: pivots may reach m = 5, not 6
            _ = try LUFactors(lu: v.tall.lu, pivots: p, info: v.tall.info)
        },
        .init(row: "pivot out of range", error: .pivotOutOfRange(batchIndex: 1, position: 0, value: 4, rows: 3)) { _ in
            var p = v.wide.pivots; p[1, 0] = 4   // wide: pivots stop at m = 3
            _ = try LUFactors(lu: v.wide.lu, pivots: p, info: v.wide.info)
        },
        .init(row: "pivots not the identity (pivot: false)", error: .pivotsNotIdentity(batchIndex: 0, position: 0, value: 2)) { _ in
            var p = v.f.pivots; p[0, 0] = 2; p[0, 1] = 2; p[0, 2] = 3; p[0, 3] = 4
            _ = try LUFactors(lu: v.f.lu, pivots: p, info: v.f.info, pivoted: false)
        },
        .init(row: "pivots of the wrong shape", error: .pivotsShapeMismatch(expected: [2, 3], got: [2, 5])) { _ in
            _ = try LUFactors(lu: v.tall.lu, pivots: Tensor(zeros: [2, 5]), info: v.tall.info)
        },
        .init(row: "info of the wrong shape", error: .infoShapeMismatch(expected: [2], got: [2, 1])) { _ in
            _ = try LUFactors(lu: v.f.lu, pivots: v.f.pivots, info: Tensor(zeros: [2, 1]))
        },
        // luFactor (not Ex) on a singular matrix: the one error that needs the factorization.
        .init(row: "singular matrix in luFactor", error: .singularMatrix(batchIndex: 1, column: 2), reachesBackend: true) {
            _ = try luFactor(v.singular, backend: $0)
        },
    ]
    // Pullbacks called with the wrong shape (the forward ran; the pullback checks first).
    let pb = try luFactorWithPullback(v.a, backend: .cpu).pullback
    let spb = try luSolveWithPullback(v.f, v.b, backend: .cpu).pullback
    let dpb = try detWithPullback(v.a, backend: .cpu).pullback
    let lpb = try slogdetWithPullback(v.a, backend: .cpu).pullback
    calls += [
        .init(row: "gradient of the wrong shape", error: .gradientShapeMismatch(expected: [2, 4, 4], got: [2, 4, 5])) { _ in
            _ = try pb(Tensor<T>(zeros: [2, 4, 5]))
        },
        .init(row: "gradient of the wrong shape", error: .gradientShapeMismatch(expected: [2, 4, 1], got: [4, 1])) { _ in
            _ = try spb(Tensor<T>(zeros: [4, 1]))
        },
        .init(row: "gradient of the wrong shape", error: .gradientShapeMismatch(expected: [2], got: [3])) { _ in
            _ = try dpb(Tensor<T>(zeros: [3]))
        },
        .init(row: "gradient of the wrong shape", error: .gradientShapeMismatch(expected: [2], got: [1])) { _ in
            _ = try lpb(Tensor<T.RealScalar>(zeros: [1]), nil)
        },
    ]
    return calls
}

/// Calls made by this file's tests, all backends and types together (for the figures).
let badCallsTried = Atomic<Int>(0)

func checkBadCalls<T: LUScalar>(_: T.Type, _ backend: TestBackend) throws {
    let spy = SpyBackend(try backend.instance(T.self))
    let be = BackendChoice.custom(spy)
    let v = try BadInputs<T>(backend.choice)
    let before = v.bytes
    for c in try badCalls(v) {
        let calls = spy.calls
        expectError(c.error) { _ = try c.call(be) }
        if !c.reachesBackend {
            #expect(spy.calls == calls, "\(c.row): \(c.error) reached the backend")
        }
        #expect(v.bytes == before, "\(c.row): \(c.error) modified an input")
        badCallsTried.add(1, ordering: .relaxed)
    }
}

@Test(arguments: TestBackend.allCases)
func invalidCallsThrowBeforeWorkAndLeaveInputsAlone(_ backend: TestBackend) throws {
    _ = try checkBadCalls(Float.self, backend)
    try checkBadCalls(Double.self, backend)
    try checkBadCalls(Complex<Float>.self, backend)
    try checkBadCalls(Complex<Double>.self, backend)
    print("invalidCalls \(backend): \(badCallsTried.load(ordering: .relaxed)) invalid calls so far (all backends)")
}

/// Tensor construction: negative and overflowing dimensions through every constructor.
@Test func tensorShapesAreChecked() {
    expectError(.negativeDimension(shape: [-1, 2])) { _ = try Tensor<Double>.random([-1, 2], seed: 1) }
    expectError(.negativeDimension(shape: [-3, -3])) { _ = try Tensor<Float>.identity(-3) }
    expectError(.negativeDimension(shape: [2, -1, 3, 3])) { _ = try Tensor<Float>.identity(3, batch: [2, -1]) }
    expectError(.negativeDimension(shape: [-2, 3])) { _ = try Tensor<Double>(zeros: [2, 3]).reshaped([-2, 3]) }
    expectError(.negativeDimension(shape: [-1, 2, 3])) { _ = try Tensor<Double>(zeros: [2, 3]).reshapedBatch([-1]) }
    expectError(.negativeDimension(shape: [0, -1])) { _ = try Tensor<Int32>(shape: [0, -1], elements: []) }
    expectError(.elementCountOverflow(shape: [1 << 32, 1 << 32, 0])) { _ = try Tensor<Double>(zeros: [1 << 32, 1 << 32, 0]) }
    expectError(.elementCountOverflow(shape: [1 << 40, 1 << 40])) { _ = try Tensor<Double>.random([1 << 40, 1 << 40], seed: 1) }
    expectError(.elementCountOverflow(shape: [1 << 31, 1 << 31, 1 << 31, 1 << 31]))  {
        try Tensor<Float>.identity(1 << 31, batch: [1 << 31, 1 << 31])
    }
    expectError(.elementCountOverflow(shape: [Int.max / 4])) { _ = try Tensor<Complex<Float>>(zeros: [Int.max / 4]) }
    expectError(.rankTooLow(operation: "reshapedBatch", shape: [3])) { _ = try Tensor<Double>(zeros: [3]).reshapedBatch([1]) }
    expectError(.rankTooLow(operation: "matrix", shape: [3])) { _ = try Tensor<Double>(zeros: [3]).matrix(0) }
    expectError(.indexOutOfRange(index: [2], shape: [2])) { _ = try Tensor<Double>(zeros: [2, 3, 3]).matrix(2) }
    expectError(.indexOutOfRange(index: [-1], shape: [2])) { _ = try Tensor<Double>(zeros: [2, 3, 3]).matrix(-1) }
    expectError(.indexOutOfRange(index: [0, -1], shape: [2, 3])) { _ = try Tensor<Double>(zeros: [2, 3]).offset([0, -1]) }
    expectError(.invalidBackendName("")) { _ = try BackendChoice(parsing: "") }
    expectError(.invalidBackendName("gpu")) { _ = try BackendChoice(parsing: "gpu") }
}

/// Valid calls never modify their inputs either (every op, every backend),
/// and factors with unusual but valid pivots (all `m`: the last row every
/// step) solve and unpack like the CPU.
@Test(arguments: TestBackend.allCases)
func validCallsLeaveInputsAlone(_ backend: TestBackend) throws {
    func check<T: LUScalar>(_: T.Type) throws {
        let x = try OpInputs<T>.make(batch: [2, 1], n: 5, seed: 77)
        let f = try luFactorEx(x.a, backend: backend.choice)
        let before = snapshot(x.a) + snapshot(x.b) + snapshot(x.g) + snapshot(f)
        for op in Op.allCases {
            _ = try perform(op, x, backend.choice, factors: op == .factor ? nil : f)
            #expect(snapshot(x.a) + snapshot(x.b) + snapshot(x.g) + snapshot(f) == before, "\(op) modified an input")
        }
        // Pivots at the edge of their range: every step swaps with the last row.
        let last = try Tensor<Int32>(shape: [2, 1, 5], elements: [Int32](repeating: 5, count: 10))
        let edge = try LUFactors(lu: x.a, pivots: last, info: Tensor(zeros: [2, 1]))
        let tol = T.eps * 1e4
        for op in [Op.solve, .unpack, .backward] {
            let r = try perform(op, x, backend.choice, factors: edge)
            let ref = try perform(op, x, .cpu, factors: edge)
            #expect(r.agrees(with: ref, tol: tol), "\(op) with edge pivots")
        }
    }
    try check(Float.self)
    try check(Complex<Double>.self)
}
