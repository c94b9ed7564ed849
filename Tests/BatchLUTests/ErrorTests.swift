import ComplexModule
import Foundation
import Testing
@testable import BatchLU

// Every invalid argument gets a typed error before any work starts, and no
// input is modified.

@Test func tensorConstructionErrors() {
    expectError(.elementCountMismatch(shape: [2, 3], expected: 6, got: 5)) {
        try Tensor<Double>(shape: [2, 3], elements: [1, 2, 3, 4, 5])
    }
    expectError(.negativeDimension(shape: [2, -1])) { try Tensor<Float>(zeros: [2, -1]) }
    expectError(.elementCountOverflow(shape: [Int.max, 2])) { try Tensor<Double>(zeros: [Int.max, 2]) }
    // The byte count overflows even though the element count does not.
    expectError(.elementCountOverflow(shape: [Int.max / 4])) { try Tensor<Complex<Double>>(zeros: [Int.max / 4]) }
    expectError(.reshapeMismatch(from: [2, 3], to: [4, 2])) { try Tensor<Double>(zeros: [2, 3]).reshaped([4, 2]) }
    expectError(.indexOutOfRange(index: [2, 0], shape: [2, 3])) { try Tensor<Double>(zeros: [2, 3]).offset([2, 0]) }
    expectError(.indexOutOfRange(index: [0], shape: [2, 3])) { try Tensor<Double>(zeros: [2, 3]).offset([0]) }
}

func checkFactorErrors<T: LUScalar>(_: T.Type, _ backend: TestBackend) throws {
    let be = backend.choice
    expectError(.rankTooLow(operation: "luFactorEx", shape: [4])) { try luFactorEx(Tensor<T>(zeros: [4]), backend: be) }
    expectError(.rankTooLow(operation: "luFactorEx", shape: [])) { try luFactorEx(Tensor<T>(zeros: []), backend: be) }
    expectError(.rankTooLow(operation: "det", shape: [3])) { try det(Tensor<T>(zeros: [3]), backend: be) }
    expectError(.notSquare(operation: "det", rows: 2, cols: 3)) { try det(Tensor<T>(zeros: [2, 3]), backend: be) }
    expectError(.notSquare(operation: "slogdet", rows: 3, cols: 2)) { try slogdet(Tensor<T>(zeros: [4, 3, 2]), backend: be) }

    let a: Tensor<T> = try wellConditioned([2, 4, 4], seed: 1)
    let f = try luFactorEx(a, backend: be)
    let wide = try luFactorEx(Tensor<T>.random([2, 3, 5], seed: 2), backend: be)

    // Solve.
    let b = try Tensor<T>.random([2, 4, 1], seed: 3)
    let bCopy = b
    expectError(.notSquare(operation: "luSolve", rows: 3, cols: 5)) { try luSolve(wide, b, backend: be) }
    expectError(.rightHandSideRows(expected: 4, got: 3)) { try luSolve(f, Tensor<T>(zeros: [2, 3, 1]), backend: be) }
    expectError(.rankTooLow(operation: "luSolve", shape: [4])) { try luSolve(f, Tensor<T>(zeros: [4]), backend: be) }
    expectError(.batchShapesDoNotBroadcast([2], [3])) { try luSolve(f, Tensor<T>(zeros: [3, 4, 1]), backend: be) }
    #expect(b == bCopy)

    // Gradients of the wrong shape.
    expectError(.gradientShapeMismatch(expected: [2, 4, 4], got: [2, 4, 3])) {
        try luFactorBackward(f, Tensor<T>(zeros: [2, 4, 3]), backend: be)
    }
    expectError(.gradientShapeMismatch(expected: [2, 4, 4], got: [4, 4])) {
        try luFactorWithPullback(a, backend: be).pullback(Tensor<T>(zeros: [4, 4]))
    }
    let x = try luSolve(f, b, backend: be)
    expectError(.gradientShapeMismatch(expected: [2, 4, 1], got: [2, 4, 2])) {
        try luSolveBackward(f, b, x: x, gradX: Tensor<T>(zeros: [2, 4, 2]), backend: be)
    }
    let d = try det(a, backend: be)
    expectError(.gradientShapeMismatch(expected: [2], got: [3])) {
        try detBackward(f, det: d, gradDet: Tensor<T>(zeros: [3]), backend: be)
    }
    expectError(.gradientShapeMismatch(expected: [2], got: [2, 1])) {
        try slogdetBackward(f, sign: d, gradLogAbsDet: Tensor<T.RealScalar>(zeros: [2, 1]), backend: be)
    }
    expectError(.notSquare(operation: "detBackward", rows: 3, cols: 5)) {
        try detBackward(wide, det: Tensor<T>(zeros: [2]), gradDet: Tensor<T>(zeros: [2]), backend: be)
    }

    // Factors built by hand are validated once, at construction.
    expectError(.pivotsShapeMismatch(expected: [2, 4], got: [2, 3])) {
        try LUFactors(lu: f.lu, pivots: Tensor(zeros: [2, 3]), info: f.info)
    }
    expectError(.pivotsShapeMismatch(expected: [2, 4], got: [4])) {
        try LUFactors(lu: f.lu, pivots: Tensor(zeros: [4]), info: f.info)
    }
    expectError(.infoShapeMismatch(expected: [2], got: [3])) {
        try LUFactors(lu: f.lu, pivots: f.pivots, info: Tensor(zeros: [3]))
    }
    var bad = f.pivots
    bad[1, 2] = 5
    expectError(.pivotOutOfRange(batchIndex: 1, position: 2, value: 5, rows: 4)) {
        try LUFactors(lu: f.lu, pivots: bad, info: f.info)
    }
    bad[1, 2] = 0
    expectError(.pivotOutOfRange(batchIndex: 1, position: 2, value: 0, rows: 4)) {
        try LUFactors(lu: f.lu, pivots: bad, info: f.info)
    }
    let ident = try Tensor<Int32>(shape: [2, 4], elements: [1, 2, 3, 4, 1, 3, 3, 4])
    expectError(.pivotsNotIdentity(batchIndex: 1, position: 1, value: 3)) {
        try LUFactors(lu: f.lu, pivots: ident, info: f.info, pivoted: false)
    }
    expectError(.rankTooLow(operation: "LUFactors", shape: [4])) {
        try LUFactors(lu: Tensor<T>(zeros: [4]), pivots: Tensor(zeros: [0]), info: Tensor(zeros: []))
    }
    // Valid hand-made factors work like computed ones.
    let rebuilt = try LUFactors(lu: f.lu, pivots: f.pivots, info: f.info)
    #expect(try luSolve(rebuilt, b, backend: be) == luSolve(f, b, backend: be))
}

@Test(arguments: TestBackend.allCases)
func argumentErrors(_ backend: TestBackend) throws {
    try checkFactorErrors(Float.self, backend)
    try checkFactorErrors(Double.self, backend)
    try checkFactorErrors(Complex<Float>.self, backend)
    try checkFactorErrors(Complex<Double>.self, backend)
}

@Test func backendNames() throws {
    #expect(try BackendChoice(parsing: "cpu").isCPU)
    expectError(.invalidBackendName("cuda")) { try BackendChoice(parsing: "cuda") }
    // A named backend that cannot run throws; it never falls back in silence.
    let a = try Tensor<Double>.random([2, 3, 3], seed: 1)
    do {
        _ = try luFactorEx(a, backend: try BackendChoice(parsing: "opencl:no-such-device-xyz"))
        Issue.record("expected backendUnavailable")
    } catch let BatchLUError.backendUnavailable(backend, _) {
        #expect(backend == "opencl:no-such-device-xyz")
    }
}

/// CI installs PoCL, so the OpenCL suites must not be skipped there.
@Test func openCLIsPresentInCI() {
    let env = ProcessInfo.processInfo.environment
    // .ci/run's second pass hides every ICD on purpose (OCL_ICD_VENDORS).
    if env["CI"] != nil && env["OCL_ICD_VENDORS"] == nil {
        #expect(TestBackend.openCLAvailable, "CI must run the suite on PoCL")
    }
}

extension BackendChoice {
    var isCPU: Bool { if case .cpu = self { return true } else { return false } }
}

@Test func errorMessagesNameTheProblem() {
    #expect(BatchLUError.singularMatrix(batchIndex: 3, column: 1).description.contains("matrix 3"))
    #expect(BatchLUError.rightHandSideRows(expected: 4, got: 3).description.contains("4"))
    #expect(BatchLUError.npy(.fortranOrder).description.contains("Fortran"))
}

@Test func hugeShapesFailBeforeAllocating() throws {
    // Broadcast batch [100000, 1] x [1, 100000] would need 10^10 index entries
    // (fine) but the output tensor's element count must be checked first: a
    // shape whose count overflows is rejected without allocating.
    let big = Int.max / 2
    let f = try luFactorEx(Tensor<Double>.random([2, 2, 2], seed: 1))
    let b = try Tensor<Double>(zeros: [1, 2, 1])
    // Factors [2] with B [1]: fine. Shapes that overflow: checked by BatchBroadcast.
    #expect(throws: BatchLUError.self) { try BatchBroadcast([big, 1], [1, big]) }
    _ = try luSolve(f, b)
    // A matrix dimension beyond Int32 is a typed error, not a trap (no data is touched:
    // a zero batch dimension keeps the tensor empty).
    let wide = try Tensor<Float>(zeros: [0, 1, Int(Int32.max) + 1])
    expectError(.matrixTooLarge(rows: 1, cols: Int(Int32.max) + 1)) { try luFactorEx(wide) }
}
