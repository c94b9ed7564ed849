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
/// thread-safe (OpenCL 1.2 §A.2), hence `@unchecked Sendable`.
public final class CLContext: @unchecked Sendable {
    public let device: CLDevice
    public let context: cl_context
    public let queue: cl_command_queue

    public init(device: CLDevice) throws {
        self.device = device
        var st: cl_int = 0
        var dev: cl_device_id? = device.id
        guard let ctx = clCreateContext(nil, 1, &dev, nil, nil, &st) else {
            throw CLError(status: st == CL_SUCCESS ? CL_INVALID_CONTEXT : st, call: "clCreateContext")
        }
        try clCheck(st, "clCreateContext")
        guard let q = clCreateCommandQueue(ctx, device.id, cl_command_queue_properties(CL_QUEUE_PROFILING_ENABLE), &st),
              st == CL_SUCCESS else {
            clReleaseContext(ctx)
            throw CLError(status: st, call: "clCreateCommandQueue")
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

    /// Blocks until every enqueued command has finished.
    public func finish() throws { try clCheck(clFinish(queue), "clFinish") }

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
        let prog: cl_program? = source.withCString { cs in
            var p: UnsafePointer<CChar>? = cs
            var len = strlen(cs)
            return clCreateProgramWithSource(context.context, 1, &p, &len, &st)
        }
        guard let prog, st == CL_SUCCESS else { throw CLError(status: st, call: "clCreateProgramWithSource") }
        var dev: cl_device_id? = context.device.id
        let bst = clBuildProgram(prog, 1, &dev, options, nil, nil)
        if bst != CL_SUCCESS {
            let log = (try? infoString {
                clGetProgramBuildInfo(prog, context.device.id, cl_program_build_info(CL_PROGRAM_BUILD_LOG), $0, $1, $2)
            }) ?? ""
            clReleaseProgram(prog)
            throw CLError(status: bst, call: "clBuildProgram", buildLog: log)
        }
        program = prog
        CLLiveObjects.created()
    }

    deinit {
        clReleaseProgram(program)
        CLLiveObjects.released()
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
        guard let k = clCreateKernel(program.program, name, &st), st == CL_SUCCESS else {
            throw CLError(status: st, call: "clCreateKernel(\(name))")
        }
        kernel = k
        self.program = program
        self.name = name
        CLLiveObjects.created()
    }

    deinit {
        clReleaseKernel(kernel)
        CLLiveObjects.released()
    }

    /// Sets argument `index` to a plain value (an integer or floating-point scalar).
    public func set<V>(_ index: Int, _ value: V) throws {
        var v = value
        try clCheck(clSetKernelArg(kernel, cl_uint(index), MemoryLayout<V>.size, &v), "clSetKernelArg(\(name), \(index))")
    }

    /// Sets argument `index` to a buffer.
    public func set(_ index: Int, _ buffer: CLBuffer) throws {
        var m: cl_mem? = buffer.mem
        try clCheck(clSetKernelArg(kernel, cl_uint(index), MemoryLayout<cl_mem>.size, &m),
                    "clSetKernelArg(\(name), \(index))")
    }

    /// Sets argument `index` to `bytes` of local memory.
    public func setLocal(_ index: Int, bytes: Int) throws {
        try clCheck(clSetKernelArg(kernel, cl_uint(index), bytes, nil), "clSetKernelArg(\(name), \(index), local)")
    }

    /// Sets all arguments in order.
    public func args(_ values: CLArg...) throws {
        for (i, v) in values.enumerated() {
            switch v {
            case let .buffer(b): try set(i, b)
            case let .int(x): try set(i, Int32(truncatingIfNeeded: x))
            case let .long(x): try set(i, Int64(x))
            case let .local(bytes): try setLocal(i, bytes: bytes)
            case let .bytes(raw): try raw.withUnsafeBytes {
                try clCheck(clSetKernelArg(kernel, cl_uint(i), $0.count, $0.baseAddress), "clSetKernelArg(\(name), \(i))")
            }
            }
        }
    }

    /// Enqueues an NDRange launch (1–3 dimensions). `local` nil lets the driver pick.
    public func launch(on ctx: CLContext, global: [Int], local: [Int]? = nil) throws {
        var g = global
        var l = local ?? []
        try clCheck(clEnqueueNDRangeKernel(ctx.queue, kernel, cl_uint(g.count), nil, &g,
                                           local == nil ? nil : UnsafePointer(&l), 0, nil, nil),
                    "clEnqueueNDRangeKernel(\(name))")
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
        guard let m = clCreateBuffer(context.context, cl_mem_flags(CL_MEM_READ_WRITE), max(bytes, 1), nil, &st),
              st == CL_SUCCESS else {
            throw CLError(status: st, call: "clCreateBuffer(\(bytes) bytes)")
        }
        mem = m
        self.bytes = bytes
        self.context = context
        CLLiveObjects.created()
    }

    deinit {
        clReleaseMemObject(mem)
        CLLiveObjects.released()
    }

    /// Blocking write of `count` bytes from `src` at byte `offset`.
    public func write(from src: UnsafeRawPointer, bytes count: Int, offset: Int = 0) throws {
        if count == 0 { return }
        try clCheck(clEnqueueWriteBuffer(context.queue, mem, cl_bool(CL_TRUE), offset, count, src, 0, nil, nil),
                    "clEnqueueWriteBuffer")
    }

    /// Blocking read of `count` bytes into `dst` from byte `offset`.
    public func read(into dst: UnsafeMutableRawPointer, bytes count: Int, offset: Int = 0) throws {
        if count == 0 { return }
        try clCheck(clEnqueueReadBuffer(context.queue, mem, cl_bool(CL_TRUE), offset, count, dst, 0, nil, nil),
                    "clEnqueueReadBuffer")
    }

    /// Copies `count` bytes from another buffer on the device.
    public func copy(from src: CLBuffer, bytes count: Int, srcOffset: Int = 0, dstOffset: Int = 0) throws {
        if count == 0 { return }
        try clCheck(clEnqueueCopyBuffer(context.queue, src.mem, mem, srcOffset, dstOffset, count, 0, nil, nil),
                    "clEnqueueCopyBuffer")
    }
}
