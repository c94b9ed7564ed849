import CLBridge
import Synchronization

/// Compiled programs, keyed explicitly by (context, source set, options).
/// A process never compiles the same program twice: PoCL builds cost
/// 0.1–1 s each. Safe to use from any thread; a build happens under the
/// lock, so concurrent first users wait for one build.
public final class ProgramCache: Sendable {
    public struct Key: Hashable, Sendable {
        public let context: ObjectIdentifier
        public let files: [String]
        public let options: String
    }

    private struct State {
        var programs: [Key: CLProgram] = [:]
        var builds = 0
    }
    private let state = Mutex(State())

    public init() {}

    /// Compilations done and distinct programs held, read together: equal
    /// when no program was ever compiled twice.
    public var stats: (builds: Int, programs: Int) { state.withLock { ($0.builds, $0.programs.count) } }

    /// The program made of `files` (concatenated in order) built with `options`.
    public func program(_ ctx: CLContext, files: [String], options: String) throws -> CLProgram {
        let key = Key(context: ObjectIdentifier(ctx), files: files, options: options)
        return try state.withLock { st in
            if let p = st.programs[key] { return p }
            var source = ""
            for f in files {
                guard let s = KernelSources.source(f) else {
                    throw CLError(status: -30, call: "ProgramCache: no embedded kernel file \(f)")
                }
                source += s + "\n"
            }
            let p = try ctx.program(source: source, options: options)
            st.programs[key] = p
            st.builds += 1
            return p
        }
    }
}

/// Size thresholds and launch shapes of the OpenCL kernels: one row per
/// device kind, with a default row.
public struct DispatchTable: Sendable, Equatable {
    /// Factor with one work-group per matrix, held in local memory, when
    /// `max(m, n)` is at most this (and the matrix fits in local memory).
    public var tinyMaxN: Int
    /// Panel width of the blocked factorization.
    public var blockSize: Int
    /// Work-group size of the per-matrix kernels (tiny, panel).
    public var groupSize: Int
    /// Work-groups per launch of the per-matrix kernels (larger batches are
    /// launched in several pieces).
    public var maxGroupsPerLaunch: Int
    /// Products whose three dimensions are all at least this go to CLBlast's
    /// strided-batched GEMM; smaller ones to BatchLU's own kernel.
    public var clblastMinSize: Int
    /// The tiny path packs up to this many matrices into one work-group
    /// (teams of `tinyTeamSize(m, n)` items each, within `groupSize`).
    public var tinyMatricesPerGroup: Int

    public init(tinyMaxN: Int, blockSize: Int, groupSize: Int, maxGroupsPerLaunch: Int, clblastMinSize: Int = 64,
                tinyMatricesPerGroup: Int = 1) {
        self.clblastMinSize = max(1, clblastMinSize)
        self.tinyMatricesPerGroup = max(1, tinyMatricesPerGroup)
        self.tinyMaxN = tinyMaxN
        self.blockSize = max(1, blockSize)
        self.groupSize = max(1, groupSize)
        self.maxGroupsPerLaunch = max(1, maxGroupsPerLaunch)
    }

    /// The default row.
    public static let `default` = DispatchTable(tinyMaxN: 32, blockSize: 32, groupSize: 64, maxGroupsPerLaunch: 1 << 16,
                                                clblastMinSize: 64, tinyMatricesPerGroup: 16)
    /// CPU devices (PoCL): small groups, since PoCL runs a group's items as loops.
    /// CLBlast's first use compiles its GEMM kernels (about 12 s per precision on PoCL).
    public static let cpu = DispatchTable(tinyMaxN: 32, blockSize: 32, groupSize: 16, maxGroupsPerLaunch: 1 << 16,
                                          clblastMinSize: 128, tinyMatricesPerGroup: 16)
    /// GPUs.
    public static let gpu = DispatchTable(tinyMaxN: 32, blockSize: 64, groupSize: 64, maxGroupsPerLaunch: 1 << 16,
                                          clblastMinSize: 64, tinyMatricesPerGroup: 16)

    /// Work-items per matrix on the tiny path: the power of two at or above
    /// max(m, n), at most `groupSize` (a row or column per item, as the
    /// pivot scan is serial and the swaps and scaling are per row).
    public func tinyTeamSize(m: Int, n: Int) -> Int {
        var t = 1
        while t < max(m, n) && t * 2 <= groupSize { t *= 2 }
        return t
    }

    /// Matrices per work-group on the tiny path for m x n matrices of
    /// `elementBytes` bytes, given `localMemory` bytes of local memory.
    public func tinyMatricesPerGroup(m: Int, n: Int, elementBytes: Int, localMemory: Int) -> Int {
        let perMatrix = m * n * elementBytes + 8
        let fit = max(1, (localMemory - 64) / max(perMatrix, 1))
        return max(1, min(tinyMatricesPerGroup, groupSize / tinyTeamSize(m: m, n: n), fit))
    }

    /// The row for a device.
    public static func row(for device: CLDevice) -> DispatchTable {
        if device.isCPU { return .cpu }
        if device.isGPUOrAccelerator { return .gpu }
        return .default
    }
}

extension KernelSources {
    /// The files that make up BatchLU's LU program, in order.
    public static let luProgramFiles = ["common.cl", "getrf.cl", "blas.cl", "det.cl", "unpack.cl"]
}
