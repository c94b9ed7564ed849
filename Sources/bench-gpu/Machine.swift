// Facts about the machine for the header and the JSON "machine" object.
import BatchLU
import COpenBLAS
import Foundation

struct MachineInfo {
    var hostname: String
    var os: String
    var cpuModel: String
    var cores: Int
    var hasAVX2: Bool
    var hasAVX512: Bool
    var openBLASCore: String
    var openBLASConfig: String
    var openBLASCoretypeEnv: String?
    var openBLASNumThreadsEnv: String?
    var build: String
    var date: String
    var openCL: [CLDeviceInfo]
    var openCLError: String?

    static func gather(openCL: Result<OpenCLProbe, ProbeError>) -> MachineInfo {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        var model = "unknown CPU"
        var flags = Set<Substring>()
        for line in cpuinfo.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let key = parts[0].trimmingCharacters(in: .whitespaces)
            if key == "model name", model == "unknown CPU" { model = parts[1].trimmingCharacters(in: .whitespaces) }
            if key == "flags", flags.isEmpty { flags = Set(parts[1].split(separator: " ")) }
        }
        let env = ProcessInfo.processInfo.environment
        var uts = utsname()
        uname(&uts)
        func field<T>(_ v: T) -> String {
            withUnsafeBytes(of: v) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        #if DEBUG
        let build = "debug"
        #else
        let build = "release"
        #endif
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime]
        var devices = [CLDeviceInfo](), clError: String?
        switch openCL {
        case let .success(p): devices = p.devices.map(\.info)
        case let .failure(e): clError = e.message
        }
        return MachineInfo(
            hostname: ProcessInfo.processInfo.hostName,
            os: "\(field(uts.sysname)) \(field(uts.release)) \(field(uts.machine))",
            cpuModel: model,
            cores: ProcessInfo.processInfo.activeProcessorCount,
            hasAVX2: flags.contains("avx2"),
            hasAVX512: flags.contains("avx512f"),
            openBLASCore: CPUBackend.openBLASCoreName,
            openBLASConfig: openblas_get_config().map { String(cString: $0) } ?? "?",
            openBLASCoretypeEnv: env["OPENBLAS_CORETYPE"],
            openBLASNumThreadsEnv: env["OPENBLAS_NUM_THREADS"],
            build: build,
            date: iso.string(from: Date()),
            openCL: devices,
            openCLError: clError)
    }

    /// OpenBLAS kernel families that use AVX-512, and those that use at least AVX2.
    static let avx512Cores: Set<String> = ["skylakex", "cooperlake", "sapphirerapids"]
    static let avx2Cores: Set<String> = avx512Cores.union(["haswell", "zen", "excavator"])

    /// The warning (with its fix) when OpenBLAS runs kernels older than the CPU, else nil.
    var openBLASWarning: String? {
        let core = openBLASCore.lowercased()
        let fix = "set OPENBLAS_CORETYPE=SkylakeX (AVX-512) or Haswell (AVX2) before starting the process"
        if hasAVX512, !MachineInfo.avx512Cores.contains(core) {
            return "OpenBLAS runs \(openBLASCore) kernels on a CPU with AVX-512: \(fix) (here: SkylakeX)"
        }
        if hasAVX2, !hasAVX512, !MachineInfo.avx2Cores.contains(core) {
            return "OpenBLAS runs \(openBLASCore) kernels on a CPU with AVX2: \(fix) (here: Haswell)"
        }
        return nil
    }

    var json: JSON {
        .object([
            ("hostname", .string(hostname)),
            ("os", .string(os)),
            ("cpu_model", .string(cpuModel)),
            ("cores", .int(cores)),
            ("cpu_avx2", .bool(hasAVX2)),
            ("cpu_avx512f", .bool(hasAVX512)),
            ("openblas_core", .string(openBLASCore)),
            ("openblas_config", .string(openBLASConfig)),
            ("openblas_coretype_env", .string(openBLASCoretypeEnv)),
            ("openblas_num_threads_env", .string(openBLASNumThreadsEnv)),
            ("openblas_threads_batch", .int(1)),
            ("openblas_threads_peak", .int(cores)),
            ("openblas_warning", .string(openBLASWarning)),
            ("build", .string(build)),
            ("date", .string(date)),
            ("opencl_devices", .array(openCL.map { d in
                .object([
                    ("platform", .string(d.platformName)),
                    ("platform_version", .string(d.platformVersion)),
                    ("platform_vendor", .string(d.platformVendor)),
                    ("device", .string(d.name)),
                    ("device_version", .string(d.version)),
                    ("driver_version", .string(d.driverVersion)),
                    ("type", .string(d.typeName)),
                    ("compute_units", .int(Int(d.computeUnits))),
                    ("global_memory_bytes", .int(Int(clamping: d.globalMemory))),
                    ("fp64", .bool(d.hasFP64)),
                ])
            })),
            ("opencl_error", .string(openCLError)),
            ("batchlu_backend_env", .string(BenchGPU.backendEnv)),
        ])
    }
}
