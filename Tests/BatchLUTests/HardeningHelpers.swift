import ComplexModule
import Foundation
import Synchronization
import Testing
@testable import BatchLU

// Shared by the hardening tests (errors, faults, concurrency, fuzzing):
// every public operation as one value, its results flattened for exact or
// approximate comparison, byte snapshots of inputs, and a spying backend.

/// Every public operation, on fixed inputs.
enum Op: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case factor, solve, backward, unpack, det, slogdet
    var testDescription: String { rawValue }
}

/// The inputs of ``perform(_:_:_:factors:)``: `a` square `[..., n, n]`, `b`
/// `[..., n, nrhs]`, `g` shaped like `a`.
struct OpInputs<T: LUScalar>: Sendable {
    let a: Tensor<T>
    let b: Tensor<T>
    let g: Tensor<T>

    static func make(batch: [Int], n: Int, nrhs: Int = 2, seed: UInt64) throws -> OpInputs<T> {
        OpInputs(a: try wellConditioned(batch + [n, n], seed: seed),
                 b: try Tensor<T>.random(batch + [n, nrhs], seed: seed + 1),
                 g: try Tensor<T>.random(batch + [n, n], seed: seed + 2))
    }
}

/// What an operation returned, flattened: floating-point parts (real and
/// imaginary) in `values`, integers (pivots, info, permutation) in `ints`.
struct Outcome: Sendable, CustomStringConvertible {
    var values: [Double] = []
    var ints: [Int32] = []
    var shapes: [[Int]] = []
    var backend: String?

    mutating func add<T: LUScalar>(_ t: Tensor<T>) {
        shapes.append(t.shape)
        values.reserveCapacity(values.count + 2 * t.count)
        for v in t.elements {
            values.append(Double(v.re))
            if T.isComplex { values.append(Double(v.im)) }
        }
    }
    mutating func add(_ t: Tensor<Int32>) {
        shapes.append(t.shape)
        ints += t.elements
    }

    /// Bit-for-bit equality (NaN payloads and signed zeros included).
    func identical(to o: Outcome) -> Bool {
        shapes == o.shapes && ints == o.ints && values.map(\.bitPattern) == o.values.map(\.bitPattern)
    }

    /// Same shapes and integers; values within `tol` relative to the reference's norm.
    func agrees(with ref: Outcome, tol: Double) -> Bool {
        guard shapes == ref.shapes, ints == ref.ints, values.count == ref.values.count else { return false }
        var diff = 0.0, norm = 0.0
        for (x, y) in zip(values, ref.values) {
            if x.isNaN || y.isNaN || x.isInfinite || y.isInfinite {
                if !(x.isNaN && y.isNaN) && x != y { return false }
                continue
            }
            diff += (x - y) * (x - y)
            norm += y * y
        }
        return diff.squareRoot() <= tol * max(norm.squareRoot(), 1e-300)
    }

    var description: String { "Outcome(shapes: \(shapes), ints: \(ints.prefix(8)), values: \(values.prefix(4)), backend: \(backend ?? "-"))" }
}

/// Runs `op` through the public API. `factors` (for solve, backward, unpack)
/// default to the factorization of `x.a` on the same backend.
func perform<T: LUScalar>(_ op: Op, _ x: OpInputs<T>, _ be: BackendChoice,
                          factors: LUFactors<T>? = nil) throws -> Outcome {
    var out = Outcome()
    func f() throws -> LUFactors<T> { try factors ?? luFactorEx(x.a, backend: be) }
    switch op {
    case .factor:
        let r = try luFactorEx(x.a, backend: be)
        out.add(r.lu); out.add(r.pivots); out.add(r.info)
        out.backend = r.execution?.backend
    case .solve:
        out.add(try luSolve(f(), x.b, backend: be))
        out.add(try luSolve(f(), x.b, adjoint: true, backend: be))
    case .backward:
        out.add(try luFactorBackward(f(), x.g, backend: be))
    case .unpack:
        let u = try luUnpack(f(), backend: be)
        out.add(u.P); out.add(u.L); out.add(u.U); out.add(u.permutation)
    case .det:
        out.add(try det(x.a, backend: be))
        out.add(try det(f(), backend: be))
    case .slogdet:
        let (s, l) = try slogdet(x.a, backend: be)
        out.add(s); out.add(l)
        let (s2, l2) = try slogdet(f(), backend: be)
        out.add(s2); out.add(l2)
    }
    return out
}

/// The bytes of a tensor's elements, in fresh storage (a value copy would
/// share the storage it is meant to check).
func snapshot<E>(_ t: Tensor<E>) -> [UInt8] {
    t.withUnsafeBufferPointer { Array(UnsafeRawBufferPointer($0)) } + t.shape.flatMap { withUnsafeBytes(of: $0, Array.init) }
}

func snapshot<T: LUScalar>(_ f: LUFactors<T>) -> [UInt8] {
    snapshot(f.lu) + snapshot(f.pivots) + snapshot(f.info) + [f.pivoted ? 1 : 0]
}

/// Strings collected from any thread.
final class MessageBox: Sendable {
    private let items = Mutex<[String]>([])
    func append(_ s: String) { items.withLock { $0.append(s) } }
    var all: [String] { items.withLock { $0 } }
}

/// Forwards to `inner` and counts the calls that reach a backend: an
/// argument error must be thrown with the count still zero.
final class SpyBackend: LUBackend {
    let inner: any LUBackend
    private let count = Mutex(0)
    init(_ inner: any LUBackend) { self.inner = inner }
    var calls: Int { count.withLock { $0 } }
    var name: String { inner.name }
    private func hit() { count.withLock { $0 += 1 } }

    func luFactor<T: LUScalar>(_ a: Tensor<T>, pivot: Bool) throws -> LUFactors<T> {
        hit(); return try inner.luFactor(a, pivot: pivot)
    }
    func luSolve<T: LUScalar>(_ factors: LUFactors<T>, _ b: Tensor<T>, factorIndex: [Int],
                              adjoint: Bool) throws -> Tensor<T> {
        hit(); return try inner.luSolve(factors, b, factorIndex: factorIndex, adjoint: adjoint)
    }
    func luFactorBackward<T: LUScalar>(_ factors: LUFactors<T>, _ gradLU: Tensor<T>) throws -> Tensor<T> {
        hit(); return try inner.luFactorBackward(factors, gradLU)
    }
    func luUnpack<T: LUScalar>(_ factors: LUFactors<T>) throws -> LUUnpacked<T> {
        hit(); return try inner.luUnpack(factors)
    }
    func det<T: LUScalar>(_ factors: LUFactors<T>) throws -> Tensor<T> {
        hit(); return try inner.det(factors)
    }
    func slogdet<T: LUScalar>(_ factors: LUFactors<T>) throws -> (sign: Tensor<T>, logAbsDet: Tensor<T.RealScalar>) {
        hit(); return try inner.slogdet(factors)
    }
}

extension TestBackend {
    /// The backend instance behind ``choice``.
    func instance<T: LUScalar>(_: T.Type) throws -> any LUBackend {
        try BackendResolver.resolve(choice, for: T.self)
    }
}

/// Samples at most `limit` points of `0..<count`, always including both ends.
func samplePoints(_ count: Int, limit: Int) -> [Int] {
    guard count > limit else { return Array(0..<count) }
    return (0..<limit).map { $0 * (count - 1) / (limit - 1) }
}
