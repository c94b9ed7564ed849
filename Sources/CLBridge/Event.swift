import COpenCL

/// A command's event: wait for it, or read its profiling timestamps (the
/// queue is created with `CL_QUEUE_PROFILING_ENABLE`). Released in `deinit`.
public final class CLEvent: @unchecked Sendable {
    // An event handle is immutable; clWaitForEvents / clGetEventProfilingInfo are thread-safe.
    public let event: cl_event
    let context: CLContext

    init(_ event: cl_event, context: CLContext) {
        self.event = event
        self.context = context
        context.objectCreated()
    }

    deinit {
        clReleaseEvent(event)
        context.objectReleased()
    }

    /// Blocks until the command has finished.
    public func wait() throws {
        var e: cl_event? = event
        try clCheck(clWaitForEvents(1, &e), "clWaitForEvents")
    }

    /// The command's profiling timestamps in device nanoseconds
    /// (`CL_PROFILING_COMMAND_QUEUED/SUBMIT/START/END`), after ``wait()``.
    public func profile() throws -> (queued: UInt64, submitted: UInt64, started: UInt64, ended: UInt64) {
        func stamp(_ p: Int32) throws -> UInt64 {
            UInt64(try infoValue(cl_ulong.self) { clGetEventProfilingInfo(event, cl_profiling_info(p), $0, $1, $2) })
        }
        return (try stamp(CL_PROFILING_COMMAND_QUEUED), try stamp(CL_PROFILING_COMMAND_SUBMIT),
                try stamp(CL_PROFILING_COMMAND_START), try stamp(CL_PROFILING_COMMAND_END))
    }

    /// Device time the command ran, in seconds.
    public func seconds() throws -> Double {
        let p = try profile()
        return Double(p.ended &- p.started) * 1e-9
    }
}

extension CLKernel {
    /// Like ``launch(on:global:local:)``, returning the launch's event.
    public func launchWithEvent(on ctx: CLContext, global: [Int], local: [Int]? = nil) throws -> CLEvent {
        var ev: cl_event?
        try global.withUnsafeBufferPointer { g in
            try (local ?? []).withUnsafeBufferPointer { l in
                try clCall("clEnqueueNDRangeKernel(\(name))", context: ctx) {
                    clEnqueueNDRangeKernel(ctx.queue, kernel, cl_uint(g.count), nil, g.baseAddress,
                                           local == nil ? nil : l.baseAddress, 0, nil, &ev)
                }
            }
        }
        guard let ev else { throw CLError(status: CL_INVALID_EVENT, call: "clEnqueueNDRangeKernel(\(name))") }
        return CLEvent(ev, context: ctx)
    }
}
