import ComplexModule
import Testing
@testable import BatchLU

// OpenBLAS's thread count is process-wide. A lone large matrix runs with it
// raised (BLASThreads.withThreads); calls running at the same time on other
// threads must not see it: they would run their BLAS calls threaded
// (oversubscribing the cores) and, with another split of the work, get other
// bits than the same call made alone.
@Test func loneLargeMatrixLeavesConcurrentCallsAlone() async throws {
    let x = try OpInputs<Complex<Float>>.make(batch: [2], n: 40, seed: 930)
    let big = try Tensor<Complex<Float>>.random([1, 320, 320], seed: 931)
    let f = try luFactorEx(x.a, backend: .cpu)
    let serial = try luFactorBackward(f, x.g, backend: .cpu)
    #expect(CPUBackend().isLoneLarge(count: 1, n: 320), "the large matrix must take the threaded-BLAS path")
    let rounds = 12, workers = 3
    let mismatches = try await withThrowingTaskGroup(of: Int.self) { group in
        group.addTask {
            for _ in 0..<rounds { _ = try luFactorEx(big, backend: .cpu) }
            return 0
        }
        for _ in 0..<workers {
            group.addTask {
                var bad = 0
                for _ in 0..<(rounds * 20) where try luFactorBackward(f, x.g, backend: .cpu) != serial { bad += 1 }
                return bad
            }
        }
        var all = 0
        for try await b in group { all += b }
        return all
    }
    #expect(mismatches == 0, "\(mismatches) of \(workers * rounds * 20) concurrent backward calls differ from the serial one")
}
