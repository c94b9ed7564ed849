import CLBridge
import Kernels
import Logging
import Synchronization

/// One OpenCL device in use: its context and queue, and its compiled
/// programs. One runtime per device per process, shared by every backend
/// value naming that device.
final class OpenCLRuntime: Sendable {
    let context: CLContext
    let programs = ProgramCache()
    var device: CLDevice { context.device }

    private init(device: CLDevice) throws {
        context = try CLContext(device: device)
    }

    private static let registry = Mutex<[Int: OpenCLRuntime]>([:])

    /// The shared runtime of `device`.
    static func shared(_ device: CLDevice) throws -> OpenCLRuntime {
        let key = Int(bitPattern: UnsafeRawPointer(device.id))
        return try registry.withLock { map in
            if let r = map[key] { return r }
            let r = try OpenCLRuntime(device: device)
            map[key] = r
            return r
        }
    }

    /// A runtime of its own for `device`: a fresh context and an empty
    /// program cache, shared with nobody (tests use it to observe builds,
    /// faults and releases on one context).
    static func isolated(_ device: CLDevice) throws -> OpenCLRuntime {
        try OpenCLRuntime(device: device)
    }

    /// The LU program for `T`, compiled once.
    func program<T: LUScalar>(_: T.Type) throws -> CLProgram {
        try programs.program(context, files: KernelSources.luProgramFiles, options: T.clOptions)
    }

    /// Every OpenCL device, or the loader's error (no ICD, no platform).
    static func devices() throws -> [CLDevice] { try CLDevice.all() }
}

extension LUScalar {
    /// `-DPRECISION=…` for this element type (CLBlast's convention).
    static var clOptions: String {
        KernelSources.precisionDefine(bits: MemoryLayout<RealScalar>.size * 8, complex: isComplex)
    }
    /// CLBlast's precision code: 32, 64, 3232, 6464.
    static var clPrecision: Int { (MemoryLayout<RealScalar>.size * 8) * (isComplex ? 101 : 1) }
    /// Whether the element type needs `cl_khr_fp64`.
    static var needsFP64: Bool { MemoryLayout<RealScalar>.size == 8 }
}

/// Logs a message once per process.
enum LogOnce {
    private static let seen = Mutex<Set<String>>([])
    static func warning(_ message: String) {
        let first = seen.withLock { $0.insert(message).inserted }
        if first { BatchLULog.logger.warning("\(message)") }
    }
}
