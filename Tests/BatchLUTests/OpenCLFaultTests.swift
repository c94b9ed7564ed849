import COpenCL
import ComplexModule
import Foundation
import Testing
@_spi(Testing) import CLBridge
@testable import BatchLU

// Driver failures injected into chosen cl* calls (CLFaultInjection), on
// OpenCL backends that own their context (`isolated`), with every fault
// scoped to that context (or, for calls made before a context exists, to
// the test's thread): tests running in parallel are never hit.
//
// For each fault and each operation: a named backend throws
// `backendUnavailable` naming the CL status and call, returns nothing
// partial and leaks no CL object; the same call without the fault succeeds
// and agrees with the CPU; the automatic choice's wrapper falls back to the
// CPU (bit-for-bit the CPU's result) with one warning per call.

/// A blocked table without CLBlast (its first use compiles for ~10 s per
/// context on PoCL): 3-column panels, two work-groups per launch.
private let blockedTable = OpenCLDispatchTable(tinyMaxN: 0, blockSize: 3, groupSize: 8, maxGroupsPerLaunch: 2,
                                               clblastMinSize: 1 << 20)

@Suite(.serialized, .enabled(if: TestBackend.openCLAvailable))
struct OpenCLFaultTests {
    /// Faults injected by this suite (reported in the log, for the figures).
    static let injected = MessageBox()

    static func isolated(blocked: Bool = false) throws -> OpenCLBackend {
        var be = try OpenCLBackend(device: nil, table: blocked ? blockedTable : nil, isolated: true)
        if blocked { be.chunkBytesLimit = 2 * 7 * 7 * 8 }   // two 7 × 7 Double matrices per chunk
        return be
    }

    static func inputs() throws -> OpInputs<Double> { try OpInputs<Double>.make(batch: [3], n: 7, seed: 500) }

    /// The CPU's results for every op (the reference).
    static func reference(_ x: OpInputs<Double>) throws -> [Op: Outcome] {
        var r = [Op: Outcome]()
        for op in Op.allCases { r[op] = try perform(op, x, .cpu) }
        return r
    }

    /// Expects `body` to throw backendUnavailable from `backend`, naming `status` and `call`.
    static func expectUnavailable(_ backend: String, _ status: Int32, _ call: String, _ what: String,
                                  sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Outcome) {
        do {
            let r = try body()
            Issue.record("\(what): expected backendUnavailable, got \(r)", sourceLocation: sourceLocation)
        } catch let BatchLUError.backendUnavailable(name, reason) {
            #expect(name == backend, sourceLocation: sourceLocation)
            #expect(reason.contains(CLError.symbol(status)) && reason.contains(call), "\(what): \(reason)",
                    sourceLocation: sourceLocation)
        } catch {
            Issue.record("\(what): expected backendUnavailable, got \(error)", sourceLocation: sourceLocation)
        }
    }

    /// Sweeps one fault over the call sites of every op: counts the matching
    /// calls of a clean run, then fails (once) at up to `points` of them.
    /// Each failing run throws and leaves the context's live objects and the
    /// driver's reference count where they were; then a clean run agrees with
    /// the CPU.
    func sweep(call: String, status: Int32, blocked: Bool, points: Int = 10) throws {
        let x = try Self.inputs()
        let ref = try Self.reference(x)
        weak var weakCtx: CLContext?
        var injected = 0
        do {
            let be = try Self.isolated(blocked: blocked)
            let ctx = be.runtime.context
            weakCtx = ctx
            let scope = CLFaultInjection.Scope.context(ctx)
            // Resident factors for solve, backward and unpack, made before any fault.
            let resident = try luFactorEx(x.a, backend: .custom(be))
            for op in Op.allCases {
                let factors = op == .factor || op == .det || op == .slogdet ? nil : resident
                // Count the matching calls of a clean run (a fault that never fires).
                let counter = CLFaultInjection.fail(call: call, status: status, after: .max, scope: scope)
                _ = try perform(op, x, .custom(be), factors: factors)
                let calls = counter.seen
                counter.cancel()
                #expect(calls > 0, "\(op) made no \(call) call")
                try ctx.finish()
                let live = ctx.liveObjects, refs = ctx.referenceCount
                for k in samplePoints(calls, limit: points) {
                    let (_, fired) = CLFaultInjection.with(call: call, status: status, after: k, times: 1, scope: scope) {
                        Self.expectUnavailable(be.name, status, call, "\(op) failing at \(call) #\(k)") {
                            try perform(op, x, .custom(be), factors: factors)
                        }
                    }
                    #expect(fired == 1)
                    injected += fired
                    // Nothing of the failed call survives (commands already enqueued finish first).
                    try ctx.finish()
                    #expect(ctx.liveObjects == live, "\(op) failing at \(call) #\(k) leaked CL objects")
                    #expect(settledReferenceCount(ctx, refs) <= refs, "\(op) failing at \(call) #\(k) leaked a driver object")
                }
                // Without the fault: the same call succeeds and agrees with the CPU.
                let ok = try perform(op, x, .custom(be), factors: factors)
                #expect(ok.agrees(with: ref[op]!, tol: 1e-12), "\(op) after \(call) faults: \(ok) vs \(ref[op]!)")
            }
            #expect(be.runtime.programs.stats.builds == 1)
            _ = resident
        }
        // Everything the backend made (factors, cached program) is released with it.
        #expect(weakCtx == nil, "the context outlived its backend: CL objects leaked")
        Self.injected.append("\(call) \(CLError.symbol(status)) blocked=\(blocked): \(injected)")
        print("OpenCLFaultTests: \(call) \(CLError.symbol(status)) (\(blocked ? "blocked" : "tiny") path): \(injected) faults injected")
    }

    @Test func launchOutOfResources() throws {
        try sweep(call: "clEnqueueNDRangeKernel", status: CL_OUT_OF_RESOURCES, blocked: false)
        try sweep(call: "clEnqueueNDRangeKernel", status: CL_OUT_OF_RESOURCES, blocked: true)
    }

    @Test func launchAllocationFailure() throws {
        try sweep(call: "clEnqueueNDRangeKernel", status: CL_MEM_OBJECT_ALLOCATION_FAILURE, blocked: true, points: 4)
    }

    @Test func bufferAllocationFailure() throws {
        try sweep(call: "clCreateBuffer", status: CL_MEM_OBJECT_ALLOCATION_FAILURE, blocked: false)
        try sweep(call: "clCreateBuffer", status: CL_MEM_OBJECT_ALLOCATION_FAILURE, blocked: true)
    }

    @Test func transferFailures() throws {
        try sweep(call: "clEnqueueWriteBuffer", status: CL_OUT_OF_RESOURCES, blocked: true, points: 4)
        try sweep(call: "clEnqueueReadBuffer", status: CL_OUT_OF_RESOURCES, blocked: true, points: 4)
    }
}

extension OpenCLFaultTests {
    /// A build failure on a context whose program cache is empty: every op
    /// throws (and caches nothing); once the fault is gone the program builds
    /// once and every op agrees with the CPU.
    @Test func buildFailure() throws {
        let x = try Self.inputs()
        let ref = try Self.reference(x)
        let host = try luFactorEx(x.a, backend: .cpu)
        weak var weakCtx: CLContext?
        do {
            let be = try Self.isolated()
            let ctx = be.runtime.context
            weakCtx = ctx
            let refs = ctx.referenceCount
            var injected = 0
            for op in Op.allCases {
                let factors = op == .factor || op == .det || op == .slogdet ? nil : host
                let (_, fired) = CLFaultInjection.with(call: "clBuildProgram", status: CL_BUILD_PROGRAM_FAILURE,
                                                       scope: .context(ctx)) {
                    Self.expectUnavailable(be.name, CL_BUILD_PROGRAM_FAILURE, "clBuildProgram", "\(op)") {
                        try perform(op, x, .custom(be), factors: factors)
                    }
                }
                #expect(fired == 1, "\(op)")
                injected += fired
                #expect(be.runtime.programs.stats.programs == 0, "a failed build was cached")
                #expect(ctx.liveObjects == 0)
                #expect(settledReferenceCount(ctx, refs) <= refs)
            }
            for op in Op.allCases {
                let factors = op == .factor || op == .det || op == .slogdet ? nil : host
                let ok = try perform(op, x, .custom(be), factors: factors)
                #expect(ok.agrees(with: ref[op]!, tol: 1e-12), "\(op)")
            }
            #expect(be.runtime.programs.stats.builds == 1)
            print("OpenCLFaultTests: clBuildProgram CL_BUILD_PROGRAM_FAILURE: \(injected) faults injected")
        }
        #expect(weakCtx == nil)
    }

    /// CL_DEVICE_NOT_AVAILABLE while listing devices or creating the context
    /// (thread-scoped: these calls have no context yet).
    @Test func deviceNotAvailable() throws {
        let x = try Self.inputs()
        let ref = try Self.reference(x)
        let thread = CLFaultInjection.Scope.currentThread
        // Through the API: a named device whose backend is not made yet (a
        // key no other test uses) goes through clGetDeviceIDs.
        let key = try OpenCLBackend().deviceName.uppercased()
        var injected = 0
        for op in Op.allCases {
            let (_, fired) = CLFaultInjection.with(call: "clGetDeviceIDs", status: CL_DEVICE_NOT_AVAILABLE, scope: thread) {
                Self.expectUnavailable("opencl:\(key)", CL_DEVICE_NOT_AVAILABLE, "clGetDeviceIDs", "\(op)") {
                    try perform(op, x, .opencl(device: key))
                }
            }
            #expect(fired >= 1)
            injected += fired
        }
        for op in Op.allCases {
            #expect(try perform(op, x, .opencl(device: key)).agrees(with: ref[op]!, tol: 1e-12), "\(op)")
        }
        // A backend with a context of its own: the device lost at clGetDeviceIDs or at clCreateContext.
        for call in ["clGetDeviceIDs", "clCreateContext"] {
            let (_, fired) = CLFaultInjection.with(call: call, status: CL_DEVICE_NOT_AVAILABLE, scope: thread) {
                Self.expectUnavailable("opencl", CL_DEVICE_NOT_AVAILABLE, call, call) {
                    _ = try Self.isolated()
                    return Outcome()
                }
            }
            #expect(fired == 1)
            injected += fired
        }
        let be = try Self.isolated()
        for op in Op.allCases {
            #expect(try perform(op, x, .custom(be)).agrees(with: ref[op]!, tol: 1e-12), "\(op)")
        }
        print("OpenCLFaultTests: CL_DEVICE_NOT_AVAILABLE: \(injected) faults injected")
    }

    /// The automatic choice's wrapper: under a fault every op runs on the CPU
    /// (bit for bit the CPU's result) with a warning naming the CL failure;
    /// without it, on the device.
    @Test func automaticChoiceFallsBack() throws {
        let x = try Self.inputs()
        let ref = try Self.reference(x)
        let faults: [(String, Int32)] = [("clBuildProgram", CL_BUILD_PROGRAM_FAILURE),
                                         ("clEnqueueNDRangeKernel", CL_OUT_OF_RESOURCES),
                                         ("clCreateBuffer", CL_MEM_OBJECT_ALLOCATION_FAILURE),
                                         ("clEnqueueReadBuffer", CL_OUT_OF_RESOURCES)]
        var injected = 0
        for (call, status) in faults {
            weak var weakCtx: CLContext?
            do {
                let warnings = MessageBox()
                let be = try Self.isolated(blocked: call == "clEnqueueNDRangeKernel")
                weakCtx = be.runtime.context
                let auto = BackendChoice.custom(OpenCLWithCPUFallback(be, warn: { warnings.append($0) }))
                for op in Op.allCases {
                    let before = warnings.all.count
                    let (r, fired) = try CLFaultInjection.with(call: call, status: status, scope: .context(be.runtime.context)) {
                        try perform(op, x, auto)
                    }
                    injected += fired
                    #expect(fired >= 1, "\(op) under \(call)")
                    #expect(r.identical(to: ref[op]!), "\(op) under \(call): not the CPU's result")
                    if op == .factor { #expect(r.backend == "cpu") }
                    let new = warnings.all.dropFirst(before)
                    #expect(!new.isEmpty && new.allSatisfy { $0.contains(CLError.symbol(status)) && $0.contains("CPU") },
                            "\(op) under \(call): \(Array(new))")
                    #expect(be.runtime.context.liveObjects == be.runtime.programs.stats.programs)
                }
                let before = warnings.all.count
                for op in Op.allCases {
                    let r = try perform(op, x, auto)
                    #expect(r.agrees(with: ref[op]!, tol: 1e-12), "\(op)")
                    if op == .factor { #expect(r.backend == be.name) }
                }
                #expect(warnings.all.count == before, "a warning without a fault")
            }
            #expect(weakCtx == nil)
        }
        // A fault in one kernel only: the factorization stays on the device, det falls back.
        let warnings = MessageBox()
        let be = try Self.isolated()
        let auto = BackendChoice.custom(OpenCLWithCPUFallback(be, warn: { warnings.append($0) }))
        let (r, fired) = try CLFaultInjection.with(call: "clEnqueueNDRangeKernel(det_batched)", status: CL_OUT_OF_RESOURCES,
                                                   scope: .context(be.runtime.context)) {
            try perform(.det, x, auto)
        }
        injected += fired
        #expect(fired == 2 && warnings.all.count == 2 && warnings.all.allSatisfy { $0.contains("det failed") })
        #expect(r.agrees(with: ref[.det]!, tol: 1e-12))
        print("OpenCLFaultTests: automatic fallback: \(injected) faults injected")
    }
}

/// The driver's reference count of `ctx`, after giving the driver up to 2 s
/// to drop references it still holds for commands that just finished (PoCL
/// releases some of them from its worker threads, after `clFinish` returns;
/// seen under ASan, where even the baseline can be caught high). A leak
/// stays above the baseline; a count below it only means the driver caught
/// up. Our own objects are counted exactly by `liveObjects`.
func settledReferenceCount(_ ctx: CLContext, _ target: Int) -> Int {
    var count = ctx.referenceCount
    var waited = 0
    while count > target && waited < 200 {
        usleep(10_000)
        waited += 1
        count = ctx.referenceCount
    }
    return count
}
