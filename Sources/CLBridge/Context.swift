import COpenCL
import Glibc
import Synchronization

/// Live CL objects created through CLBridge (debug bookkeeping for leak checks).
public enum CLLiveObjects {
    static let counter = Atomic<Int>(0)
    public static var count: Int { counter.load(ordering: .relaxed) }
    static func created() { counter.add(1, ordering: .relaxed) }
    static func released() { counter.subtract(1, ordering: .relaxed) }
}

/// One context and one in-order command queue on one device. Owns both
/// handles and releases them in `deinit`. OpenCL contexts and queues are
/// thread-safe (OpenCL 1.2 §A.2), and the Swift state is immutable apart
/// from an atomic counter, hence `@unchecked Sendable`.
public final class CLContext: @unchecked Sendable {
    public let device: CLDevice
    public let context: cl_context
    public let queue: cl_command_queue
    /// Programs, kernels and buffers of this context alive now.
    let children = Atomic<Int>(0)

    public init(device: CLDevice) throws {
        self.device = device
        var st: cl_int = 0
        var dev: cl_device_id? = device.id
        try clInjected("clCreateContext")
        guard let ctx = clCreateContext(nil, 1, &dev, nil, nil, &st) else {
            throw CLError(status: st == CL_SUCCESS ? CL_INVALID_CONTEXT : st, call: "clCreateContext")
        }
        guard st == CL_SUCCESS else {
            clReleaseContext(ctx)
            throw CLError(status: st, call: "clCreateContext")
        }
        do { try clInjected("clCreateCommandQueue") } catch {
            clReleaseContext(ctx)
            throw error
        }
        let q = clCreateCommandQueue(ctx, device.id, cl_command_queue_properties(CL_QUEUE_PROFILING_ENABLE), &st)
        guard let q, st == CL_SUCCESS else {
            if let q { clReleaseCommandQueue(q) }
            clReleaseContext(ctx)
            throw CLError(status: st == CL_SUCCESS ? CL_INVALID_COMMAND_QUEUE : st, call: "clCreateCommandQueue")
        }
        context = ctx
        queue = q
        CLLiveObjects.created()
        CLLiveObjects.created()
    }

    deinit {
        clReleaseCommandQueue(queue)
        clReleaseContext(context)
        CLLiveObjects.released()
        CLLiveObjects.released()
    }

    /// Programs, kernels and buffers created on this context and not yet
    /// released (a per-context slice of ``CLLiveObjects``, for leak checks).
    public var liveObjects: Int { children.load(ordering: .relaxed) }

    /// The driver's reference count of the context (`CL_CONTEXT_REFERENCE_COUNT`):
    /// drivers retain the context for every object made from it, so a count
    /// back at its earlier value shows that no driver object of this context
    /// leaked. -1 if the query fails. (The spec calls the value immediately
    /// stale; use it only when no other thread uses this context.)
    @_spi(Testing) public var referenceCount: Int {
        let v = try? infoValue(cl_uint.self) {
            clGetContextInfo(context, cl_context_info(CL_CONTEXT_REFERENCE_COUNT), $0, $1, $2)
        }
        return v.map { Int($0) } ?? -1
    }

    /// Bookkeeping for an object made from this context (program, kernel,
    /// buffer, event): the process-wide and the per-context live counts.
    func objectCreated() {
        CLLiveObjects.created()
        children.add(1, ordering: .relaxed)
    }

    func objectReleased() {
        CLLiveObjects.released()
        children.subtract(1, ordering: .relaxed)
    }

    /// Blocks until every enqueued command has finished.
    public func finish() throws { try clCall("clFinish", context: self) { clFinish(queue) } }

    /// Builds a program from source; a failure carries the build log.
    public func program(source: String, options: String) throws -> CLProgram {
        try CLProgram(context: self, source: source, options: options)
    }

    /// A device buffer of `bytes` bytes (at least 1).
    public func buffer(bytes: Int) throws -> CLBuffer { try CLBuffer(context: self, bytes: bytes) }
}

/// A built program. Kernels are created from it per launch (kernel objects
/// are not thread-safe for `clSetKernelArg`; programs are).
public final class CLProgram: @unchecked Sendable {
    public let program: cl_program
    public let context: CLContext

    init(context: CLContext, source: String, options: String) throws {
        self.context = context
        var st: cl_int = 0
        try clInjected("clCreateProgramWithSource", context: context)
        let prog: cl_program? = source.withCString { cs in
            var p: UnsafePointer<CChar>? = cs
            var len = strlen(cs)
            return clCreateProgramWithSource(context.context, 1, &p, &len, &st)
        }
        guard let prog, st == CL_SUCCESS else {
            if let prog { clReleaseProgram(prog) }
            throw CLError(status: st == CL_SUCCESS ? CL_INVALID_PROGRAM : st, call: "clCreateProgramWithSource")
        }
        var dev: cl_device_id? = context.device.id
        let injected = CLFaultInjection.intercept("clBuildProgram", context: context)
        let bst = injected ?? clBuildProgram(prog, 1, &dev, options, nil, nil)
        if bst != CL_SUCCESS {
            let log = injected != nil ? "(failure injected by CLFaultInjection)" : (try? infoString {
                clGetProgramBuildInfo(prog, context.device.id, cl_program_build_info(CL_PROGRAM_BUILD_LOG), $0, $1, $2)
            }) ?? ""
            clReleaseProgram(prog)
            throw CLError(status: bst, call: "clBuildProgram", buildLog: log)
        }
        program = prog
        context.objectCreated()
    }

    deinit {
        clReleaseProgram(program)
        context.objectReleased()
    }

    public func kernel(_ name: String) throws -> CLKernel { try CLKernel(program: self, name: name) }
}

/// A kernel and its arguments. Use from one thread at a time.
public final class CLKernel {
    public let kernel: cl_kernel
    let program: CLProgram
    public let name: String

    init(program: CLProgram, name: String) throws {
        var st: cl_int = 0
        try clInjected("clCreateKernel(\(name))", context: program.context)
        let k = clCreateKernel(program.program, name, &st)
        guard let k, st == CL_SUCCESS else {
            if let k { clReleaseKernel(k) }
            throw CLError(status: st == CL_SUCCESS ? CL_INVALID_KERNEL : st, call: "clCreateKernel(\(name))")
        }
        kernel = k
        self.program = program
        self.name = name
        program.context.objectCreated()
    }

    deinit {
        clReleaseKernel(kernel)
        program.context.objectReleased()
    }

    /// Sets argument `index` to a plain value (an integer or floating-point scalar).
    public func set<V>(_ index: Int, _ value: V) throws {
        try withUnsafeBytes(of: value) { p in
            try clCall("clSetKernelArg(\(name), \(index))", context: program.context) {
                clSetKernelArg(kernel, cl_uint(index), p.count, p.baseAddress)
            }
        }
    }

    /// Sets argument `index` to a buffer.
    public func set(_ index: Int, _ buffer: CLBuffer) throws {
        var m: cl_mem? = buffer.mem
        try clCall("clSetKernelArg(\(name), \(index))", context: program.context) {
            clSetKernelArg(kernel, cl_uint(index), MemoryLayout<cl_mem>.size, &m)
        }
    }

    /// Sets argument `index` to `bytes` of local memory.
    public func setLocal(_ index: Int, bytes: Int) throws {
        try clCall("clSetKernelArg(\(name), \(index), local)", context: program.context) {
            clSetKernelArg(kernel, cl_uint(index), bytes, nil)
        }
    }

    /// Sets all arguments in order.
    public func args(_ values: CLArg...) throws {
        for (i, v) in values.enumerated() {
            switch v {
            case let .buffer(b): try set(i, b)
            case let .int(x): try set(i, Int32(truncatingIfNeeded: x))
            case let .long(x): try set(i, Int64(x))
            case let .local(bytes): try setLocal(i, bytes: bytes)
            case let .bytes(raw): try raw.withUnsafeBytes { p in
                try clCall("clSetKernelArg(\(name), \(i))", context: program.context) {
                    clSetKernelArg(kernel, cl_uint(i), p.count, p.baseAddress)
                }
            }
            }
        }
    }

    /// Enqueues an NDRange launch (1–3 dimensions). `local` nil lets the driver pick.
    public func launch(on ctx: CLContext, global: [Int], local: [Int]? = nil) throws {
        try global.withUnsafeBufferPointer { g in
            try (local ?? []).withUnsafeBufferPointer { l in
                try clCall("clEnqueueNDRangeKernel(\(name))", context: ctx) {
                    clEnqueueNDRangeKernel(ctx.queue, kernel, cl_uint(g.count), nil, g.baseAddress,
                                           local == nil ? nil : l.baseAddress, 0, nil, nil)
                }
            }
        }
    }
}

/// A kernel argument.
public enum CLArg {
    case buffer(CLBuffer)
    /// A 32-bit `int` argument.
    case int(Int)
    /// A 64-bit `long` argument.
    case long(Int)
    /// Local memory of this many bytes.
    case local(Int)
    /// Raw bytes (a `float`/`double`/`float2`/`double2` value).
    case bytes([UInt8])
}

/// A device buffer. Released in `deinit`.
public final class CLBuffer: @unchecked Sendable {
    public let mem: cl_mem
    public let bytes: Int
    let context: CLContext

    init(context: CLContext, bytes: Int) throws {
        var st: cl_int = 0
        try clInjected("clCreateBuffer(\(bytes) bytes)", context: context)
        let m = clCreateBuffer(context.context, cl_mem_flags(CL_MEM_READ_WRITE), max(bytes, 1), nil, &st)
        guard let m, st == CL_SUCCESS else {
            if let m { clReleaseMemObject(m) }
            throw CLError(status: st == CL_SUCCESS ? CL_INVALID_MEM_OBJECT : st, call: "clCreateBuffer(\(bytes) bytes)")
        }
        mem = m
        self.bytes = bytes
        self.context = context
        context.objectCreated()
    }

    deinit {
        clReleaseMemObject(mem)
        context.objectReleased()
    }

    /// Blocking write of `count` bytes from `src` at byte `offset`.
    public func write(from src: UnsafeRawPointer, bytes count: Int, offset: Int = 0) throws {
        if count == 0 { return }
        try clCall("clEnqueueWriteBuffer", context: context) {
            clEnqueueWriteBuffer(context.queue, mem, cl_bool(CL_TRUE), offset, count, src, 0, nil, nil)
        }
    }

    /// Blocking read of `count` bytes into `dst` from byte `offset`.
    public func read(into dst: UnsafeMutableRawPointer, bytes count: Int, offset: Int = 0) throws {
        if count == 0 { return }
        try clCall("clEnqueueReadBuffer", context: context) {
            clEnqueueReadBuffer(context.queue, mem, cl_bool(CL_TRUE), offset, count, dst, 0, nil, nil)
        }
    }

    /// Copies `count` bytes from another buffer on the device.
    public func copy(from src: CLBuffer, bytes count: Int, srcOffset: Int = 0, dstOffset: Int = 0) throws {
        if count == 0 { return }
        try clCall("clEnqueueCopyBuffer", context: context) {
            clEnqueueCopyBuffer(context.queue, src.mem, mem, srcOffset, dstOffset, count, 0, nil, nil)
        }
    }
}
