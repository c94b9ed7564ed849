import ComplexModule
import Foundation
import Testing
@testable import BatchLU

// Independent reference helpers: naive products, norms, unpacking by hand,
// direct LAPACK calls. None of them goes through the code under test.

/// The backends (and forced kernel paths) the suite runs on.
enum TestBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    /// Every CPU configuration, plus the OpenCL ones where an OpenCL device
    /// exists (PoCL in CI; see `openCLIsPresentInCI`).
    static var allCases: [TestBackend] {
        openCLAvailable ? [.cpu, .cpuNative, .cpuLibrary, .opencl, .openclBlocked] : [.cpu, .cpuNative, .cpuLibrary]
    }
    static let openCLAvailable: Bool = (try? OpenCLBackend()) != nil

    /// The default CPU backend, default thresholds.
    case cpu
    /// Every size on the native kernels (tiny getf2, native trsm/trmm/gemm).
    case cpuNative
    /// Every size on LAPACK/BLAS (LAPACK getrf, not BatchLU's recursive one),
    /// and the blocked unpivoted path with tiny blocks.
    case cpuLibrary

    /// The OpenCL device with its default dispatch table (PoCL's CPU device here).
    case opencl
    /// OpenCL forced onto the blocked path with 3-column panels, two
    /// work-groups per launch, CLBlast for every product with all dimensions
    /// >= 2, and tiny chunks: every kernel, CLBlast and the chunking run.
    case openclBlocked

    var choice: BackendChoice {
        switch self {
        case .opencl: return .opencl(device: nil)
        case .openclBlocked:
            var b = try! OpenCLBackend(table: OpenCLDispatchTable(tinyMaxN: 0, blockSize: 3, groupSize: 8, maxGroupsPerLaunch: 2,
                                                                clblastMinSize: 2))
            b.chunkBytesLimit = 16 * 1024
            return .custom(b)
        case .cpu: return .cpu
        case .cpuNative: return .custom(CPUBackend(tuning: CPUTuning(nativeFactorMaxN: 1 << 20, nativeBLASMaxN: 1 << 20,
                                                                     interleavedMaxN: 0, blockedGetrfMaxN: 0)))
        case .cpuLibrary:
            return .custom(CPUBackend(tuning: CPUTuning(nativeFactorMaxN: 0, nativeBLASMaxN: 0, blockSize: 3,
                                                        threadedBLASMinN: 1, interleavedMaxN: 0,
                                                        recursiveGetrf: false, blockedGetrfMaxN: 0,
                                                        lookaheadGetrf: false)))
        }
    }
    var testDescription: String { rawValue }
}

extension LUScalar {
    static var eps: Double { Double(RealScalar.ulpOfOne) }
    var absD: Double { Double(modulus) }
}

func fro<T: LUScalar>(_ x: ArraySlice<T>) -> Double {
    x.reduce(0.0) { s, v in s + Double(v.re) * Double(v.re) + Double(v.im) * Double(v.im) }.squareRoot()
}
func fro<T: LUScalar>(_ x: [T]) -> Double { fro(x[...]) }

/// Naive row-major product of an `m × k` and a `k × n` matrix.
func matmul<T: LUScalar>(_ a: [T], _ b: [T], _ m: Int, _ k: Int, _ n: Int) -> [T] {
    var c = [T](repeating: .zero, count: m * n)
    for i in 0..<m { for p in 0..<k { let f = a[i * k + p]; for j in 0..<n { c[i * n + j] = c[i * n + j] + f * b[p * n + j] } } }
    return c
}

func adjointOf<T: LUScalar>(_ a: [T], _ m: Int, _ n: Int) -> [T] {
    var out = [T](repeating: .zero, count: m * n)
    for i in 0..<m { for j in 0..<n { out[j * m + i] = a[i * n + j].conj } }
    return out
}

func slice<T>(_ t: Tensor<T>, _ b: Int) -> [T] {
    let s = t.rows * t.cols
    return Array(t.elements[(b * s)..<((b + 1) * s)])
}

/// Pivots and info from a direct LAPACK call (column-major copy) on one matrix.
func lapackReference<T: LUScalar>(_ a: [T], m: Int, n: Int) -> (lu: [T], piv: [Int32], info: Int32) {
    var col = [T](repeating: .zero, count: m * n)
    for i in 0..<m { for j in 0..<n { col[j * m + i] = a[i * n + j] } }
    var piv = [Int32](repeating: 0, count: min(m, n))
    let info = col.withUnsafeMutableBufferPointer { c in
        piv.withUnsafeMutableBufferPointer { p in
            // Single-threaded LAPACK, whatever other tests run meanwhile.
            BLASThreads.shared {
                T.lapackGetrf(m: Int32(m), n: Int32(n), a: c.baseAddress!, lda: Int32(max(1, m)), ipiv: p.baseAddress!)
            }
        }
    }
    var lu = [T](repeating: .zero, count: m * n)
    for i in 0..<m { for j in 0..<n { lu[i * n + j] = col[j * m + i] } }
    return (lu, piv, info)
}

/// `P L U` rebuilt by hand from packed factors and LAPACK pivots.
func reconstruct<T: LUScalar>(_ lu: [T], _ piv: ArraySlice<Int32>, m: Int, n: Int) -> [T] {
    let k = min(m, n)
    var L = [T](repeating: .zero, count: m * k), U = [T](repeating: .zero, count: k * n)
    for i in 0..<m { for j in 0..<k { L[i * k + j] = i > j ? lu[i * n + j] : (i == j ? 1 : .zero) } }
    for i in 0..<k { for j in i..<n { U[i * n + j] = lu[i * n + j] } }
    var a = matmul(L, U, m, k, n)
    // A = P (L U): undo the interchanges in reverse order.
    let p = Array(piv)
    for i in stride(from: k - 1, through: 0, by: -1) {
        let r = Int(p[i]) - 1
        if r != i { for c in 0..<n { a.swapAt(i * n + c, r * n + c) } }
    }
    return a
}

/// A random tensor whose matrices are comfortably nonsingular (diagonal boost).
func wellConditioned<T: LUScalar>(_ shape: [Int], seed: UInt64) throws -> Tensor<T> {
    var a = try Tensor<T>.random(shape, seed: seed)
    let m = shape[shape.count - 2], n = shape[shape.count - 1]
    let count = a.count / max(m * n, 1)
    a.withUnsafeMutableBufferPointer { p in
        for b in 0..<count { for i in 0..<min(m, n) { p[b * m * n + i * n + i] = p[b * m * n + i * n + i] + T(re: 2, im: 0) } }
    }
    return a
}

func convert<S: LUScalar, T: LUScalar>(_ t: Tensor<S>, to: T.Type) -> Tensor<T> {
    try! Tensor<T>(shape: t.shape, elements: t.elements.map {
        T(re: T.RealScalar(Double($0.re)), im: T.RealScalar(Double($0.im)))
    })
}

/// Asserts that `body` throws exactly `expected`.
func expectError<R>(_ expected: BatchLUError, sourceLocation: SourceLocation = #_sourceLocation,
                    _ body: () throws -> R) {
    do {
        _ = try body()
        Issue.record("expected \(expected), nothing thrown", sourceLocation: sourceLocation)
    } catch let e as BatchLUError {
        #expect(e == expected, sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected \(expected), got \(error)", sourceLocation: sourceLocation)
    }
}
