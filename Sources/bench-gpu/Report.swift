// The header, the table, the summary, and the JSON and CSV files.
import Foundation

struct Report {
    let machine: MachineInfo
    let policy: TimingPolicy
    let peaks: [Peak]
    let backends: [BackendSpec]
    let dtypes: [DType]
    let shapes: [Shape]
    let quick: Bool
    let peakEnabled: Bool

    func peak(_ backend: String, _ d: DType) -> Peak? {
        peaks.first { $0.backend == backend && $0.precision == d.precision }
    }

    /// Adds the peak fraction and the speed-up over the CPU row of the same shape.
    func annotate(_ r: RowResult, cpu: RowResult?) -> RowResult {
        var r = r
        // A forward that ran on the CPU after the device failed has no
        // fraction of the device's peak.
        if r.fallback?.contains("forward") != true, let p = peak(r.backend, r.dtype)?.gflops, let g = r.gflops {
            r.peakGflops = p
            r.pctPeak = 100 * g / p
        }
        if let c = cpu, c.status != .skipped, c.status != .error {
            if let a = c.fwdMs, let b = r.fwdMs, b > 0 { r.speedup = a / b }
            if let a = c.bwdMs, let b = r.bwdMs, b > 0 { r.bwdSpeedup = a / b }
        }
        return r
    }

    // MARK: Text

    func printHeader() {
        let m = machine
        print("bench-gpu — BatchLU batched LU factorization and backward (\(m.build) build), \(m.date)")
        if m.build == "debug" {
            print("WARNING: debug build: timings are meaningless; run `swift run -c release bench-gpu`")
        }
        print("Machine: \(m.cpuModel), \(m.cores) cores\(m.hasAVX512 ? ", AVX-512" : m.hasAVX2 ? ", AVX2" : ""); \(m.os); host \(m.hostname)")
        let coretype = m.openBLASCoretypeEnv.map { "OPENBLAS_CORETYPE=\($0)" } ?? "OPENBLAS_CORETYPE unset"
        print("OpenBLAS core: \(m.openBLASCore) (\(coretype)); threads: 1 per batch worker, the batch split over \(m.cores) cores "
              + "(a lone large matrix lets OpenBLAS use \(m.openBLASNumThreadsEnv.map { "OPENBLAS_NUM_THREADS=\($0)" } ?? "\(m.cores)") threads)")
        if let w = m.openBLASWarning { print("WARNING: \(w)") }
        let usesCL = backends.contains { !$0.isCPU }
        if m.openCL.isEmpty {
            print("OpenCL: none (\(m.openCLError ?? "no device"))")
        } else {
            for d in m.openCL {
                let used = backends.contains { $0.name == "opencl:\(d.name)" }
                print("OpenCL\(used ? "" : " (not used)"): platform \(d.platformName), \(d.platformVersion); device \(d.name) "
                      + "(\(d.typeName), \(d.version), \(d.computeUnits) compute units, \(d.globalMemory >> 20) MiB, fp64 \(d.hasFP64 ? "yes" : "no"))")
            }
            if !usesCL && !backends.isEmpty {
                print("        (no OpenCL GPU or accelerator for the automatic choice; --all-backends or --backend opencl times OpenCL devices)")
            }
        }
        print("Backends: " + backends.map { "\($0.name) [\($0.role)]" }.joined(separator: ", "))
        if let env = BenchGPU.backendEnv {
            print("BATCHLU_BACKEND=\(env): the automatic choice is this named backend (it runs the work or fails, "
                  + "no fallback; a cpu-fallback row is the CPU alongside it, for the speed-ups)"
                  + "\(backends.contains { $0.role == "BATCHLU_BACKEND" } ? "" : "; not used by the backends above")")
        }
        if peakEnabled {
            print("GEMM peaks (measured now; reference of % peak):")
            for p in peaks {
                if let g = p.gflops {
                    let note = p.backend == "cpu" ? " — all cores, unlike batch work (1 OpenBLAS thread per worker)" : ""
                    print("  \(p.backend) \(p.precision): \(fmt(g, 1)) GFLOP/s (\(p.method))\(note)")
                } else {
                    print("  \(p.backend) \(p.precision): n/a (\(p.unavailable ?? "?"))")
                }
            }
            if dtypes.contains(where: { $0 == .c64 || $0 == .c128 }) {
                print("  (complex rows use the real GEMM peak of the same precision; their flops are real flops, "
                      + "LAWN 41: 6 per complex multiplication, 2 per complex addition)")
            }
        } else {
            print("GEMM peaks: not measured (--no-peak)")
        }
        let timing = policy.fixedRepeats.map { "\($0) repeats" }
            ?? "at least 3 repeats, more while under \(fmt(policy.seconds, 1)) s"
        print("Timing: median after one warm-up call, \(timing). GFLOP/s: LAWN 41 getrf flops / time "
              + "(bwd GF/s: the same flops / backward time). Speed-up: CPU time / this time.")
        print("Copy ms (CPU rows): A copied into a fresh array of its size on all cores, as the CPU backend makes "
              + "its outputs: the memory floor of any out-of-place forward on this machine.")
        print("Check: ‖P·L·U − A‖_F ≤ 30·max(m,n)·ε·‖A‖_F on ≤ 8 matrices per row (luUnpack); shown as max ‖P·L·U − A‖/‖A‖.")
    }

    /// The table's columns: title, width, right-aligned. The backend column
    /// is as wide as the longest backend name, and no cell is cut: a longer
    /// one (a path) shifts the rest of its line.
    var columns: [(String, Int, Bool)] {
        [("shape", 18, false), ("backend", max(12, backends.map(\.name.count).max() ?? 0), false),
         ("fwd ms", 10, true), ("copy ms", 9, true), ("GFLOP/s", 9, true),
         ("% peak", 7, true), ("bwd ms", 10, true), ("bwd GF/s", 9, true), ("speed-up f/b", 15, true),
         ("path", 25, false), ("check", 0, false)]
    }

    func printTableHeader(_ d: DType) {
        print("\n\(d.rawValue)")
        print(line(columns.map { $0.0 }))
    }

    func line(_ cells: [String]) -> String {
        var s = ""
        let columns = self.columns
        for (i, c) in cells.enumerated() {
            let (_, w, right) = columns[i]
            let pad = String(repeating: " ", count: max(0, w - c.count))
            s += (right ? pad + c : c + pad) + (i + 1 < cells.count ? "  " : "")
        }
        return s
    }

    func printRow(_ r: RowResult) {
        let check: String
        switch r.status {
        case .ok: check = "ok " + sci(r.residual?.maxRelative) + (r.message.map { " (\($0))" } ?? "")
        case .fail:
            if let c = r.residual {
                check = "*** FAIL *** \(sci(c.maxRelative)) > \(sci(c.tolerance)) in \(c.failures)/\(c.sampled) matrices"
            } else {
                check = "*** FAIL *** " + (r.message ?? "")
            }
        case .skipped: check = "skipped: " + (r.message ?? "")
        case .error: check = "*** ERROR *** " + (r.message ?? "")
        }
        let speed = r.speedup == nil && r.bwdSpeedup == nil ? "—"
            : "\(r.speedup.map { fmt($0, 2) + "×" } ?? "—") / \(r.bwdSpeedup.map { fmt($0, 2) + "×" } ?? "—")"
        print(line([
            r.shape.pretty, r.backend,
            r.fwdMs.map { fmt($0, 3) } ?? "—", r.copyMs.map { fmt($0, 3) } ?? "—", r.gflops.map { fmt($0, 2) } ?? "—",
            r.pctPeak.map { fmt($0, 1) + "%" } ?? (r.gflops == nil ? "—" : "n/a"),
            r.bwdMs.map { fmt($0, 3) } ?? "—", r.bwdGflops.map { fmt($0, 2) } ?? "—",
            speed, r.path ?? "—", check,
        ]))
    }

    func printSummary(_ rows: [RowResult]) {
        let count = { (s: RowResult.Status) in rows.filter { $0.status == s }.count }
        print("\n\(rows.count) rows: \(count(.ok)) ok, \(count(.fail)) FAILED the residual check, "
              + "\(count(.error)) errors, \(count(.skipped)) skipped")
        let bad = rows.filter { $0.status == .fail || $0.status == .error }
        if !bad.isEmpty {
            print("*** FAILED ROWS ***")
            for r in bad { print("  \(r.dtype.rawValue) \(r.shape) on \(r.backend): \(r.status.rawValue): \(r.message ?? "")") }
        }
    }

    // MARK: Files

    func json(_ rows: [RowResult]) -> JSON {
        let units: [(String, JSON)] = [
            ("fwd_ms", .string("milliseconds (median)")), ("bwd_ms", .string("milliseconds (median)")),
            ("copy_ms", .string("milliseconds (median): A copied into a fresh array of its size on all cores (CPU rows)")),
            ("gflops", .string("GFLOP/s (LAWN 41 getrf flops / fwd time)")),
            ("bwd_gflops", .string("GFLOP/s (LAWN 41 getrf flops / bwd time)")),
            ("peak_gflops", .string("GFLOP/s (GEMM)")), ("pct_peak", .string("percent of peak_gflops")),
            ("speedup_vs_cpu", .string("ratio (cpu fwd_ms / fwd_ms)")),
            ("bwd_speedup_vs_cpu", .string("ratio (cpu bwd_ms / bwd_ms)")),
            ("residual_max", .string("relative (‖PLU − A‖_F / ‖A‖_F)")), ("residual_tol", .string("relative")),
            ("seconds", .string("seconds (time cap on one figure's repeats)")),
            ("global_memory_bytes", .string("bytes")),
        ]
        let backendsJSON: [JSON] = backends.map { s in
            let ds = dtypesFor(s, rows)
            return .object([
                ("name", .string(s.name)), ("role", .string(s.role)),
                ("dtypes", .array(ds.map { .string($0) })),
                ("device", .string(s.device?.name)), ("platform", .string(s.device?.platformName)),
                ("platform_version", .string(s.device?.platformVersion)),
            ])
        }
        return .object([
            ("schema", .string("batchlu-bench/1")),
            ("tool", .string("bench-gpu")),
            ("units", .object(units)),
            ("machine", machine.json),
            ("settings", .object([
                ("quick", .bool(quick)),
                ("repeat", policy.fixedRepeats.map { .int($0) } ?? .null),
                ("seconds", .number(policy.seconds)),
                ("dtypes", .array(dtypes.map { .string($0.rawValue) })),
                ("shapes", .array(shapes.map { .string($0.description) })),
                ("peak", .bool(peakEnabled)),
            ])),
            ("backends", .array(backendsJSON)),
            ("peaks", .array(peaks.map { p in
                .object([("backend", .string(p.backend)), ("precision", .string(p.precision)),
                         ("gflops", .number(p.gflops)), ("method", .string(p.method)),
                         ("unavailable", .string(p.unavailable))])
            })),
            ("results", .array(rows.map { rowJSON($0) })),
        ])
    }

    func dtypesFor(_ s: BackendSpec, _ rows: [RowResult]) -> [String] {
        var out = [String]()
        for r in rows where r.backend == s.name && r.role == s.role && !out.contains(r.dtype.rawValue) {
            out.append(r.dtype.rawValue)
        }
        return out
    }

    func rowFields(_ r: RowResult) -> [(String, JSON)] {
        [
            ("backend", .string(r.backend)), ("backend_role", .string(r.role)), ("device", .string(r.device)),
            ("dtype", .string(r.dtype.rawValue)),
            ("shape", .array([.int(r.shape.batch), .int(r.shape.m), .int(r.shape.n)])),
            ("batch", .int(r.shape.batch)), ("m", .int(r.shape.m)), ("n", .int(r.shape.n)),
            ("fwd_ms", .number(r.fwdMs)), ("fwd_repeats", .int(r.fwdRepeats)), ("copy_ms", .number(r.copyMs)),
            ("bwd_ms", .number(r.bwdMs)), ("bwd_repeats", .int(r.bwdRepeats)),
            ("gflops", .number(r.gflops)), ("bwd_gflops", .number(r.bwdGflops)),
            ("peak_gflops", .number(r.peakGflops)), ("pct_peak", .number(r.pctPeak)),
            ("speedup_vs_cpu", .number(r.speedup)), ("bwd_speedup_vs_cpu", .number(r.bwdSpeedup)),
            ("path", .string(r.path)), ("execution", .string(r.execution)), ("fallback", .string(r.fallback)),
            ("residual_ok", r.residual.map { .bool($0.ok) } ?? .null),
            ("residual_max", .number(r.residual?.maxRelative)), ("residual_tol", .number(r.residual?.tolerance)),
            ("residual_sampled", .int(r.residual?.sampled ?? 0)),
            ("status", .string(r.status.rawValue)), ("message", .string(r.message)),
        ]
    }

    func rowJSON(_ r: RowResult) -> JSON { .object(rowFields(r)) }

    func csv(_ rows: [RowResult]) -> String {
        let extra: [(String, String)] = [("openblas_core", machine.openBLASCore), ("build", machine.build), ("date", machine.date)]
        guard let first = rows.first else {
            return "# no rows\n"
        }
        let keys = rowFields(first).map(\.0) + extra.map(\.0)
        var out = keys.joined(separator: ",") + "\n"
        for r in rows {
            var cells = rowFields(r).map { key, v -> String in
                if key == "shape" { return "\(r.shape.batch)x\(r.shape.m)x\(r.shape.n)" }
                switch v {
                case .null: return ""
                case let .string(s): return csvQuote(s ?? "")
                case let .number(d): return d.map { $0.isFinite ? String(format: "%.6g", $0) : "" } ?? ""
                default: return v.render()
                }
            }
            cells += extra.map { csvQuote($0.1) }
            out += cells.joined(separator: ",") + "\n"
        }
        return out
    }

    func csvQuote(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" })
            ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }
}

func fmt(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }
func sci(_ x: Double?) -> String { x.map { String(format: "%.1e", $0) } ?? "—" }
