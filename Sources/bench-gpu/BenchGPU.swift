// The command line of bench-gpu and the run: plan, peaks, grid, report.
import ArgumentParser
import BatchLU
import ComplexModule
import Foundation

struct BenchGPU: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-gpu",
        abstract: "Times BatchLU's batched LU factorization and its backward.",
        discussion: """
        With no arguments: the default grid (square n from 4 to 2048, plus 1000 × (64×32) and \
        1000 × (32×64)), f64 and f32, forward and backward, on the automatically chosen backend and \
        the CPU fallback side by side (shown once when the automatic choice is the CPU).

        Each figure is the median over repeats after one warm-up call: at least 3 repeats, and \
        more while under --seconds (2 s; 0.3 s with --quick), or exactly --repeat N. GFLOP/s use \
        the LAWN 41 getrf count (FlopCount.getrf); the backward's GFLOP/s divide the same count \
        by the backward's time. "% peak" compares with the backend's GEMM peak, measured once at \
        the start (CPU: OpenBLAS DGEMM/SGEMM with all cores; OpenCL: CLBlast strided-batched GEMM \
        on the device). Every row checks ‖P·L·U − A‖_F ≤ 30·max(m,n)·ε·‖A‖_F on up to 8 matrices \
        of the batch (P, L, U from luUnpack); a failing row says FAIL and the exit status is 2.

        Environment: BATCHLU_BACKEND steers the automatic choice; OPENBLAS_CORETYPE must be set \
        before the process starts when OpenBLAS does not recognise the CPU (the header warns).
        """)

    @Flag(help: "A small grid that runs in well under a minute.")
    var quick = false

    @Option(help: ArgumentHelp("Comma-separated shapes, batch x n or batch x m x n (e.g. \"100000x8,1000x64x32\").",
                               valueName: "list"))
    var shapes: String?

    @Option(help: ArgumentHelp("Comma-separated element types: f32, f64, c64, c128.", valueName: "list"))
    var dtype = "f64,f32"

    @Option(help: ArgumentHelp("Run only these backends (comma-separated): auto, cpu, opencl, opencl:<device substring>.",
                               valueName: "list"))
    var backend: String?

    @Flag(help: "Add every other available backend (every OpenCL device, PoCL's CPU device included).")
    var allBackends = false

    @Option(name: .customLong("repeat"), help: ArgumentHelp("Exactly N timed calls per figure, after the warm-up.", valueName: "N"))
    var repeatCount: Int?

    @Option(help: ArgumentHelp("Time cap on the repeats of one figure (default 2; 0.3 with --quick); at least 3 repeats run.",
                               valueName: "s"))
    var seconds: Double?

    @Flag(inversion: .prefixedNo, help: "Measure each backend's GEMM peak at the start (for the % peak column).")
    var peak = true

    @Option(help: ArgumentHelp("The residual check's factor c in ‖P·L·U − A‖_F ≤ c·max(m,n)·ε·‖A‖_F (default 30; "
                               + "0 makes every row fail, to see how a failure is reported).", visibility: .hidden))
    var residualFactor = 30.0

    @Option(help: ArgumentHelp("Write every figure, with machine information, as JSON (schema: top of main.swift).",
                               valueName: "path"))
    var json: String?

    @Option(help: ArgumentHelp("Write the result rows as CSV.", valueName: "path"))
    var csv: String?

    /// Everything that can be checked before any work: options, shapes (and
    /// whether a row's arrays fit in this machine's memory), backend names,
    /// BATCHLU_BACKEND, and the --json / --csv paths.
    func validate() throws {
        if let r = repeatCount, r < 1 { throw ValidationError("--repeat must be at least 1") }
        if let s = seconds, !(s >= 0) { throw ValidationError("--seconds must be >= 0") }
        let dtypes: [DType]
        do { dtypes = try DType.parseList(dtype) } catch { throw ValidationError("\(error)") }
        let memory = BenchGPU.usableMemory
        let size = dtypes.map(\.size).max() ?? 8
        for s in try parsedShapes() {
            // A row holds A, the gradient, two sets of factors (the timed
            // call's and the last one's), the backward's result and the copy
            // floor's array: about six arrays of A's size at once.
            guard let count = s.elementCount, case let (bytes, o) = count.multipliedReportingOverflow(by: 6 * size),
                  !o, UInt64(bytes) <= memory
            else {
                let gib = (Double(s.batch) * Double(s.m) * Double(s.n) * Double(6 * size)) / Double(1 << 30)
                throw ValidationError("shape \(s) needs about \(String(format: "%.3g", gib)) GiB (six arrays of "
                                      + "\(s.batch) x \(s.m) x \(s.n) elements of \(size) bytes); this machine "
                                      + "\(memory < ProcessInfo.processInfo.physicalMemory ? "lets this process use" : "has") "
                                      + "\(String(format: "%.3g", Double(memory) / Double(1 << 30))) GiB")
            }
        }
        _ = try parsedBackends()
        if let env = BenchGPU.backendEnv {
            do { _ = try BackendChoice(parsing: env) } catch {
                throw ValidationError("BATCHLU_BACKEND='\(env)' is not a backend (use cpu, opencl or "
                                      + "opencl:<device substring>); fix or unset it")
            }
        }
        for (option, path) in [("--json", json), ("--csv", csv)] {
            if let path { try BenchGPU.checkWritable(path, option: option) }
        }
    }

    /// The memory this process may use: the physical memory, or less when
    /// a control group it belongs to sets a lower limit (cgroup v2
    /// `memory.max`, v1 `memory.limit_in_bytes`, in the group named by
    /// /proc/self/cgroup, as in a container, or in any group above it, whose
    /// limit holds for its subgroups too).
    static var usableMemory: UInt64 { min(ProcessInfo.processInfo.physicalMemory, cgroupMemoryLimit ?? .max) }
    static let cgroupMemoryLimit: UInt64? = {
        guard let groups = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8) else { return nil }
        var files: [String] = []
        for line in groups.split(separator: "\n") {
            // hierarchy-ID:controllers:path; v2 is "0::path".
            let f = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard f.count == 3 else { continue }
            // The group and each group above it, up to the root: "/a/b" ->
            // "/a/b", "/a", "".
            let parts = f[2].split(separator: "/")
            let paths = (0...parts.count).reversed().map { parts.prefix($0).map { "/" + $0 }.joined() }
            if f[0] == "0" && f[1].isEmpty { files += paths.map { "/sys/fs/cgroup\($0)/memory.max" } }
            if f[1].split(separator: ",").contains("memory") {
                files += paths.map { "/sys/fs/cgroup/memory\($0)/memory.limit_in_bytes" }
            }
        }
        // "max" (v2) and a page-rounded Int64.max (v1) mean no limit; the
        // latter is above any physical memory, so taking the minimum suffices.
        let limits = files.compactMap { file in
            (try? String(contentsOfFile: file, encoding: .utf8))
                .flatMap { UInt64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }.filter { $0 > 0 }
        return limits.min()
    }()

    /// BATCHLU_BACKEND when set and not empty: the automatic choice is then
    /// that named backend (it runs the work or fails; no fallback).
    static var backendEnv: String? {
        ProcessInfo.processInfo.environment["BATCHLU_BACKEND"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// A file bench-gpu will write at the end (atomically: a new file in
    /// its folder, renamed over the path), checked before the run so that a
    /// long run does not end without it: the path is not a folder, and a
    /// file can be created in its folder (a uniquely named one, created and
    /// removed; the path itself is not touched).
    static func checkWritable(_ path: String, option: String) throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            throw ValidationError("\(option) \(path): is a folder")
        }
        let folder = (path as NSString).deletingLastPathComponent
        let dir = folder.isEmpty ? "." : folder
        guard fm.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw ValidationError("\(option) \(path): the folder \(dir) does not exist")
        }
        let probe = (dir as NSString).appendingPathComponent(".bench-gpu-check-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else {
            throw ValidationError("\(option) \(path): cannot create a file in \(dir) (\(String(cString: strerror(errno))))")
        }
        close(fd)
        unlink(probe)
    }

    func parsedShapes() throws -> [Shape] {
        guard let shapes else { return quick ? Grid.quick : Grid.full }
        var out = [Shape]()
        for p in shapes.split(separator: ",") where !p.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let s = Shape(parsing: String(p)) else {
                throw ValidationError("bad shape '\(p)': use batch x n or batch x m x n, each at least 1, "
                                      + "e.g. 100000x8 or 1000x64x32")
            }
            out.append(s)
        }
        if out.isEmpty { throw ValidationError("--shapes names no shape") }
        return out
    }

    /// --backend's items: "auto", "cpu", or an OpenCL choice (nil: not given).
    enum BackendItem: Equatable { case auto, cpu, opencl(String?) }

    func parsedBackends() throws -> [BackendItem]? {
        guard let backend else { return nil }
        var out = [BackendItem]()
        for item in backend.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            switch item.lowercased() {
            case "auto", "automatic": out.append(.auto)
            case "cpu": out.append(.cpu)
            default:
                guard case let .opencl(sub)? = try? BackendChoice(parsing: item) else {
                    throw ValidationError("unknown backend '\(item)' (use auto, cpu, opencl, opencl:<device substring>)")
                }
                out.append(.opencl(sub))
            }
        }
        if out.isEmpty { throw ValidationError("--backend names no backend") }
        return out
    }

    func run() throws {
        WarningLog.shared.install()
        let shapeList = try parsedShapes()
        let dtypes = try DType.parseList(dtype)
        let policy = TimingPolicy(fixedRepeats: repeatCount, seconds: seconds ?? (quick ? 0.3 : 2))
        let probe = OpenCLProbe.probe()
        let machine = MachineInfo.gather(openCL: probe)
        let cores = machine.cores

        // The backends per element type.
        var plans = [(DType, [BackendSpec])]()
        for d in dtypes {
            let specs: [BackendSpec]
            switch d {
            case .f32: specs = try plan(Float.self, probe: probe)
            case .f64: specs = try plan(Double.self, probe: probe)
            case .c64: specs = try plan(Complex<Float>.self, probe: probe)
            case .c128: specs = try plan(Complex<Double>.self, probe: probe)
            }
            plans.append((d, specs))
        }
        var allSpecs = [BackendSpec]()
        for (_, specs) in plans {
            for s in specs where !allSpecs.contains(where: { $0.name == s.name && $0.role == s.role }) { allSpecs.append(s) }
        }

        // GEMM peaks, once per backend and precision.
        var peaks = [Peak]()
        if peak {
            var seen = Set<String>()
            for (d, specs) in plans {
                for s in specs where seen.insert("\(s.name)|\(d.precision)").inserted {
                    if s.isCPU {
                        progress("measuring the CPU GEMM peak (\(d.precision), OpenBLAS, \(cores) threads)")
                        peaks.append(CPUPeak.measure(double: d.isDouble, threads: cores))
                    } else if case let .success(p) = probe, let dev = s.device,
                              let entry = p.devices.first(where: { $0.info.name == dev.name }) {
                        progress("measuring the OpenCL GEMM peak on \(dev.name) (\(d.precision), CLBlast; "
                                 + "its first call compiles kernels: ~10-40 s on PoCL with a cold cache)")
                        peaks.append(OpenCLPeak.measure(api: p.api, device: entry.id, info: entry.info,
                                                        backend: s.name, double: d.isDouble))
                    } else {
                        peaks.append(Peak(backend: s.name, precision: d.precision, gflops: nil, method: "",
                                          unavailable: "device not found by the OpenCL probe"))
                    }
                }
            }
            CPUPeak.settle()
        }

        let report = Report(machine: machine, policy: policy, peaks: peaks, backends: allSpecs,
                            dtypes: dtypes, shapes: shapeList, quick: quick, peakEnabled: peak)
        report.printHeader()

        // The grid.
        let total = plans.reduce(0) { $0 + $1.1.count * shapeList.count }
        var done = 0
        var results = [RowResult]()
        for (d, specs) in plans {
            report.printTableHeader(d)
            for shape in shapeList {
                let rows: [RowResult]
                switch d {
                case .f32: rows = try runShape(Float.self, d, shape, specs, policy, &done, total)
                case .f64: rows = try runShape(Double.self, d, shape, specs, policy, &done, total)
                case .c64: rows = try runShape(Complex<Float>.self, d, shape, specs, policy, &done, total)
                case .c128: rows = try runShape(Complex<Double>.self, d, shape, specs, policy, &done, total)
                }
                // The CPU reference: the first CPU row (a row keeps its backend's name,
                // so an automatic row that fell back to the CPU is not one).
                let withPeaks = rows.map { report.annotate($0, cpu: rows.first { $0.backend == "cpu" }) }
                for r in withPeaks { report.printRow(r) }
                results += withPeaks
            }
        }
        progress("done: \(results.count) rows")
        report.printSummary(results)

        if let json {
            try report.json(results).render().appending("\n").write(toFile: json, atomically: true, encoding: .utf8)
            print("JSON written to \(json)")
        }
        if let csv {
            try report.csv(results).write(toFile: csv, atomically: true, encoding: .utf8)
            print("CSV written to \(csv)")
        }
        if results.contains(where: { $0.status == .fail || $0.status == .error }) {
            throw ExitCode(2)
        }
    }

    /// The backends for element type `T`, in table order.
    func plan<T: LUScalar>(_: T.Type, probe: Result<OpenCLProbe, ProbeError>) throws -> [BackendSpec] {
        let devices: [CLDeviceInfo]
        if case let .success(p) = probe { devices = p.devices.map(\.info) } else { devices = [] }
        func info(_ name: String) -> CLDeviceInfo? {
            devices.first { "opencl:\($0.name)" == name }
        }
        /// What the automatic choice runs for T (a 2 × 2 factorization tells).
        func automaticName() throws -> String {
            let f = try luFactorEx(try Tensor<T>.random([1, 2, 2], seed: 0), backend: .automatic)
            return f.execution?.backend ?? "cpu"
        }
        /// The automatic choice's row: "automatic" (the CPU too: "automatic+cpu-fallback"),
        /// or "BATCHLU_BACKEND" when that variable names the backend (found
        /// without running T on it, so that a device without fp64 gets its
        /// f64 rows skipped, not the run refused).
        func automaticSpec() throws -> BackendSpec {
            if let env = BenchGPU.backendEnv {
                let choice = try BackendChoice(parsing: env)
                guard case let .opencl(sub) = choice else {
                    return BackendSpec(name: "cpu", role: "BATCHLU_BACKEND", choice: .cpu, device: nil)
                }
                do {
                    let b = try OpenCLBackend(device: sub)
                    return BackendSpec(name: b.name, role: "BATCHLU_BACKEND", choice: .automatic, device: info(b.name))
                } catch {
                    throw BenchError("BATCHLU_BACKEND=\(env): \(error)")
                }
            }
            let name = try automaticName()
            return BackendSpec(name: name, role: name == "cpu" ? "automatic+cpu-fallback" : "automatic",
                               choice: name == "cpu" ? .cpu : .automatic, device: info(name))
        }
        func openCL(_ sub: String?) throws -> BackendSpec {
            do {
                let b = try OpenCLBackend(device: sub)
                return BackendSpec(name: b.name, role: "selected", choice: .custom(b), device: info(b.name))
            } catch {
                throw BenchError("backend \(sub.map { "opencl:\($0)" } ?? "opencl") unavailable: \(error)")
            }
        }

        var specs = [BackendSpec]()
        func add(_ s: BackendSpec) {
            if !specs.contains(where: { $0.name == s.name }) { specs.append(s) }
        }
        if let items = try parsedBackends() {
            for item in items {
                switch item {
                case .auto: add(try automaticSpec())
                case .cpu: add(BackendSpec(name: "cpu", role: "selected", choice: .cpu, device: nil))
                case let .opencl(sub): add(try openCL(sub))
                }
            }
        } else {
            let auto = try automaticSpec()
            add(auto)
            if auto.name != "cpu" { add(BackendSpec(name: "cpu", role: "cpu-fallback", choice: .cpu, device: nil)) }
        }
        if allBackends {
            add(BackendSpec(name: "cpu", role: "extra", choice: .cpu, device: nil))
            var seenNames = Set<String>()
            for d in devices where seenNames.insert(d.name).inserted {
                guard !specs.contains(where: { $0.name == "opencl:\(d.name)" }) else { continue }
                do {
                    let b = try OpenCLBackend(device: d.name)
                    add(BackendSpec(name: b.name, role: "extra", choice: .custom(b), device: info(b.name) ?? d))
                } catch {
                    progress("note: OpenCL device \(d.name) unusable: \(error)")
                }
            }
        }
        return specs
    }

    /// Every backend on one shape (the inputs are made once and shared).
    func runShape<T: LUScalar>(_: T.Type, _ d: DType, _ shape: Shape, _ specs: [BackendSpec], _ policy: TimingPolicy,
                               _ done: inout Int, _ total: Int) throws -> [RowResult] {
        let a = try Tensor<T>.random([shape.batch, shape.m, shape.n], seed: 1)
        let g = try Tensor<T>.random([shape.batch, shape.m, shape.n], seed: 2)
        var rows = [RowResult]()
        for s in specs {
            done += 1
            progress("[\(done)/\(total)] \(d.rawValue) \(shape) on \(s.name)")
            let t0 = now()
            let r = Measure.row(T.self, dtype: d, shape: shape, spec: s, a: a, grad: g, policy: policy,
                                residualFactor: residualFactor)
            progress("        \(r.status.rawValue) in \(String(format: "%.1f", now() - t0)) s")
            rows.append(r)
        }
        return rows
    }
}

/// A line on stderr.
func progress(_ s: String) {
    FileHandle.standardError.write(Data((s + "\n").utf8))
}
