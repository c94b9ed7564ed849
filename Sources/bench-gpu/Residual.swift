// The correctness check of every row: on a sample of the batch (at most 8
// matrices, spread over it), rebuild P·L·U with luUnpack and compare it
// with A:  ‖P·L·U − A‖_F ≤ 30 · max(m, n) · ε · ‖A‖_F  for each sampled matrix.
import BatchLU
import COpenBLAS
import Foundation

struct ResidualCheck: Sendable {
    /// Every sampled matrix passed (and its factorization reported info == 0).
    var ok: Bool
    /// The largest ‖P·L·U − A‖_F / ‖A‖_F over the sample.
    var maxRelative: Double
    /// The bound on that ratio: 30 · max(m, n) · ε.
    var tolerance: Double
    var sampled: Int
    /// Sampled matrices that failed.
    var failures: Int = 0
    /// Why the check failed, when it did.
    var note: String?
}

enum Residual {
    /// Indices of at most 8 matrices spread over `0..<batch` (first and last included).
    static func sample(batch: Int) -> [Int] {
        if batch <= 8 { return Array(0..<batch) }
        return (0..<8).map { $0 * (batch - 1) / 7 }
    }

    static func check<T: LUScalar>(_ a: Tensor<T>, _ f: LUFactors<T>, factor: Double = 30) throws -> ResidualCheck {
        let m = a.rows, n = a.cols, k = min(m, n), batch = a.batchCount
        let eps = Double(T.RealScalar.ulpOfOne)
        let tol = factor * Double(max(m, n, 1)) * eps
        let idx = sample(batch: batch)
        if idx.isEmpty || m == 0 || n == 0 {
            return ResidualCheck(ok: true, maxRelative: 0, tolerance: tol, sampled: 0, note: nil)
        }
        // The sampled factors as their own (validated) LUFactors.
        var lu = [T](), piv = [Int32](), info = [Int32]()
        lu.reserveCapacity(idx.count * m * n)
        for b in idx {
            lu.append(contentsOf: f.lu.elements[(b * m * n)..<((b + 1) * m * n)])
            piv.append(contentsOf: f.pivots.elements[(b * k)..<((b + 1) * k)])
            info.append(f.info.elements[b])
        }
        let s = idx.count
        let factors = try LUFactors(lu: try Tensor(shape: [s, m, n], elements: lu),
                                    pivots: try Tensor(shape: [s, k], elements: piv),
                                    info: try Tensor(shape: [s], elements: info), pivoted: f.pivoted)
        let un = try luUnpack(factors, backend: .cpu)

        // L·U with BLAS, then compare row i of L·U with row perm[i] of A
        // (P[perm[i], i] = 1). One OpenBLAS thread, as BatchLU keeps it: after
        // a multithreaded call OpenBLAS's idle workers spin for about 0.1 s
        // (measured here), taking a core from the next row's timing.
        var worst = 0.0
        var notes = [String]()
        var failures = 0
        var prod = [T](repeating: .zero, count: m * n)
        openblas_set_num_threads(1)
        for (j, b) in idx.enumerated() {
            var failed = false
            if info[j] != 0 { notes.append("matrix \(b): info = \(info[j]) (exactly singular)"); failed = true }
            un.L.elements.withUnsafeBufferPointer { l in
                un.U.elements.withUnsafeBufferPointer { u in
                    prod.withUnsafeMutableBufferPointer { c in
                        T.blasGemm(transA: .none, transB: .none, m: m, n: n, k: k, alpha: 1,
                                   a: l.baseAddress! + j * m * k, lda: max(k, 1),
                                   b: u.baseAddress! + j * k * n, ldb: max(n, 1),
                                   beta: .zero, c: c.baseAddress!, ldc: max(n, 1))
                    }
                }
            }
            var diff2 = 0.0, norm2 = 0.0
            let base = b * m * n
            for i in 0..<m {
                let src = Int(un.permutation.elements[j * m + i])
                for c in 0..<n {
                    let av = a.elements[base + src * n + c]
                    let d = (prod[i * n + c] - av).modulus
                    let x = av.modulus
                    diff2 += Double(d) * Double(d)
                    norm2 += Double(x) * Double(x)
                }
            }
            let rel = norm2 > 0 ? diff2.squareRoot() / norm2.squareRoot() : diff2.squareRoot()
            if !(rel <= tol) { failed = true; notes.append("matrix \(b): ‖PLU − A‖/‖A‖ = \(String(format: "%.2e", rel)) > \(String(format: "%.2e", tol))") }
            if failed { failures += 1 }
            if rel.isNaN || worst.isNaN { worst = .nan } else { worst = max(worst, rel) }
        }
        return ResidualCheck(ok: notes.isEmpty, maxRelative: worst, tolerance: tol, sampled: s, failures: failures,
                             note: notes.isEmpty ? nil : notes.joined(separator: "; "))
    }
}
