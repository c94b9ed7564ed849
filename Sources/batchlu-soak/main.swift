// batchlu-soak: random mixed BatchLU calls for a fixed time, every result
// checked against the CPU backend, with the process's memory watched.
//
//     swift run -c release batchlu-soak [--seconds N] [--seed S] [--rss-bound-mib M]
//     swift run -c release batchlu-soak --memory [--gib G]     # with POCL_MEMORY_LIMIT=1
//
// `SOAK_SECONDS` sets the duration when `--seconds` is absent (default 600).
// Exit status 0 only if there was no mismatch, no unexpected error and the
// resident set grew by at most the bound after warm-up. `scripts/soak.sh`
// runs both modes.

import BatchLU
import ComplexModule
import Foundation

// MARK: Options

struct Options {
    var seconds = Double(ProcessInfo.processInfo.environment["SOAK_SECONDS"] ?? "") ?? 600
    var seed: UInt64 = UInt64(ProcessInfo.processInfo.environment["SOAK_SEED"] ?? "") ?? 20_261_127
    var rssBoundMiB = 64.0
    var memory = false
    var gib = 1.25
    var noOpenCL = false

    init(_ args: [String]) {
        var it = args.dropFirst().makeIterator()
        while let a = it.next() {
            switch a {
            case "--seconds": seconds = Double(it.next() ?? "") ?? seconds
            case "--seed": seed = UInt64(it.next() ?? "") ?? seed
            case "--rss-bound-mib": rssBoundMiB = Double(it.next() ?? "") ?? rssBoundMiB
            case "--memory": memory = true
            case "--gib": gib = Double(it.next() ?? "") ?? gib
            case "--no-opencl": noOpenCL = true
            default:
                FileHandle.standardError.write(Data("unknown argument \(a)\n".utf8))
                exit(2)
            }
        }
    }
}

/// Prints a line now (unbuffered, so progress shows through a pipe).
func say(_ s: String) { FileHandle.standardOutput.write(Data((s + "\n").utf8)) }

// MARK: Process memory

/// Resident set size in bytes, from /proc/self/statm.
func residentBytes() -> Int {
    guard let s = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = s.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

func mib(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }

// MARK: Random numbers

struct Rng {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
    mutating func chance(_ p: Double) -> Bool { unit() < p }
}

// MARK: Backends

struct NamedBackend {
    let label: String
    let choice: BackendChoice
}

func makeBackends(openCL: Bool) -> [NamedBackend] {
    var list = [
        NamedBackend(label: "cpu", choice: .cpu),
        NamedBackend(label: "cpu-native", choice: .custom(CPUBackend(tuning: CPUTuning(nativeFactorMaxN: 1 << 20,
                                                                                       nativeBLASMaxN: 1 << 20)))),
        NamedBackend(label: "cpu-library", choice: .custom(CPUBackend(tuning: CPUTuning(
            nativeFactorMaxN: 0, nativeBLASMaxN: 0, blockSize: 5, threadedBLASMinN: 24)))),
    ]
    guard openCL else { return list }
    do {
        let cl = try OpenCLBackend()
        list.append(NamedBackend(label: "opencl", choice: .custom(cl)))
        var blocked = try OpenCLBackend(table: OpenCLDispatchTable(tinyMaxN: 0, blockSize: 4, groupSize: 8,
                                                                   maxGroupsPerLaunch: 3, clblastMinSize: 12))
        blocked.chunkBytesLimit = 24 * 1024
        list.append(NamedBackend(label: "opencl-blocked", choice: .custom(blocked)))
    } catch {
        say("no OpenCL backend (\(error)); soaking the CPU backends only")
    }
    return list
}

// MARK: Inputs

/// A batch of random matrices: mostly well conditioned (diagonal boost),
/// some raw, some exactly singular (a zero column or a zero row: exact zeros
/// survive every path's rounding, unlike two equal rows), some with NaN or Inf.
func randomBatch<T: LUScalar>(_: T.Type, _ batch: [Int], _ m: Int, _ n: Int, _ rng: inout Rng) -> Tensor<T> {
    let count = batch.reduce(1, *)
    var e = [T]()
    e.reserveCapacity(count * m * n)
    for _ in 0..<count * m * n {
        e.append(T(re: T.RealScalar(rng.unit() * 2 - 1), im: T.isComplex ? T.RealScalar(rng.unit() * 2 - 1) : 0))
    }
    let k = min(m, n)
    for b in 0..<count {
        let base = b * m * n
        switch rng.below(20) {
        case 0 where k > 0:  // zero column
            let c = rng.below(n)
            for i in 0..<m { e[base + i * n + c] = .zero }
        case 1 where k > 0:  // zero row (exactly singular on every path when m <= n)
            let r = rng.below(m)
            for j in 0..<n { e[base + r * n + j] = .zero }
        case 2 where k > 0:  // a non-finite entry
            e[base + rng.below(m * n)] = T(re: rng.chance(0.5) ? .nan : .infinity, im: 0)
        case 3, 4:  // raw random
            break
        default:  // diagonal boost: well conditioned, and pivot choices are far from ties
            for i in 0..<k { e[base + i * n + i] = e[base + i * n + i] + T(re: T.RealScalar(Double(max(m, n)) / 2 + 1), im: 0) }
        }
    }
    return try! Tensor(shape: batch + [m, n], elements: e)
}

// MARK: Comparison

struct Stats {
    var calls = 0
    var compared = 0
    var mismatches = 0
    var unexpected = 0
    var pivotTies = 0
    var nonFinitePivots = 0
    var nonFinitePivotsBy: [String: Int] = [:]
    var perBackend: [String: Int] = [:]
    var perOp: [String: Int] = [:]
    var perType: [String: Int] = [:]
}

final class Checker {
    var stats = Stats()
    var reports = 0

    /// Where failing inputs are saved as .npy (SOAK_DUMP_DIR).
    let dumpDir = ProcessInfo.processInfo.environment["SOAK_DUMP_DIR"]
    var dumps = 0
    /// The input under test, saved on its first mismatch.
    var current: (() -> Void)?

    func mismatch(_ what: String) {
        stats.mismatches += 1
        if reports < 20 { say("MISMATCH: \(what)"); reports += 1 }
        current?()
        current = nil
    }

    func dump<T: LUScalar>(_ a: Tensor<T>, _ tag: String) {
        guard let dir = dumpDir, dumps < 20 else { return }
        dumps += 1
        let url = URL(fileURLWithPath: dir).appendingPathComponent("mismatch-\(dumps).npy")
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try? a.writeNPY(to: url)
        say("  input saved to \(url.path) (\(tag))")
    }

    func unexpected(_ what: String) {
        stats.unexpected += 1
        if reports < 20 { say("UNEXPECTED ERROR: \(what)"); reports += 1 }
    }

    /// Compares matrix by matrix: `skip[i]` leaves member `i` out (non-finite
    /// by design: a singular or non-finite input). Relative error per member
    /// against the reference's norm; non-finite entries must match in kind.
    /// Per-member tolerance multipliers for the round in progress (element
    /// growth of unpivoted factorizations); empty means 1.
    var scale: [Double] = []

    func values<T: LUScalar>(_ x: Tensor<T>, _ ref: Tensor<T>, members: Int, tol: Double, skip: [Bool] = [],
                             _ what: @autoclosure () -> String) {
        stats.compared += 1
        guard x.shape == ref.shape else { return mismatch("\(what()): shape \(x.shape) vs \(ref.shape)") }
        let per = members == 0 ? 0 : x.count / members
        for b in 0..<members where !(b < skip.count && skip[b]) {
            var d = 0.0, r = 0.0
            for i in (b * per)..<((b + 1) * per) {
                let u = x.elements[i], v = ref.elements[i]
                if T.isComplex, !u.isFiniteValue || !v.isFiniteValue {
                    // Complex non-finite values have no canonical form: both non-finite is a match.
                    if u.isFiniteValue != v.isFiniteValue { return mismatch("\(what()): member \(b): \(u) vs \(v)") }
                    continue
                }
                for (p, q) in [(Double(u.re), Double(v.re)), (Double(u.im), Double(v.im))] {
                    if !p.isFinite || !q.isFinite {
                        if !(p.isNaN && q.isNaN) && p != q { return mismatch("\(what()): member \(b): \(u) vs \(v)") }
                        continue
                    }
                    d += (p - q) * (p - q)
                    r += q * q
                }
            }
            let t = tol * (b < scale.count ? scale[b] : 1)
            if d.squareRoot() > t * max(r.squareRoot(), 1) {
                return mismatch("\(what()): member \(b): error \(d.squareRoot()) vs norm \(r.squareRoot()), tol \(t)")
            }
        }
    }

    func ints(_ x: Tensor<Int32>, _ ref: Tensor<Int32>, _ what: @autoclosure () -> String) {
        stats.compared += 1
        if x != ref { mismatch("\(what()): \(x.elements.prefix(12)) vs \(ref.elements.prefix(12))") }
    }
}

/// Whether two pivot sequences first differ at a near tie: at that step the
/// row the other backend chose has, in the reference's factors, a multiplier
/// of magnitude ~1 (|a_q| ≈ |a_p| up to rounding). Such a divergence is the
/// arithmetic's, not a bug.
func isNearTie<T: LUScalar>(_ f: LUFactors<T>, ref: LUFactors<T>, member b: Int) -> Bool {
    let m = f.rows, n = f.cols, k = min(m, n)
    let p = Array(f.pivots.elements[(b * k)..<((b + 1) * k)]), pr = Array(ref.pivots.elements[(b * k)..<((b + 1) * k)])
    guard let j = (0..<k).first(where: { p[$0] != pr[$0] }) else { return true }
    let q = Int(p[j]) - 1, pRef = Int(pr[j]) - 1
    // Where working row q went in the reference after its swap at j and the later ones.
    var pos = q == pRef ? j : (q == j ? pRef : q)
    for s in (j + 1)..<max(k, j + 1) {
        let t = Int(pr[s]) - 1
        if pos == s { pos = t } else if pos == t { pos = s }
    }
    guard pos > j else { return false }
    let lu = ref.lu.elements, base = b * m * n
    let piv = lu[base + j * n + j], l = lu[base + pos * n + j]
    let ratio = Double((l * piv).pivotMagnitude) / max(Double(piv.pivotMagnitude), .leastNormalMagnitude)
    return ratio > 1 - 1e4 * Double(T.RealScalar.ulpOfOne)
}

// MARK: One round

func round<T: LUScalar>(_: T.Type, _ be: NamedBackend, _ rng: inout Rng, _ c: Checker) {
    let dims = [0, 1, 1, 2, 3, 4, 5, 6, 8, 11, 16, 17, 24, 33, 40]
    let batch = (0..<rng.below(3)).map { _ in [0, 1, 2, 3, 5, 8][rng.below(6)] }
    let square = rng.chance(0.7)
    let m = dims[rng.below(dims.count)], n = square ? m : dims[rng.below(dims.count)]
    let members = batch.reduce(1, *)
    let pivot = rng.chance(0.85)
    let a = randomBatch(T.self, batch, m, n, &rng)
    let eps = Double(T.RealScalar.ulpOfOne)
    let tol = eps * 2000 * Double(max(m, n, 1))
    let tag = "\(be.label) \(T.typeName) \(batch + [m, n]) pivot=\(pivot)"
    c.current = { [c] in c.dump(a, tag) }
    c.stats.perBackend[be.label, default: 0] += 1
    c.stats.perType[T.typeName, default: 0] += 1
    func count(_ op: String) {
        c.stats.calls += 1
        c.stats.perOp[op, default: 0] += 1
    }
    do {
        count("luFactorEx")
        let f = try luFactorEx(a, pivot: pivot, backend: be.choice)
        let ref = try luFactorEx(a, pivot: pivot, backend: .cpu)
        c.ints(f.info, ref.info, "\(tag) info")
        if f.pivots != ref.pivots {
            // Divergence is allowed only at a near tie, member by member.
            let k = min(m, n)
            for b in 0..<members where f.pivots.elements[(b * k)..<((b + 1) * k)] != ref.pivots.elements[(b * k)..<((b + 1) * k)] {
                if a.elements[(b * m * n)..<((b + 1) * m * n)].contains(where: { !$0.isFiniteValue }) {
                    // NaN/Inf: which row a NaN column picks is not specified (the paths differ).
                    c.stats.nonFinitePivots += 1
                    c.stats.nonFinitePivotsBy[be.label, default: 0] += 1
                } else if isNearTie(f, ref: ref, member: b) { c.stats.pivotTies += 1 } else {
                    c.mismatch("\(tag) pivots of member \(b): \(f.pivots.elements[(b * k)..<((b + 1) * k)]) vs \(ref.pivots.elements[(b * k)..<((b + 1) * k)])")
                }
            }
            return
        }
        c.stats.compared += 1
        // Without pivoting, rounding differences grow with the elements of
        // U (unbounded for raw random matrices): scale the tolerance by each
        // member's growth factor max|U| / max|A|, squared for what solves with U.
        c.scale = pivot ? [] : (0..<members).map { b in
            let r = (b * m * n)..<((b + 1) * m * n)
            let amax = a.elements[r].map { Double($0.modulus) }.filter(\.isFinite).max() ?? 1
            let umax = ref.lu.elements[r].map { Double($0.modulus) }.filter(\.isFinite).max() ?? 1
            let g = max(1, umax / max(amax, .leastNormalMagnitude))
            return g * g
        }
        // Singular or non-finite members: factors compared only where finite.
        let bad = (0..<members).map { b in
            ref.info.elements[b] != 0 || a.elements[(b * m * n)..<((b + 1) * m * n)].contains { !$0.isFiniteValue }
        }
        let nonFinite = (0..<members).map { b in a.elements[(b * m * n)..<((b + 1) * m * n)].contains { !$0.isFiniteValue } }
        c.values(f.lu, ref.lu, members: members, tol: tol, skip: nonFinite, "\(tag) lu")
        // The operations below are checked against the CPU running them on
        // this backend's own factors (a host copy): that isolates each
        // operation from the factorization's rounding, checked just above.
        let mine = try LUFactors(lu: f.lu, pivots: f.pivots, info: f.info, pivoted: f.pivoted)

        switch rng.below(5) {
        case 0:
            count("luUnpack")
            let u = try luUnpack(f, backend: be.choice), ur = try luUnpack(mine, backend: .cpu)
            c.ints(u.permutation, ur.permutation, "\(tag) permutation")
            c.values(u.P, ur.P, members: members, tol: 0, "\(tag) P")
            c.values(u.L, ur.L, members: members, tol: tol, skip: nonFinite, "\(tag) L")
            c.values(u.U, ur.U, members: members, tol: tol, skip: nonFinite, "\(tag) U")
        case 1:
            count("luFactorBackward")
            let g = randomBatch(T.self, batch, m, n, &rng)
            let gNonFinite = (0..<members).map { b in g.elements[(b * m * n)..<((b + 1) * m * n)].contains { !$0.isFiniteValue } }
            let skip = zip(bad, gNonFinite).map { $0 || $1 }
            let x = try luFactorBackward(f, g, backend: be.choice), xr = try luFactorBackward(mine, g, backend: .cpu)
            // The backward of a tall or wide matrix involves cond(A); the boosted ones are tame.
            c.values(x, xr, members: members, tol: tol * 10, skip: skip, "\(tag) backward")
        case 2 where m == n:
            count("luSolve")
            let nrhs = [1, 2, 3, 7][rng.below(4)]
            // Broadcasting: B may have batch dimensions of 1 or extra leading ones.
            var bb = batch
            if !bb.isEmpty, rng.chance(0.3) { bb[rng.below(bb.count)] = 1 }
            if rng.chance(0.2) { bb = [2] + bb }
            let b = randomBatch(T.self, bb, n, nrhs, &rng)
            let adjoint = rng.chance(0.5)
            let x = try luSolve(f, b, adjoint: adjoint, backend: be.choice)
            let xr = try luSolve(mine, b, adjoint: adjoint, backend: .cpu)
            let outMembers = x.batchCount
            // Members of X whose factor is singular or non-finite are not
            // compared (all of them when B broadcast, to keep the map simple).
            let skip = (0..<outMembers).map { i in bb != batch ? bad.contains(true) : bad[i] }
            c.values(x, xr, members: outMembers, tol: tol * 10, skip: skip, "\(tag) solve adjoint=\(adjoint) B \(bb)")
        case 3 where m == n:
            count("det")
            let d = try det(f, backend: be.choice), dr = try det(mine, backend: .cpu)
            c.values(d, dr, members: members, tol: tol, skip: nonFinite, "\(tag) det")
            count("det")
            let d2 = try det(a, backend: be.choice)
            if pivot { c.values(d2, dr, members: members, tol: tol, skip: nonFinite, "\(tag) det(A)") }
        case 4 where m == n:
            count("slogdet")
            let (s, l) = try slogdet(f, backend: be.choice), (sr, lr) = try slogdet(mine, backend: .cpu)
            c.values(s, sr, members: members, tol: tol, skip: nonFinite, "\(tag) sign")
            c.values(l, lr, members: members, tol: tol, skip: nonFinite, "\(tag) logAbsDet")
        default:
            count("luFactorEx")
            // A second factorization of the same input: bit-for-bit the first.
            let f2 = try luFactorEx(a, pivot: pivot, backend: be.choice)
            c.stats.compared += 1
            if f2.lu.elements.withUnsafeBytes({ Array($0) }) != f.lu.elements.withUnsafeBytes({ Array($0) }) || f2.pivots != f.pivots {
                c.mismatch("\(tag): a repeated factorization differs")
            }
        }
    } catch {
        c.unexpected("\(tag): \(error)")
    }
}

// MARK: Modes

func soak(_ o: Options) -> Int32 {
    let backends = makeBackends(openCL: !o.noOpenCL)
    say("batchlu-soak: \(Int(o.seconds)) s, seed \(o.seed), backends \(backends.map(\.label)), RSS bound \(o.rssBoundMiB) MiB")
    var rng = Rng(state: o.seed)
    let c = Checker()
    let start = Date()
    let warmUp = min(60, o.seconds * 0.15)
    var rssAfterWarmUp: Int?
    var rssMax = 0
    var lastReport = start
    while Date().timeIntervalSince(start) < o.seconds {
        let be = backends[rng.below(backends.count)]
        switch rng.below(4) {
        case 0: round(Float.self, be, &rng, c)
        case 1: round(Double.self, be, &rng, c)
        case 2: round(Complex<Float>.self, be, &rng, c)
        default: round(Complex<Double>.self, be, &rng, c)
        }
        let now = Date()
        let elapsed = now.timeIntervalSince(start)
        if rssAfterWarmUp == nil, elapsed >= warmUp { rssAfterWarmUp = residentBytes() }
        rssMax = max(rssMax, residentBytes())
        if now.timeIntervalSince(lastReport) >= 30 {
            lastReport = now
            say(String(format: "  %5.0f s: %d calls, %d checks, %d mismatches, %d errors, RSS %@", elapsed, c.stats.calls,
                         c.stats.compared, c.stats.mismatches, c.stats.unexpected, mib(residentBytes())))
        }
    }
    let secs = Date().timeIntervalSince(start)
    let rssEnd = residentBytes()
    let growth = rssEnd - (rssAfterWarmUp ?? rssEnd)
    say("calls made: \(c.stats.calls) in \(String(format: "%.0f", secs)) s (\(String(format: "%.0f", Double(c.stats.calls) / secs))/s)")
    say("  by backend: \(c.stats.perBackend.sorted { $0.key < $1.key })")
    say("  by op: \(c.stats.perOp.sorted { $0.key < $1.key })")
    say("  by type: \(c.stats.perType.sorted { $0.key < $1.key })")
    say("checks: \(c.stats.compared), mismatches: \(c.stats.mismatches), unexpected errors: \(c.stats.unexpected)")
    say("not counted as mismatches: pivot near-ties \(c.stats.pivotTies), pivot differences in members holding NaN/Inf \(c.stats.nonFinitePivots) \(c.stats.nonFinitePivotsBy.sorted { $0.key < $1.key })")
    say("RSS after warm-up (\(Int(warmUp)) s): \(mib(rssAfterWarmUp ?? 0)), at end: \(mib(rssEnd)), growth: \(mib(growth)), max: \(mib(rssMax)), bound: \(o.rssBoundMiB) MiB")
    let ok = c.stats.mismatches == 0 && c.stats.unexpected == 0 && Double(growth) <= o.rssBoundMiB * 1_048_576
    say(ok ? "SOAK PASSED" : "SOAK FAILED")
    return ok ? 0 : 1
}

/// A batch larger than the OpenCL device's memory (run with
/// POCL_MEMORY_LIMIT=1): the factorization and its backward are chunked and
/// agree with the CPU. Solve, det and unpack upload the whole factors at once
/// (not chunked): a typed error is accepted there, a crash or a wrong result
/// is not.
func memoryMode(_ o: Options) -> Int32 {
    let be: OpenCLBackend
    do { be = try OpenCLBackend() } catch {
        say("no OpenCL device: \(error)")
        return 1
    }
    let n = 8
    let perMatrix = n * n * MemoryLayout<Float>.stride
    let count = Int(o.gib * 1_073_741_824) / perMatrix
    say("memory mode: device \(be.deviceName); POCL_MEMORY_LIMIT=\(ProcessInfo.processInfo.environment["POCL_MEMORY_LIMIT"] ?? "unset")")
    say("batch: \(count) matrices of \(n) x \(n) Float = \(mib(count * perMatrix))")
    var rng = Rng(state: o.seed)
    let a = randomBatch(Float.self, [count], n, n, &rng)
    let c = Checker()
    func timed<R>(_ what: String, _ body: () throws -> R) rethrows -> R {
        let t = Date()
        let r = try body()
        say(String(format: "  %@: %.1f s, RSS %@", what, Date().timeIntervalSince(t), mib(residentBytes())))
        return r
    }
    let nonFinite = (0..<count).map { b in a.elements[(b * n * n)..<((b + 1) * n * n)].contains { !$0.isFiniteValue } }
    do {
        let f = try timed("luFactorEx (OpenCL)") { try luFactorEx(a, backend: .custom(be)) }
        let ref = try timed("luFactorEx (CPU)") { try luFactorEx(a, backend: .cpu) }
        // Members with NaN/Inf may pick other pivots (see the soak's report); compare the rest.
        let k = n
        let diverging = (0..<count).filter { b in
            f.pivots.elements[(b * k)..<((b + 1) * k)] != ref.pivots.elements[(b * k)..<((b + 1) * k)]
        }
        for b in diverging where !nonFinite[b] { c.mismatch("pivots of member \(b)") }
        c.ints(f.info, ref.info, "info")
        c.values(f.lu, ref.lu, members: count, tol: 1e-3, skip: nonFinite, "lu")
        say("  factor: \(f.execution.map { "\($0)" } ?? "-"), pivots differ in \(diverging.count) members (all holding NaN/Inf: \(diverging.allSatisfy { nonFinite[$0] }))")
        let mine = try LUFactors(lu: f.lu, pivots: f.pivots, info: f.info)
        let g = randomBatch(Float.self, [count], n, n, &rng)
        let x = try timed("luFactorBackward (OpenCL)") { try luFactorBackward(mine, g, backend: .custom(be)) }
        let xr = try timed("luFactorBackward (CPU)") { try luFactorBackward(mine, g, backend: .cpu) }
        let skip = (0..<count).map { nonFinite[$0] || f.info.elements[$0] != 0 || g.elements[($0 * n * n)..<(($0 + 1) * n * n)].contains { !$0.isFiniteValue } }
        c.values(x, xr, members: count, tol: 1e-2, skip: skip, "backward")
        say("  checks: \(c.stats.compared), mismatches: \(c.stats.mismatches)")
        // Not chunked: the whole factors go to the device in one buffer.
        let b = randomBatch(Float.self, [count], n, 1, &rng)
        for (what, call) in [("luSolve", { _ = try luSolve(mine, b, backend: .custom(be)) }),
                             ("det", { _ = try det(mine, backend: .custom(be)) }),
                             ("luUnpack", { _ = try luUnpack(mine, backend: .custom(be)) })] as [(String, () throws -> Void)] {
            do {
                try timed(what) { try call() }
                say("  \(what): ran")
            } catch let e as BatchLUError {
                say("  \(what): typed error (not chunked): \(e)")
            }
        }
    } catch {
        c.unexpected("\(error)")
    }
    let ok = c.stats.mismatches == 0 && c.stats.unexpected == 0
    say(ok ? "MEMORY PASSED" : "MEMORY FAILED")
    return ok ? 0 : 1
}

let options = Options(CommandLine.arguments)
exit(options.memory ? memoryMode(options) : soak(options))
