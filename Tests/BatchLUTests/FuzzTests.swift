import ComplexModule
import Foundation
import Testing
@testable import BatchLU

// Long fuzzing runs, gated by BATCHLU_FUZZ_ITERATIONS (the normal suite runs
// a short API fuzz and NPYTests' 20 000 seeded mutations):
//
//     BATCHLU_FUZZ_ITERATIONS=100000 swift test --filter FuzzTests
//
// 1. `.npy` buffers: structure-aware and byte-level mutations of valid files;
//    every buffer decodes (and re-encodes to itself) or throws BatchLUError,
//    through every entry point; none takes long (no hang).
// 2. API calls: random shapes (zero, huge-but-empty, > Int32, negative),
//    random pivots and gradients, random ops and backends; every call returns
//    or throws BatchLUError.

enum FuzzConfig {
    static var iterations: Int? {
        ProcessInfo.processInfo.environment["BATCHLU_FUZZ_ITERATIONS"].flatMap { Int($0) }
    }
    /// Seed override for reproducing a run: BATCHLU_FUZZ_SEED.
    static var seed: UInt64 {
        ProcessInfo.processInfo.environment["BATCHLU_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0xF022_2026
    }
}

/// A mutator for `.npy` buffers.
struct NPYMutator {
    var rng: SplitMix64
    let bases: [[UInt8]]

    init(seed: UInt64) throws {
        rng = SplitMix64(seed: seed)
        bases = try NPYTests.validSamples() + [
            try Tensor<Float>(shape: Array(repeating: 1, count: 22_000), elements: [42]).npyData(),   // version 2.0
            NPYTests.buffer(NPYTests.dict("<c8", shape: "(3L,)"), version: (3, 0), dataBytes: 24),
            NPYTests.buffer(NPYTests.dict("<f8", shape: "(2, 3)"), version: (2, 0), dataBytes: 48),
        ]
    }

    mutating func below(_ n: Int) -> Int { Int(rng.next() % UInt64(max(n, 1))) }

    static let descrs = ["<f4", "<f8", "<c8", "<c16", "<i4", ">f8", "|O", "<i8", "<U3", "", "<f8\u{E9}", "[('a', '<f8')]"]
    static let dims = ["0", "1", "2", "-1", "-0", "3L", "2_0", "1e3", "2.5", "True", "None", "'2'", "(2,)",
                       "4294967296", "9223372036854775807", "9223372036854775808", "99999999999999999999999",
                       "3037000500", "1152921504606846976", "0x10"]
    static let tokens = Array("(){}[],:'\"-+._0123456789LeTrueFalseNone<>|fci \n\u{7F}".utf8) + [0x80, 0xC3, 0xFF, 0x00]

    /// A random header dictionary (valid or not), as text, and the data size
    /// a valid one needs (nil when the header is not valid anyway).
    mutating func header() -> (String, Int?) {
        let rank = below(5)
        let valid = below(2) == 0
        let small = [0, 1, 2, 3, 5]
        let dimValues = (0..<rank).map { _ in small[below(small.count)] }
        let shape = valid ? dimValues.map(String.init) : (0..<rank).map { _ in Self.dims[below(Self.dims.count)] }
        let shapeText = rank == 1 && below(2) == 0 ? "(\(shape[0]),)" : "(" + shape.joined(separator: ", ") + ")"
        let descr = valid ? NPYDType.allCases[below(5)].rawValue : Self.descrs[below(Self.descrs.count)]
        var entries = ["'descr': '\(descr)'",
                       "'fortran_order': \(valid ? "False" : ["False", "True", "0", "None"][below(4)])",
                       "'shape': \(!valid && below(8) == 0 ? "[2, 3]" : shapeText)"]
        let bytes = valid ? dimValues.reduce(1, *) * NPYDType(rawValue: descr)!.itemSize : nil
        if below(10) == 0 { entries.remove(at: below(entries.count)) }
        if below(10) == 0 { entries.append(entries[below(entries.count)]) }
        if below(10) == 0 { entries.append("'extra': 1") }
        for i in entries.indices.reversed() where i > 0 && below(3) == 0 { entries.swapAt(i, below(i + 1)) }
        return ("{" + entries.joined(separator: ", ") + (below(2) == 0 ? ", }" : "}"), bytes)
    }

    /// One mutated buffer.
    mutating func next() -> [UInt8] {
        if below(3) == 0 {
            // A fresh header over random data of a random size.
            let v: (UInt8, UInt8) = [(1, 0), (2, 0), (3, 0)][below(3)]
            let (text, bytes) = header()
            let size = bytes.map { below(4) == 0 ? $0 + [-1, 1, 8][below(3)] : $0 } ?? [0, 1, 8, 24, 48, 100][below(6)]
            var b = NPYTests.buffer(text, version: v, dataBytes: max(0, size))
            if below(4) == 0 { b = mutateBytes(b) }
            return b
        }
        // The 66 kB header of the 22 000-dimensional base is slow to parse: pick it rarely.
        let i = below(50) == 0 ? 6 : [0, 1, 2, 3, 4, 5, 7, 8][below(8)]
        return mutateBytes(bases[i])
    }

    mutating func mutateBytes(_ input: [UInt8]) -> [UInt8] {
        var b = input
        // Mostly one mutation (so that a good share still decodes), sometimes up to five.
        for _ in 0..<(below(3) == 0 ? 1 + below(5) : 1) {
            switch below(10) {
            case 0 where !b.isEmpty: b[below(b.count)] ^= UInt8(truncatingIfNeeded: 1 + below(255))
            case 1: b.removeLast(below(b.count + 1))
            case 2 where b.count >= 12:
                let width = b[6] == 1 ? 2 : 4
                let value = below(3) == 0 ? Int(rng.next() & 0xFFFF_FFFF) : max(0, Int(b[8]) + below(129) - 64)
                for k in 0..<width { b[8 + k] = UInt8(truncatingIfNeeded: value >> (8 * k)) }
            case 3:
                let at = below(b.count + 1)
                b.insert(contentsOf: (0..<(1 + below(16))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: at)
            case 4 where !b.isEmpty:
                let at = below(b.count)
                b.removeSubrange(at..<min(b.count, at + 1 + below(8)))
            case 5 where b.count > 10: b[10 + below(min(b.count, 128) - 10)] = Self.tokens[below(Self.tokens.count)]
            case 6 where b.count > 10:
                b.insert(contentsOf: Array(String(rng.next() >> below(64)).utf8), at: 10 + below(min(b.count, 128) - 10))
            case 7 where b.count >= 8:
                b[6] = UInt8(below(5))
                b[7] = UInt8(below(2))
            case 8:  // splice: the front of this buffer, the back of another
                let other = bases[below(bases.count)]
                b = Array(b.prefix(below(b.count + 1))) + Array(other.suffix(below(other.count + 1)))
            case 9:  // data appended or cut by whole elements
                if below(2) == 0 { b += [UInt8](repeating: 0x3F, count: [4, 8, 16][below(3)]) } else {
                    b.removeLast(min(b.count, [4, 8, 16][below(3)]))
                }
            default: break
            }
        }
        return b
    }
}

/// Feeds one buffer to every `.npy` entry point. Returns whether it decoded.
func feedNPY(_ b: [UInt8]) -> (decoded: Bool, issue: String?) {
    var decoded = false
    do {
        let t = try AnyTensor(npyData: b)
        decoded = true
        // The decoder read exactly the data: the element bytes at the end of
        // the input are the element bytes of the re-encoded file.
        let again = t.npyData()
        let dataBytes = t.shape.reduce(1, *) * (again.count - NPYHeader.preamble(descr: t.dtype, shape: t.shape).count) /
            max(t.shape.reduce(1, *), 1)
        if Array(b.suffix(dataBytes)) != Array(again.suffix(dataBytes)) { return (true, "data bytes differ") }
        if try AnyTensor(npyData: again).npyData() != again { return (true, "re-encoding is not stable") }
    } catch is BatchLUError {} catch { return (decoded, "non-BatchLUError \(error)") }
    func typed<T: TensorElement>(_: T.Type) -> String? {
        do { _ = try Tensor<T>(npyData: b) } catch is BatchLUError {} catch { return "non-BatchLUError \(error)" }
        return nil
    }
    for issue in [typed(Float.self), typed(Double.self), typed(Complex<Float>.self), typed(Complex<Double>.self),
                  typed(Int32.self)] {
        if let issue { return (decoded, issue) }
    }
    return (decoded, nil)
}

@Suite struct FuzzTests {
    /// ≥ 10^5 mutated `.npy` buffers (BATCHLU_FUZZ_ITERATIONS): no crash, no
    /// error other than BatchLUError, no slow input.
    @Test(.enabled(if: FuzzConfig.iterations != nil))
    func npyMutationsLong() throws {
        let n = FuzzConfig.iterations ?? 0
        var m = try NPYMutator(seed: FuzzConfig.seed)
        var decoded = 0, issues = 0, slowest = 0.0
        let clock = ContinuousClock()
        let start = clock.now
        for trial in 0..<n {
            let b = m.next()
            let t0 = clock.now
            let r = feedNPY(b)
            let dt = (clock.now - t0) / .seconds(1)
            slowest = max(slowest, dt)
            if r.decoded { decoded += 1 }
            if let issue = r.issue {
                issues += 1
                if issues <= 10 { Issue.record("trial \(trial) (seed \(FuzzConfig.seed)): \(issue); bytes \(b.prefix(200))") }
            }
        }
        let secs = (clock.now - start) / .seconds(1)
        print(String(format: "npy fuzz: %d inputs in %.1f s (%.0f/s), %d decoded, %d rejected, slowest input %.1f ms, seed %llu",
                     n, secs, Double(n) / max(secs, 1e-9), decoded, n - decoded, slowest * 1000, FuzzConfig.seed))
        #expect(issues == 0)
        #expect(slowest < 1.0, "an input took \(slowest) s")
        #expect(decoded > n / 100)
    }

    /// Random API calls; 300 by default, BATCHLU_FUZZ_ITERATIONS / 10 when set.
    @Test(arguments: TestBackend.allCases)
    func apiCallsNeverCrash(_ backend: TestBackend) throws {
        let n = FuzzConfig.iterations.map { max($0 / 10, 1) } ?? 300
        var rng = SplitMix64(seed: FuzzConfig.seed &+ UInt64(backend.rawValue.utf8.reduce(0) { $0 &* 31 &+ Int($1) } & 0xFFFF))
        var ok = 0, typed = 0, skipped = 0
        let clock = ContinuousClock()
        let start = clock.now
        for trial in 0..<n {
            do {
                switch rng.next() % 4 {
                case 0: try fuzzOne(Float.self, backend, &rng)
                case 1: try fuzzOne(Double.self, backend, &rng)
                case 2: try fuzzOne(Complex<Float>.self, backend, &rng)
                default: try fuzzOne(Complex<Double>.self, backend, &rng)
                }
                ok += 1
            } catch is BatchLUError {
                typed += 1
            } catch is FuzzTooBig {
                skipped += 1
            } catch {
                Issue.record("trial \(trial): non-BatchLUError \(error)")
            }
        }
        let secs = (clock.now - start) / .seconds(1)
        print(String(format: "api fuzz %@: %d call sequences in %.1f s, %d returned, %d typed errors, %d skipped (too big)",
                     backend.rawValue, n, secs, ok, typed, skipped))
        #expect(ok > 0 && typed > 0)
    }
}

/// A valid shape too big to allocate in a test (skipped, not an error).
struct FuzzTooBig: Error {}

/// One random API call sequence on `backend`.
func fuzzOne<T: LUScalar>(_: T.Type, _ backend: TestBackend, _ rng: inout SplitMix64) throws {
    func below(_ n: Int) -> Int { Int(rng.next() % UInt64(max(n, 1))) }
    let big = [Int(Int32.max), Int(Int32.max) + 1, 1 << 32, 1 << 40, Int.max / 2]
    // A shape: small dimensions mostly; sometimes an empty batch with huge
    // matrix dimensions, or a negative or overflowing dimension.
    func dim() -> Int { [0, 1, 1, 2, 3, 4, 5, 7, 9][below(9)] }
    func shape() -> [Int] {
        let batch = (0..<below(3)).map { _ in dim() }
        switch below(12) {
        case 0: return [0] + batch + [big[below(big.count)], dim()]
        case 1: return batch + [0, big[below(big.count)]]
        case 2: return batch + [-1 - below(3), dim()]
        case 3: return [big[below(big.count)], big[below(big.count)], 0] + [dim(), dim()]
        default: return batch + [dim(), dim()]
        }
    }
    /// A random tensor, unless its shape is valid but too big to allocate here (then the call ends).
    func random(_ s: [Int]) throws -> Tensor<T> {
        if let c = try? Tensor<T>.checkedCount(s), c > 1 << 16 { throw FuzzTooBig() }
        return try Tensor<T>.random(s, seed: 7)    // may throw negativeDimension / elementCountOverflow
    }
    let be = backend.choice
    let s = shape()
    let a: Tensor<T> = try random(s)
    if ProcessInfo.processInfo.environment["FUZZ_TRACE"] != nil { print("TRACE", backend, T.self, s); fflush(nil) }
    let f = try luFactorEx(a, pivot: below(4) != 0, backend: be)
    let which = below(8)
    if ProcessInfo.processInfo.environment["FUZZ_TRACE"] != nil { print("TRACE op", which); fflush(nil) }
    switch which {
    case 0:
        // Hand-made factors with random pivots (often out of range).
        let piv = try Tensor<Int32>(shape: f.pivots.shape, elements: f.pivots.elements.map { _ in Int32(below(f.rows + 3)) - 1 })
        let g = try LUFactors(lu: f.lu, pivots: piv, info: f.info)
        _ = try luUnpack(g, backend: be)
        if g.rows == g.cols { _ = try luSolve(g, random(g.batchShape + [g.rows, 1 + below(3)]), backend: be) }
    case 1:
        var bs = f.batchShape
        if !bs.isEmpty, below(2) == 0 { bs[below(bs.count)] = 1 }
        if below(3) == 0 { bs = [dim()] + bs }
        _ = try luSolve(f, random(bs + [[f.rows, dim()][below(2)], dim()]), adjoint: below(2) == 0, backend: be)
    case 2:
        let gs = below(4) == 0 ? shape() : f.lu.shape
        _ = try luFactorBackward(f, random(gs), backend: be)
    case 3: _ = try luUnpack(f, backend: be)
    case 4: _ = try det(f, backend: be); _ = try det(a, backend: be)
    case 5: _ = try slogdet(f, backend: be); _ = try slogdet(a, backend: be)
    case 6:
        let (d, pb) = try detWithPullback(a, backend: be)
        _ = try pb(below(3) == 0 ? random([dim()]) : d)
    default:
        let b: Tensor<T> = try random(f.batchShape + [f.rows, 1 + below(2)])
        let (x, pb) = try luSolveWithPullback(f, b, backend: be)
        _ = try pb(below(3) == 0 ? b : x)
    }
}
