import Testing
@testable import CLBridge

@Test func symbolicNames() {
    #expect(CLError.symbol(-5) == "CL_OUT_OF_RESOURCES")
    #expect(CLError.symbol(-4) == "CL_MEM_OBJECT_ALLOCATION_FAILURE")
    #expect(CLError(status: -11, call: "clBuildProgram", buildLog: "error: x").description.contains("CL_BUILD_PROGRAM_FAILURE"))
}

/// On a machine with PoCL (CI installs it) the bridge lists a device, builds
/// a program, runs a kernel and reads the result back; a build error carries
/// the log. Skipped where no OpenCL platform exists.
@Test func roundTripOnFirstDevice() throws {
    guard let device = (try? CLDevice.all())?.first else { return }
    // Buffers, programs and kernels retain their context, so the context
    // being freed proves every object made from it was released.
    weak var released: CLContext?
    do {
        let ctx = try CLContext(device: device)
        released = ctx
        let prog = try ctx.program(source: "__kernel void twice(__global int* x, int n) { int i = get_global_id(0); if (i < n) x[i] *= 2; }",
                                   options: "")
        let buf = try ctx.buffer(bytes: 4 * 5)
        var data: [Int32] = [1, 2, 3, 4, 5]
        try data.withUnsafeBytes { try buf.write(from: $0.baseAddress!, bytes: 20) }
        let k = try prog.kernel("twice")
        try k.args(.buffer(buf), .int(5))
        try k.launch(on: ctx, global: [5])
        try data.withUnsafeMutableBytes { try buf.read(into: $0.baseAddress!, bytes: 20) }
        #expect(data == [2, 4, 6, 8, 10])
        do {
            _ = try ctx.program(source: "__kernel void broken( { }", options: "")
            Issue.record("expected a build failure")
        } catch let e as CLError {
            #expect(e.name == "CL_BUILD_PROGRAM_FAILURE")
            #expect(!(e.buildLog ?? "").isEmpty)
        }
        #expect(throws: CLError.self) { try prog.kernel("nonexistent") }
    }
    #expect(released == nil, "CL objects leaked")
}

/// A launch's event can be waited on and profiled; timestamps are ordered.
@Test func eventProfiling() throws {
    guard let device = (try? CLDevice.all())?.first else { return }
    let ctx = try CLContext(device: device)
    let prog = try ctx.program(source: "__kernel void fill(__global float* x) { x[get_global_id(0)] = 1.0f; }", options: "")
    let buf = try ctx.buffer(bytes: 4 * 1024)
    let k = try prog.kernel("fill")
    try k.args(.buffer(buf))
    let ev = try k.launchWithEvent(on: ctx, global: [1024], local: [64])
    try ev.wait()
    let p = try ev.profile()
    #expect(p.queued <= p.submitted && p.submitted <= p.started && p.started <= p.ended)
    #expect(try ev.seconds() >= 0)
    var out = [Float](repeating: 0, count: 1024)
    try out.withUnsafeMutableBytes { try buf.read(into: $0.baseAddress!, bytes: 4096) }
    #expect(out.allSatisfy { $0 == 1 })
}
