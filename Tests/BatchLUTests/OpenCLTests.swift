import ComplexModule
import Foundation
import Testing
@testable import BatchLU

// OpenCL-specific behaviour (the generic suites already run on OpenCL via
// TestBackend.allCases when a device exists).

@Test(.enabled(if: TestBackend.openCLAvailable))
func programsCompileOncePerPrecision() throws {
    let be = try OpenCLBackend()
    let a = try Tensor<Float>.random([3, 5, 5], seed: 1)
    _ = try luFactorEx(a, backend: .custom(be))
    for _ in 0..<3 {
        let f = try luFactorEx(a, backend: .custom(be))
        _ = try luFactorBackward(f, a, backend: .custom(be))
        _ = try luSolve(f, a, backend: .custom(be))
        _ = try det(a, backend: .custom(be))
    }
    // A second backend value on the same device shares the compiled programs.
    _ = try luFactorEx(a, backend: .custom(try OpenCLBackend()))
    let stats = be.runtime.programs.stats
    #expect(stats.builds == stats.programs, "a program was compiled twice")
    #expect(stats.programs <= 4, "one program per precision")
}

@Test(.enabled(if: TestBackend.openCLAvailable))
func factorsStayOnTheDevice() throws {
    let be = try OpenCLBackend()
    let a = try Tensor<Double>.random([4, 6, 6], seed: 2)
    let f = try luFactorEx(a, backend: .custom(be))
    #expect(f.device != nil)
    #expect(f.execution?.backend == be.name)
    // Factors rebuilt on the host (no device copy) give the same results.
    let host = try LUFactors(lu: f.lu, pivots: f.pivots, info: f.info)
    #expect(host.device == nil)
    let b = try Tensor<Double>.random([4, 6, 2], seed: 3)
    #expect(try luSolve(f, b, backend: .custom(be)) == luSolve(host, b, backend: .custom(be)))
    // Factors from the CPU backend work on the OpenCL backend and agree.
    let cpuF = try luFactorEx(a, backend: .cpu)
    #expect(cpuF.device == nil)
    #expect(cpuF.pivots == f.pivots)
}

@Test(.enabled(if: TestBackend.openCLAvailable))
func manyTinyMatricesAndChunks() throws {
    // More matrices than work-groups per launch and than one chunk holds.
    var be = try OpenCLBackend(table: OpenCLDispatchTable(tinyMaxN: 32, blockSize: 32, groupSize: 16, maxGroupsPerLaunch: 1000))
    be.chunkBytesLimit = 8 * 1024 * 16
    let a = try Tensor<Float>.random([5000, 4, 4], seed: 4)
    let f = try luFactorEx(a, backend: .custom(be))
    let ref = try luFactorEx(a, backend: .cpu)
    #expect(f.pivots == ref.pivots)
    #expect(f.info == ref.info)
    #expect(f.device == nil, "a chunked factorization is not kept on the device")
    let g = try luFactorBackward(f, a, backend: .custom(be))
    let gRef = try luFactorBackward(ref, a, backend: .cpu)
    #expect(relErr(g.elements, gRef.elements) < 1e-3)
}

/// With no OpenCL platform (the loader present, `OCL_ICD_VENDORS` pointing
/// to an empty folder, as `.ci/run` does for a second pass) the automatic
/// choice is the CPU and a named OpenCL backend throws.
@Test func noICDMeansCPU() throws {
    let env = ProcessInfo.processInfo.environment
    guard let dir = env["OCL_ICD_VENDORS"],
          let files = try? FileManager.default.contentsOfDirectory(atPath: dir), files.isEmpty else { return }
    #expect(!TestBackend.openCLAvailable)
    let a = try Tensor<Double>.random([3, 4, 4], seed: 1)
    #expect(try luFactorEx(a).execution?.backend == "cpu")
    #expect(throws: BatchLUError.self) { try luFactorEx(a, backend: .opencl(device: nil)) }
}

/// 10⁷ tiny matrices launch (in pieces of `maxGroupsPerLaunch` work-groups)
/// and match the CPU. Long on PoCL: runs when BATCHLU_LONG_TESTS=1.
@Test(.enabled(if: TestBackend.openCLAvailable && ProcessInfo.processInfo.environment["BATCHLU_LONG_TESTS"] == "1"))
func tenMillionTinyMatrices() throws {
    let count = 10_000_000
    let a = try Tensor<Float>.random([count, 2, 2], seed: 5)
    let f = try luFactorEx(a, backend: .opencl(device: nil))
    let ref = try luFactorEx(a, backend: .cpu)
    #expect(f.pivots == ref.pivots)
    #expect(f.info == ref.info)
    #expect(relErr(f.lu.elements, ref.lu.elements) < 1e-5)
}

/// Factors larger than one chunk: solve (with a broadcast map), det, slogdet
/// and unpack upload per chunk and agree with the CPU.
@Test(.enabled(if: TestBackend.openCLAvailable))
func chunkedSolveDetUnpack() throws {
    var be = try OpenCLBackend()
    be.chunkBytesLimit = 4 * 1024
    let a: Tensor<Double> = try wellConditioned([6, 12, 12], seed: 8)   // 1152 B per matrix
    let b = try Tensor<Double>.random([2, 6, 12, 3], seed: 9)
    let f = try luFactorEx(a, backend: .custom(be))
    #expect(f.device == nil)
    let cpu = try luFactorEx(a, backend: .cpu)
    let x = try luSolve(f, b, backend: .custom(be))
    #expect(relErr(x.elements, try luSolve(cpu, b, backend: .cpu).elements) < 1e-12)
    let bb = try Tensor<Double>.random([5, 1, 12, 2], seed: 10)   // broadcasts to [5, 6]
    let xa = try luSolve(f, bb, adjoint: true, backend: .custom(be))
    #expect(relErr(xa.elements, try luSolve(cpu, bb, adjoint: true, backend: .cpu).elements) < 1e-12)
    #expect(relErr(try det(f, backend: .custom(be)).elements, try det(cpu, backend: .cpu).elements) < 1e-12)
    let (s, l) = try slogdet(f, backend: .custom(be))
    let (sc, lc) = try slogdet(cpu, backend: .cpu)
    #expect(s == sc)
    #expect(relErr(l.elements, lc.elements) < 1e-12)
    let u = try luUnpack(f, backend: .custom(be)), uc = try luUnpack(cpu, backend: .cpu)
    #expect(u.permutation == uc.permutation && u.P == uc.P)
    #expect(relErr(u.L.elements, uc.L.elements) < 1e-12 && relErr(u.U.elements, uc.U.elements) < 1e-12)
}

/// The tiny path with several matrices per work-group: teams of 1, 2, 4 and
/// 8 work-items, batches that do not fill the last group, singular matrices
/// next to regular ones. Pivots and info equal LAPACK's (via the CPU
/// backend's library path), the factors reconstruct A.
func checkPackedTiny<T: LUScalar>(_: T.Type) throws {
    let table = OpenCLDispatchTable(tinyMaxN: 32, blockSize: 32, groupSize: 8, maxGroupsPerLaunch: 3,
                                    tinyMatricesPerGroup: 8)
    let be = try OpenCLBackend(table: table)
    for (m, n) in [(1, 1), (2, 2), (3, 3), (4, 4), (2, 5), (5, 2), (3, 4), (6, 6), (8, 8), (9, 9), (7, 3)] {
        let batch = 37
        var a = try Tensor<T>.random([batch, m, n], seed: UInt64(m * 31 + n))
        // Matrix 5: all zero; matrix 10: a zero column 0 (info 1 at column 0).
        for i in 0..<(m * n) { a.elements[5 * m * n + i] = .zero }
        for r in 0..<m { a.elements[10 * m * n + r * n] = .zero }
        let f = try luFactorEx(a, backend: .custom(be))
        let ref = try luFactorEx(a, backend: TestBackend.cpuLibrary.choice)
        let team = table.tinyTeamSize(m: m, n: n)
        #expect(f.pivots == ref.pivots, "pivots \(m)x\(n) \(T.typeName), team \(team)")
        #expect(f.info == ref.info, "info \(m)x\(n) \(T.typeName)")
        #expect(relErr(f.lu.elements, ref.lu.elements) < 1e3 * T.eps, "factors \(m)x\(n) \(T.typeName)")
        if table.tinyMatricesPerGroup(m: m, n: n, elementBytes: MemoryLayout<T>.stride, localMemory: 1 << 15) > 1 {
            #expect(f.execution?.path.hasPrefix("tiny-getrf(") == true)
        }
    }
}

@Test(.enabled(if: TestBackend.openCLAvailable))
func packedTinyFactorization() throws {
    try checkPackedTiny(Float.self)
    try checkPackedTiny(Double.self)
    try checkPackedTiny(Complex<Float>.self)
    try checkPackedTiny(Complex<Double>.self)
}
