import CLBridge
import Foundation
import Synchronization

/// What a backend implements. The public API validates arguments, resolves
/// broadcasting and then calls exactly one backend; a backend receives only
/// valid input.
public protocol LUBackend: Sendable {
    /// `cpu`, or `opencl:<device>`.
    var name: String { get }

    /// Factors every matrix of `a` (rank >= 2, validated).
    func luFactor<T: LUScalar>(_ a: Tensor<T>, pivot: Bool) throws -> LUFactors<T>

    /// Solves `A X = B` (or `Aᴴ X = B`) where `A` is the matrix
    /// `factorIndex[i]` of `factors` (square) and `B` is matrix `i` of `b`.
    func luSolve<T: LUScalar>(_ factors: LUFactors<T>, _ b: Tensor<T>, factorIndex: [Int],
                              adjoint: Bool) throws -> Tensor<T>

    /// The gradient with respect to `A` of the packed factors (MATH.md).
    func luFactorBackward<T: LUScalar>(_ factors: LUFactors<T>, _ gradLU: Tensor<T>) throws -> Tensor<T>

    /// `P`, `L`, `U` and the permutation.
    func luUnpack<T: LUScalar>(_ factors: LUFactors<T>) throws -> LUUnpacked<T>

    /// `sign(P) · ∏ diag(U)` per square matrix.
    func det<T: LUScalar>(_ factors: LUFactors<T>) throws -> Tensor<T>

    /// Sign (phase) and `Σ log|U_ii|` per square matrix.
    func slogdet<T: LUScalar>(_ factors: LUFactors<T>) throws -> (sign: Tensor<T>, logAbsDet: Tensor<T.RealScalar>)
}

/// Which backend runs a call.
public enum BackendChoice: Sendable {
    /// `BATCHLU_BACKEND` if set, otherwise the first OpenCL GPU or
    /// accelerator that can run the element type, otherwise the CPU.
    case automatic
    /// The CPU backend (OpenBLAS/LAPACK and native batched code).
    case cpu
    /// The OpenCL backend, on the first device (any type, PoCL's CPU device
    /// included) whose name contains `device`, or the first device if `nil`.
    case opencl(device: String?)
    /// A backend instance supplied by the caller (tests use this to force kernel paths).
    case custom(any LUBackend)

    /// Parses `cpu`, `opencl` or `opencl:<substring>`.
    public init(parsing text: String) throws {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t.lowercased() == "cpu" { self = .cpu; return }
        if t.lowercased() == "opencl" { self = .opencl(device: nil); return }
        if t.lowercased().hasPrefix("opencl:") {
            let sub = String(t.dropFirst("opencl:".count))
            self = .opencl(device: sub.isEmpty ? nil : sub)
            return
        }
        throw BatchLUError.invalidBackendName(text)
    }
}

/// Turns a choice into a backend. A backend the caller named (argument or
/// `BATCHLU_BACKEND`) either runs the call or throws; only the automatic
/// choice falls back, with one logged warning.
enum BackendResolver {
    static let cpu = CPUBackend()

    /// OpenCL backends by device substring ("" = first device), made once.
    private static let openCL = Mutex<[String: OpenCLBackend]>([:])

    static func openCLBackend(_ device: String?) throws -> OpenCLBackend {
        let key = device ?? ""
        if let b = openCL.withLock({ $0[key] }) { return b }
        let b = try OpenCLBackend(device: device)
        openCL.withLock { $0[key] = b }
        return b
    }

    /// The automatic choice's OpenCL device: the first GPU or accelerator
    /// (nil when there is none or no OpenCL platform at all).
    private static let automaticGPU: OpenCLBackend? = {
        let devices: [CLDevice]
        do { devices = try CLDevice.all() } catch {
            LogOnce.warning("BatchLU: no usable OpenCL platform (\(error)); using the CPU backend")
            return nil
        }
        guard let gpu = devices.first(where: { $0.isGPUOrAccelerator }) else { return nil }
        do { return try OpenCLBackend(device: gpu.name) } catch {
            LogOnce.warning("BatchLU: OpenCL device \(gpu.name) unusable (\(error)); using the CPU backend")
            return nil
        }
    }()

    static func resolve<T: LUScalar>(_ choice: BackendChoice, for _: T.Type) throws -> any LUBackend {
        switch choice {
        case .cpu: return cpu
        case let .custom(b): return b
        case let .opencl(device): return try openCLBackend(device)
        case .automatic:
            if let env = ProcessInfo.processInfo.environment["BATCHLU_BACKEND"], !env.isEmpty {
                let named = try BackendChoice(parsing: env)
                return try resolve(named, for: T.self)
            }
            if let gpu = automaticGPU {
                if T.needsFP64 && !gpu.supportsFP64 {
                    LogOnce.warning("BatchLU: \(gpu.name) has no cl_khr_fp64; \(T.typeName) runs on the CPU backend")
                    return cpu
                }
                return OpenCLWithCPUFallback(gpu, cpu: cpu)
            }
            return cpu
        }
    }
}
