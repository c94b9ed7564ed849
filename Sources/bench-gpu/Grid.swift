// Shapes, element types and the default grids.
import BatchLU
import ComplexModule
import Foundation

/// `batch` matrices of `m × n`.
struct Shape: Sendable, Equatable, CustomStringConvertible {
    var batch: Int
    var m: Int
    var n: Int

    /// `100000x8` (square) or `1000x64x32` (`batch x m x n`); `×` works too.
    /// Every dimension at least 1; an empty part (`10x8x`, `10xx8`) is no shape.
    init?(parsing text: String) {
        let parts = text.lowercased().replacingOccurrences(of: "×", with: "x")
            .split(separator: "x", omittingEmptySubsequences: false)
            .map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.allSatisfy({ $0 != nil && $0! >= 1 }) else { return nil }
        let v = parts.map { $0! }
        switch v.count {
        case 2: (batch, m, n) = (v[0], v[1], v[1])
        case 3: (batch, m, n) = (v[0], v[1], v[2])
        default: return nil
        }
    }
    init(_ batch: Int, _ m: Int, _ n: Int? = nil) { (self.batch, self.m, self.n) = (batch, m, n ?? m) }

    var description: String { m == n ? "\(batch)x\(n)" : "\(batch)x\(m)x\(n)" }
    /// batch · m · n, or nil when it overflows `Int`.
    var elementCount: Int? {
        let (bm, o1) = batch.multipliedReportingOverflow(by: m)
        let (bmn, o2) = bm.multipliedReportingOverflow(by: n)
        return o1 || o2 ? nil : bmn
    }
    /// `100000 × 8` or `1000 × (64×32)` for the table.
    var pretty: String { m == n ? "\(batch) × \(n)" : "\(batch) × (\(m)×\(n))" }
}

enum Grid {
    /// The full grid: square sizes from tiny to large, plus a tall and a wide case.
    static let full: [Shape] = [
        Shape(100_000, 4), Shape(100_000, 8), Shape(20000, 16), Shape(10000, 32), Shape(2000, 64),
        Shape(500, 128), Shape(100, 256), Shape(20, 512), Shape(4, 1024), Shape(1, 2048),
        Shape(1000, 64, 32), Shape(1000, 32, 64),
    ]
    /// `--quick`: every kernel tier once, small batches. With --all-backends on
    /// this 2-core machine: about 20 s with PoCL's kernel cache warm, about
    /// 50 s cold (CLBlast's kernels compile on first use).
    static let quick: [Shape] = [
        Shape(10000, 8), Shape(1000, 32), Shape(200, 64), Shape(2, 256), Shape(100, 64, 32),
    ]
}

/// The element types bench-gpu knows, by their `typeName`.
enum DType: String, CaseIterable, Sendable {
    case f32, f64, c64, c128
    var isDouble: Bool { self == .f64 || self == .c128 }
    /// Bytes per element.
    var size: Int {
        switch self {
        case .f32: 4
        case .f64, .c64: 8
        case .c128: 16
        }
    }
    /// The real precision of its GEMM peak.
    var precision: String { isDouble ? "f64" : "f32" }

    static func parseList(_ text: String) throws -> [DType] {
        var out = [DType]()
        for p in text.split(separator: ",") {
            let s = p.trimmingCharacters(in: .whitespaces).lowercased()
            let alias = ["float": "f32", "double": "f64", "float32": "f32", "float64": "f64",
                         "complex64": "c64", "complex128": "c128"][s] ?? s
            guard let d = DType(rawValue: alias) else {
                throw BenchError("unknown dtype '\(s)' (use f32, f64, c64, c128)")
            }
            if !out.contains(d) { out.append(d) }
        }
        if out.isEmpty { throw BenchError("--dtype names no type") }
        return out
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
