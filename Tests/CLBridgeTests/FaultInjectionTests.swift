import COpenCL
import Foundation
import Synchronization
import Testing
@_spi(Testing) @testable import CLBridge

// CLFaultInjection: scoped, counted, thread-safe, and it leaves no CL object
// behind. Every test makes its own context, so faults scoped to it cannot
// reach tests running in parallel.

private let source = "__kernel void twice(__global int* x, int n) { int i = get_global_id(0); if (i < n) x[i] *= 2; }"

private func firstDevice() -> CLDevice? { (try? CLDevice.all())?.first }

/// Expects `body` to throw a CLError with `status` from a call whose name starts with `call`.
private func expectCLError(_ status: Int32, _ call: String, sourceLocation: SourceLocation = #_sourceLocation,
                           _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected \(CLError.symbol(status)) from \(call)", sourceLocation: sourceLocation)
    } catch let e as CLError {
        #expect(e.status == status, sourceLocation: sourceLocation)
        #expect(e.call.hasPrefix(call), "\(e.call)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected CLError, got \(error)", sourceLocation: sourceLocation)
    }
}

@Test func faultNamesMatchCallsAndKernels() {
    let f = CLFaultInjection.Armed(call: "clEnqueueNDRangeKernel", status: -5, after: 0, times: 1, scope: .process)
    #expect(f.matches("clEnqueueNDRangeKernel"))
    #expect(f.matches("clEnqueueNDRangeKernel(getrf_tiny)"))
    #expect(!f.matches("clEnqueueNDRangeKernelX"))
    #expect(!f.matches("clEnqueueReadBuffer"))
    let k = CLFaultInjection.Armed(call: "clEnqueueNDRangeKernel(getrf_tiny)", status: -5, after: 0, times: 1, scope: .process)
    #expect(k.matches("clEnqueueNDRangeKernel(getrf_tiny)"))
    #expect(!k.matches("clEnqueueNDRangeKernel(getrf_panel)"))
}

@Test func contextScopedFaultsCountAndStop() throws {
    guard let device = firstDevice() else { return }
    weak var released: CLContext?
    do {
        let ctx = try CLContext(device: device)
        let other = try CLContext(device: device)
        released = ctx
        let refs = ctx.referenceCount
        let fault = CLFaultInjection.fail(call: "clCreateBuffer", status: CL_MEM_OBJECT_ALLOCATION_FAILURE,
                                          after: 2, times: 2, scope: .context(ctx))
        var kept = [try ctx.buffer(bytes: 16), try ctx.buffer(bytes: 16)]   // `after: 2` lets two through
        expectCLError(CL_MEM_OBJECT_ALLOCATION_FAILURE, "clCreateBuffer") { _ = try ctx.buffer(bytes: 16) }
        _ = try other.buffer(bytes: 16)                                     // another context: untouched
        expectCLError(CL_MEM_OBJECT_ALLOCATION_FAILURE, "clCreateBuffer(32 bytes)") { _ = try ctx.buffer(bytes: 32) }
        kept.append(try ctx.buffer(bytes: 16))                               // `times: 2` spent
        #expect(fault.fired == 2)
        #expect(fault.seen == 5)
        #expect(fault.cancel() == 2)
        #expect(fault.cancel() == 2, "cancel is idempotent")
        #expect(ctx.liveObjects == 3)
        // The driver retains the context once per buffer (PoCL does; the spec allows any count).
        #expect(refs > 0 && ctx.referenceCount >= refs)
        kept.removeAll()
        #expect(ctx.liveObjects == 0)
        #expect(ctx.referenceCount == refs, "a driver object of the context leaked")
    }
    #expect(released == nil)
}

@Test func everyCallSiteCanFail() throws {
    guard let device = firstDevice() else { return }
    weak var released: CLContext?
    do {
        let ctx = try CLContext(device: device)
        released = ctx
        let scope = CLFaultInjection.Scope.context(ctx)
        // Each call site fails with the status chosen, and nothing it made survives.
        CLFaultInjection.with(call: "clCreateProgramWithSource", status: CL_OUT_OF_HOST_MEMORY, scope: scope) {
            expectCLError(CL_OUT_OF_HOST_MEMORY, "clCreateProgramWithSource") { _ = try ctx.program(source: source, options: "") }
        }
        let (_, fired) = CLFaultInjection.with(call: "clBuildProgram", status: CL_BUILD_PROGRAM_FAILURE, scope: scope) {
            do {
                _ = try ctx.program(source: source, options: "")
                Issue.record("expected a build failure")
            } catch let e as CLError {
                #expect(e.name == "CL_BUILD_PROGRAM_FAILURE")
                #expect(e.buildLog?.contains("injected") == true)
            } catch { Issue.record("\(error)") }
        }
        #expect(fired == 1)
        #expect(ctx.liveObjects == 0)
        let prog = try ctx.program(source: source, options: "")
        CLFaultInjection.with(call: "clCreateKernel(twice)", status: CL_OUT_OF_RESOURCES, scope: scope) {
            expectCLError(CL_OUT_OF_RESOURCES, "clCreateKernel(twice)") { _ = try prog.kernel("twice") }
        }
        let buf = try ctx.buffer(bytes: 20)
        var data: [Int32] = [1, 2, 3, 4, 5]
        CLFaultInjection.with(call: "clEnqueueWriteBuffer", status: CL_OUT_OF_RESOURCES, scope: scope) {
            expectCLError(CL_OUT_OF_RESOURCES, "clEnqueueWriteBuffer") {
                try data.withUnsafeBytes { try buf.write(from: $0.baseAddress!, bytes: 20) }
            }
        }
        try data.withUnsafeBytes { try buf.write(from: $0.baseAddress!, bytes: 20) }
        let k = try prog.kernel("twice")
        CLFaultInjection.with(call: "clSetKernelArg", status: CL_INVALID_ARG_VALUE, after: 1, scope: scope) {
            expectCLError(CL_INVALID_ARG_VALUE, "clSetKernelArg(twice, 1)") { try k.args(.buffer(buf), .int(5)) }
        }
        try k.args(.buffer(buf), .int(5))
        CLFaultInjection.with(call: "clEnqueueNDRangeKernel(twice)", status: CL_OUT_OF_RESOURCES, scope: scope) {
            expectCLError(CL_OUT_OF_RESOURCES, "clEnqueueNDRangeKernel(twice)") { try k.launch(on: ctx, global: [5]) }
        }
        // The failed launch did not run: one launch doubles once.
        try k.launch(on: ctx, global: [5])
        CLFaultInjection.with(call: "clFinish", status: CL_OUT_OF_RESOURCES, scope: scope) {
            expectCLError(CL_OUT_OF_RESOURCES, "clFinish") { try ctx.finish() }
        }
        try ctx.finish()
        CLFaultInjection.with(call: "clEnqueueReadBuffer", status: CL_OUT_OF_RESOURCES, scope: scope) {
            expectCLError(CL_OUT_OF_RESOURCES, "clEnqueueReadBuffer") {
                try data.withUnsafeMutableBytes { try buf.read(into: $0.baseAddress!, bytes: 20) }
            }
        }
        try data.withUnsafeMutableBytes { try buf.read(into: $0.baseAddress!, bytes: 20) }
        #expect(data == [2, 4, 6, 8, 10])
        let copy = try ctx.buffer(bytes: 20)
        CLFaultInjection.with(call: "clEnqueueCopyBuffer", status: CL_MEM_OBJECT_ALLOCATION_FAILURE, scope: scope) {
            expectCLError(CL_MEM_OBJECT_ALLOCATION_FAILURE, "clEnqueueCopyBuffer") { try copy.copy(from: buf, bytes: 20) }
        }
        #expect(ctx.liveObjects == 4)   // prog, k, buf, copy
    }
    #expect(released == nil, "CL objects leaked")
}

@Test func threadScopedFaultsForCallsWithoutAContext() throws {
    guard let device = firstDevice() else { return }
    let scope = CLFaultInjection.Scope.currentThread
    CLFaultInjection.with(call: "clGetDeviceIDs", status: CL_DEVICE_NOT_AVAILABLE, scope: scope) {
        expectCLError(CL_DEVICE_NOT_AVAILABLE, "clGetDeviceIDs") { _ = try CLDevice.all() }
        // Another thread is not affected.
        let other = OtherThread.run { (try? CLDevice.all())?.isEmpty == false }
        #expect(other)
    }
    CLFaultInjection.with(call: "clGetPlatformIDs", status: CL_OUT_OF_HOST_MEMORY, scope: scope) {
        expectCLError(CL_OUT_OF_HOST_MEMORY, "clGetPlatformIDs") { _ = try CLPlatform.all() }
    }
    CLFaultInjection.with(call: "clGet*Info", status: CL_INVALID_VALUE, scope: scope) {
        expectCLError(CL_INVALID_VALUE, "clGet*Info") { _ = try CLDevice.all() }
    }
    CLFaultInjection.with(call: "clCreateContext", status: CL_DEVICE_NOT_AVAILABLE, scope: scope) {
        expectCLError(CL_DEVICE_NOT_AVAILABLE, "clCreateContext") { _ = try CLContext(device: device) }
    }
    CLFaultInjection.with(call: "clCreateCommandQueue", status: CL_OUT_OF_RESOURCES, scope: scope) {
        expectCLError(CL_OUT_OF_RESOURCES, "clCreateCommandQueue") { _ = try CLContext(device: device) }
    }
    #expect(try !CLDevice.all().isEmpty)
}

/// Faults armed, fired and cancelled from many threads at once stay with
/// their own context.
@Test func faultsAreThreadSafe() throws {
    guard let device = firstDevice() else { return }
    let contexts = try (0..<8).map { _ in try CLContext(device: device) }
    let failures = Atomic8()
    DispatchQueue.concurrentPerform(iterations: 8) { t in
        let ctx = contexts[t]
        for round in 0..<50 {
            let f = CLFaultInjection.fail(call: "clCreateBuffer", status: CL_OUT_OF_RESOURCES, after: round % 3,
                                          times: 1, scope: .context(ctx))
            var thrown = 0
            for _ in 0..<4 {
                do { _ = try ctx.buffer(bytes: 8) } catch { thrown += 1 }
            }
            if f.cancel() != 1 || thrown != 1 { failures.bump() }
        }
    }
    #expect(failures.value == 0)
    #expect(contexts.allSatisfy { $0.liveObjects == 0 })
}

/// A counter shared between threads.
private final class Atomic8: Sendable {
    private let n = Mutex(0)
    func bump() { n.withLock { $0 += 1 } }
    var value: Int { n.withLock { $0 } }
}

/// Runs `body` on a new thread and waits for it.
private enum OtherThread {
    static func run(_ body: @escaping @Sendable () -> Bool) -> Bool {
        let box = Atomic8()
        let done = DispatchSemaphore(value: 0)
        let t = Thread {
            if body() { box.bump() }
            done.signal()
        }
        t.start()
        done.wait()
        return box.value == 1
    }
}
