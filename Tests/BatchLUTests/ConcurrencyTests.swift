import ComplexModule
import Foundation
import Synchronization
import Testing
@testable import BatchLU

// 32 tasks call every operation at once on the same backends (the CPU and,
// where present, the shared OpenCL runtime: one context, one queue, one
// program cache), sharing inputs, factors (device-resident ones included)
// and pullback closures, and get bit-for-bit what serial calls get.
// `scripts/sanitize.sh` runs this file under ThreadSanitizer.

/// Calls made by the concurrency test (for the figures).
let concurrentCallsMade = Atomic<Int>(0)

struct ConcurrencyCase<T: LUScalar>: Sendable {
    let backend: TestBackend
    let x: OpInputs<T>
    let factors: LUFactors<T>
    let pullback: @Sendable (Tensor<T>) throws -> Tensor<T>

    init(_ backend: TestBackend, _ x: OpInputs<T>) throws {
        self.backend = backend
        self.x = x
        factors = try luFactorEx(x.a, backend: backend.choice)
        pullback = try luFactorWithPullback(x.a, backend: backend.choice).pullback
    }

    /// Every op (in an order that depends on `task`), with shared and own factors.
    func run(task: Int) throws -> [String: Outcome] {
        var out = [String: Outcome]()
        let ops = Op.allCases
        for i in ops.indices {
            let op = ops[(i + task) % ops.count]
            out["\(op)/shared"] = try perform(op, x, backend.choice, factors: op == .factor ? nil : factors)
            out["\(op)/own"] = try perform(op, x, backend.choice)
        }
        var g = Outcome()
        g.add(try pullback(x.g))
        out["pullback"] = g
        concurrentCallsMade.add(2 * ops.count + 1, ordering: .relaxed)
        return out
    }
}

@Test func concurrentCallsMatchSerialCalls() async throws {
    let backends: [TestBackend] = TestBackend.openCLAvailable ? [.cpu, .opencl] : [.cpu]
    var doubles = [ConcurrencyCase<Double>](), complexes = [ConcurrencyCase<Complex<Float>>]()
    for b in backends {
        doubles.append(try ConcurrencyCase(b, try OpInputs<Double>.make(batch: [4], n: 6, seed: 900)))
        // Also a size on the CPU's LAPACK path (> 32) and OpenCL's blocked path.
        complexes.append(try ConcurrencyCase(b, try OpInputs<Complex<Float>>.make(batch: [2], n: 40, nrhs: 3, seed: 910)))
    }
    let (ds, cs) = (doubles, complexes)
    let serialD = try doubles.map { try $0.run(task: 0) }
    let serialC = try complexes.map { try $0.run(task: 0) }
    let tasks = 32
    let mismatches = try await withThrowingTaskGroup(of: [String].self) { group in
        for t in 0..<tasks {
            group.addTask {
                var bad = [String]()
                for (i, c) in ds.enumerated() {
                    for (k, v) in try c.run(task: t) where !v.identical(to: serialD[i][k]!) {
                        bad.append("task \(t) \(c.backend) Double \(k)")
                    }
                }
                for (i, c) in cs.enumerated() {
                    for (k, v) in try c.run(task: t) where !v.identical(to: serialC[i][k]!) {
                        bad.append("task \(t) \(c.backend) Complex<Float> \(k)")
                    }
                }
                return bad
            }
        }
        var all = [String]()
        for try await bad in group { all += bad }
        return all
    }
    #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
    // The serial results are right, too (the concurrent ones equal them).
    if backends.count == 2 {
        for (k, v) in serialD[1] { #expect(v.agrees(with: serialD[0][k]!, tol: 1e-12), "opencl vs cpu: Double \(k)") }
        for (k, v) in serialC[1] { #expect(v.agrees(with: serialC[0][k]!, tol: 1e-4), "opencl vs cpu: Complex<Float> \(k)") }
    }
    print("concurrentCallsMatchSerialCalls: \(tasks) tasks, \(concurrentCallsMade.load(ordering: .relaxed)) operation calls")
}
