import CLBridge
import Kernels

/// The OpenCL backend: batched kernels from `kernels/*.cl`, compiled once
/// per device and element type. Tiny matrices factor in one work-group each,
/// in local memory; larger ones in a blocked right-looking algorithm (panel,
/// row interchanges, batched `trsm`, batched `gemm`). Solves and the
/// backward run on the device, reusing the factors the forward left there.
public struct OpenCLBackend: LUBackend {
    let runtime: OpenCLRuntime
    /// Thresholds and launch shapes; defaults to the device kind's row.
    public var table: DispatchTable
    /// Caps the bytes of one chunk of the batch (a test hook to force
    /// chunking); `nil` uses the device's limits.
    public var chunkBytesLimit: Int?

    /// The device's name.
    public var deviceName: String { runtime.device.name }
    public var name: String { "opencl:\(runtime.device.name)" }
    /// Whether the device runs `Double` and `Complex<Double>` (`cl_khr_fp64`).
    public var supportsFP64: Bool { runtime.device.hasFP64 }
    /// Whether the device is a GPU or accelerator (the automatic choice uses only these).
    public var isGPUOrAccelerator: Bool { runtime.device.isGPUOrAccelerator }

    /// The first OpenCL device (any type, PoCL's CPU device included) whose
    /// name contains `device`, or the first device.
    /// - Throws: ``BatchLUError/backendUnavailable(backend:reason:)`` when
    ///   there is no platform, no device, or no matching device.
    public init(device substring: String? = nil, table: DispatchTable? = nil) throws {
        try self.init(device: substring, table: table, isolated: false)
    }

    /// `isolated`: a runtime of its own (fresh context, empty program cache)
    /// instead of the process-wide one of the device; for tests.
    init(device substring: String?, table: DispatchTable?, isolated: Bool) throws {
        let what = substring.map { "opencl:\($0)" } ?? "opencl"
        let devices: [CLDevice]
        do { devices = try OpenCLRuntime.devices() } catch {
            throw BatchLUError.backendUnavailable(backend: what, reason: "cannot list OpenCL devices: \(error)")
        }
        let match = devices.first { d in substring.map { d.name.localizedLowercase.contains($0.lowercased()) } ?? true }
        guard let dev = match else {
            throw BatchLUError.backendUnavailable(
                backend: what, reason: "no OpenCL device matches; devices: \(devices.map(\.name))")
        }
        do { runtime = try isolated ? OpenCLRuntime.isolated(dev) : OpenCLRuntime.shared(dev) } catch {
            throw BatchLUError.backendUnavailable(backend: what, reason: "\(error)")
        }
        self.table = table ?? DispatchTable.row(for: dev)
    }

    /// The program for `T`, or a typed error naming why this backend cannot run `T`.
    func program<T: LUScalar>(_: T.Type) throws -> CLProgram {
        if T.needsFP64 && !runtime.device.hasFP64 {
            throw BatchLUError.backendUnavailable(backend: name, reason: "device has no cl_khr_fp64 for \(T.typeName)")
        }
        do { return try runtime.program(T.self) } catch {
            throw BatchLUError.backendUnavailable(backend: name, reason: "\(error)")
        }
    }

    var ctx: CLContext { runtime.context }

    // MARK: Buffers

    func upload<E>(_ a: [E]) throws -> CLBuffer { try upload(a[...]) }

    /// Uploads a slice straight from the array's storage (no host copy).
    func upload<E>(_ a: ArraySlice<E>) throws -> CLBuffer {
        let bytes = a.count * MemoryLayout<E>.stride
        let buf = try ctx.buffer(bytes: bytes)
        try a.withUnsafeBytes { if let p = $0.baseAddress { try buf.write(from: p, bytes: bytes) } }
        return buf
    }

    func download<E>(_ buf: CLBuffer, count: Int, as _: E.Type, zero: E) throws -> [E] {
        var out = [E](repeating: zero, count: count)
        try out.withUnsafeMutableBytes { if let p = $0.baseAddress { try buf.read(into: p, bytes: $0.count) } }
        return out
    }

    /// Rounds `x` up to a multiple of `m`.
    func pad(_ x: Int, _ m: Int) -> Int { (x + m - 1) / m * m }

    func scalarArg<T: LUScalar>(_ v: T) -> CLArg {
        withUnsafeBytes(of: v) { .bytes(Array($0)) }
    }

    // MARK: Kernel launchers (one place per kernel)

    enum Side: Int { case left = 0, right = 1 }
    enum Uplo: Int { case upper = 0, lower = 1 }
    enum Trans: Int { case none = 0, transpose = 1, adjoint = 2 }

    struct MatRef {
        let buf: CLBuffer
        var off: Int = 0
        let stride: Int
        let ld: Int
    }

    func trsm<T: LUScalar>(_: T.Type, _ p: CLProgram, a: MatRef, b: MatRef, m: Int, n: Int, side: Side, uplo: Uplo,
                           trans: Trans, unit: Bool, batch: Int, map: CLBuffer? = nil) throws {
        if m == 0 || n == 0 || batch == 0 { return }
        let k = try p.kernel("trsm_batched")
        try k.args(.buffer(a.buf), .long(a.off), .long(a.stride), .int(a.ld),
                   .buffer(b.buf), .long(b.off), .long(b.stride), .int(b.ld),
                   .int(m), .int(n), .int(side.rawValue), .int(uplo.rawValue), .int(trans.rawValue), .int(unit ? 1 : 0),
                   .buffer(map ?? b.buf), .int(map == nil ? 0 : 1))
        let lanes = side == .left ? n : m
        try k.launch(on: ctx, global: [pad(lanes, 16), batch], local: [16, 1])
    }

    func trmm<T: LUScalar>(_: T.Type, _ p: CLProgram, a: MatRef, b: MatRef, m: Int, n: Int, side: Side, uplo: Uplo,
                           trans: Trans, unit: Bool, batch: Int) throws {
        if m == 0 || n == 0 || batch == 0 { return }
        let k = try p.kernel("trmm_batched")
        try k.args(.buffer(a.buf), .long(a.off), .long(a.stride), .int(a.ld),
                   .buffer(b.buf), .long(b.off), .long(b.stride), .int(b.ld),
                   .int(m), .int(n), .int(side.rawValue), .int(uplo.rawValue), .int(trans.rawValue), .int(unit ? 1 : 0))
        let lanes = side == .left ? n : m
        try k.launch(on: ctx, global: [pad(lanes, 16), batch], local: [16, 1])
    }

    func gemm<T: LUScalar>(_: T.Type, _ p: CLProgram, a: MatRef, transA: Trans, b: MatRef, transB: Trans, c: MatRef,
                           m: Int, n: Int, k kk: Int, alpha: T, beta: T, batch: Int, cmap: CLBuffer? = nil) throws {
        if m == 0 || n == 0 || batch == 0 { return }
        if cmap == nil, min(m, n, kk) >= table.clblastMinSize {
            var al = alpha, be = beta
            try withUnsafeBytes(of: &al) { ap in
                try withUnsafeBytes(of: &be) { bp in
                    try CLBlastGemm.stridedBatched(
                        precision: T.clPrecision, transA: transA.rawValue, transB: transB.rawValue, m: m, n: n, k: kk,
                        alpha: ap.baseAddress!, a: a.buf.mem, aOffset: a.off, lda: a.ld, aStride: a.stride,
                        b: b.buf.mem, bOffset: b.off, ldb: b.ld, bStride: b.stride,
                        beta: bp.baseAddress!, c: c.buf.mem, cOffset: c.off, ldc: c.ld, cStride: c.stride,
                        batch: batch, queue: ctx.queue)
                }
            }
            return
        }
        let k = try p.kernel("gemm_batched")
        try k.args(.buffer(a.buf), .long(a.off), .long(a.stride), .int(a.ld), .int(transA.rawValue),
                   .buffer(b.buf), .long(b.off), .long(b.stride), .int(b.ld), .int(transB.rawValue),
                   .buffer(c.buf), .long(c.off), .long(c.stride), .int(c.ld),
                   .int(m), .int(n), .int(kk), scalarArg(alpha), scalarArg(beta),
                   .buffer(cmap ?? c.buf), .int(cmap == nil ? 0 : 1))
        try k.launch(on: ctx, global: [pad(n, 8), pad(m, 8), batch], local: [8, 8, 1])
    }

    func swapRows<T: LUScalar>(_: T.Type, _ p: CLProgram, x: CLBuffer, stride: Int, cols: Int, ipiv: CLBuffer, k kk: Int,
                               reverse: Bool, batch: Int, map: CLBuffer? = nil) throws {
        if cols == 0 || kk == 0 || batch == 0 { return }
        let k = try p.kernel("swap_rows")
        try k.args(.buffer(x), .long(stride), .int(cols), .buffer(ipiv), .int(kk), .int(reverse ? 1 : 0),
                   .buffer(map ?? ipiv), .int(map == nil ? 0 : 1))
        try k.launch(on: ctx, global: [pad(cols, 16), batch], local: [16, 1])
    }

    enum Combine: Int {
        case trilStrict = 0, triu = 1, lowerFromY = 2, lowerDiff = 3, upperDiff = 4, addTriuY = 5, addTrilStrictY = 6, copy = 7
    }

    func combine<T: LUScalar>(_: T.Type, _ p: CLProgram, d: MatRef, x: MatRef, y: MatRef? = nil, rows: Int, cols: Int,
                              mode: Combine, batch: Int) throws {
        if rows == 0 || cols == 0 || batch == 0 { return }
        let k = try p.kernel("tri_combine")
        let yy = y ?? x
        try k.args(.buffer(d.buf), .long(d.off), .long(d.stride), .int(d.ld),
                   .buffer(x.buf), .long(x.off), .long(x.stride), .int(x.ld),
                   .buffer(yy.buf), .long(yy.off), .long(yy.stride), .int(yy.ld),
                   .int(rows), .int(cols), .int(mode.rawValue))
        try k.launch(on: ctx, global: [pad(cols, 8), pad(rows, 8), batch], local: [8, 8, 1])
    }
}

/// The OpenCL size-dispatch table (one row per device kind, see `Kernels.DispatchTable`).
public typealias OpenCLDispatchTable = DispatchTable
