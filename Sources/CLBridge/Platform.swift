import COpenCL

/// An OpenCL platform as the ICD loader reports it.
public struct CLPlatform: @unchecked Sendable, Equatable {
    // cl_platform_id is an opaque, immutable, process-wide handle.
    public let id: cl_platform_id
    public let name: String
    public let vendor: String
    public let version: String

    /// The platforms the ICD loader finds. With no ICD installed (or an empty
    /// `OCL_ICD_VENDORS` folder) the loader reports `CL_PLATFORM_NOT_FOUND_KHR`,
    /// thrown as a ``CLError``.
    public static func all() throws -> [CLPlatform] {
        var count: cl_uint = 0
        try clCall("clGetPlatformIDs") { clGetPlatformIDs(0, nil, &count) }
        if count == 0 { return [] }
        var ids = [cl_platform_id?](repeating: nil, count: Int(count))
        try clCall("clGetPlatformIDs") { clGetPlatformIDs(count, &ids, nil) }
        return try ids.compactMap { $0 }.map { id in
            CLPlatform(id: id,
                       name: try infoString { clGetPlatformInfo(id, cl_platform_info(CL_PLATFORM_NAME), $0, $1, $2) },
                       vendor: try infoString { clGetPlatformInfo(id, cl_platform_info(CL_PLATFORM_VENDOR), $0, $1, $2) },
                       version: try infoString { clGetPlatformInfo(id, cl_platform_info(CL_PLATFORM_VERSION), $0, $1, $2) })
        }
    }

    /// The platform's devices (all types). A platform with none returns `[]`.
    public func devices() throws -> [CLDevice] {
        var count: cl_uint = 0
        let st = CLFaultInjection.intercept("clGetDeviceIDs", context: nil)
            ?? clGetDeviceIDs(id, cl_device_type(CL_DEVICE_TYPE_ALL), 0, nil, &count)
        // No device is an empty list; any other failure (CL_DEVICE_NOT_AVAILABLE, ...) is an error.
        if st == CL_DEVICE_NOT_FOUND { return [] }
        if st != CL_SUCCESS { throw CLError(status: st, call: "clGetDeviceIDs") }
        if count == 0 { return [] }
        var ids = [cl_device_id?](repeating: nil, count: Int(count))
        try clCall("clGetDeviceIDs") { clGetDeviceIDs(id, cl_device_type(CL_DEVICE_TYPE_ALL), count, &ids, nil) }
        return try ids.compactMap { $0 }.map { try CLDevice(id: $0, platform: self) }
    }
}

/// Reads a string-valued `clGet*Info` query.
func infoString(_ query: (Int, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?) -> cl_int) throws -> String {
    var size = 0
    try clCheck(query(0, nil, &size), "clGet*Info")
    var buf = [UInt8](repeating: 0, count: size + 1)
    try clCheck(buf.withUnsafeMutableBytes { query(size, $0.baseAddress, nil) }, "clGet*Info")
    return String(decoding: buf.prefix { $0 != 0 }, as: UTF8.self).trimmingCharacters()
}

/// Reads a fixed-size `clGet*Info` value.
func infoValue<V>(_: V.Type, _ query: (Int, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?) -> cl_int) throws -> V {
    let p = UnsafeMutablePointer<V>.allocate(capacity: 1)
    defer { p.deallocate() }
    try clCheck(query(MemoryLayout<V>.size, p, nil), "clGet*Info")
    return p.pointee
}

extension String {
    func trimmingCharacters() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\n" || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\n" || l == "\t" { s.removeLast() }
        return String(s)
    }
}

/// An OpenCL device and the properties BatchLU's dispatch needs.
public struct CLDevice: @unchecked Sendable, Equatable {
    // cl_device_id of a root device is immutable and lives as long as the process.
    public let id: cl_device_id
    public let platform: CLPlatform
    public let name: String
    public let vendor: String
    public let version: String
    public let type: UInt64
    public let extensions: String
    public let maxAllocation: UInt64
    public let globalMemory: UInt64
    public let localMemory: UInt64
    public let maxWorkGroupSize: Int
    public let computeUnits: UInt32

    init(id: cl_device_id, platform: CLPlatform) throws {
        self.id = id
        self.platform = platform
        func str(_ p: Int32) throws -> String { try infoString { clGetDeviceInfo(id, cl_device_info(p), $0, $1, $2) } }
        func val<V>(_ t: V.Type, _ p: Int32) throws -> V { try infoValue(t) { clGetDeviceInfo(id, cl_device_info(p), $0, $1, $2) } }
        name = try str(CL_DEVICE_NAME)
        vendor = try str(CL_DEVICE_VENDOR)
        version = try str(CL_DEVICE_VERSION)
        extensions = try str(CL_DEVICE_EXTENSIONS)
        type = UInt64(try val(cl_device_type.self, CL_DEVICE_TYPE))
        maxAllocation = UInt64(try val(cl_ulong.self, CL_DEVICE_MAX_MEM_ALLOC_SIZE))
        globalMemory = UInt64(try val(cl_ulong.self, CL_DEVICE_GLOBAL_MEM_SIZE))
        localMemory = UInt64(try val(cl_ulong.self, CL_DEVICE_LOCAL_MEM_SIZE))
        maxWorkGroupSize = Int(try val(Int.self, CL_DEVICE_MAX_WORK_GROUP_SIZE))
        computeUnits = UInt32(try val(cl_uint.self, CL_DEVICE_MAX_COMPUTE_UNITS))
    }

    public var isGPUOrAccelerator: Bool {
        type & UInt64(CL_DEVICE_TYPE_GPU | CL_DEVICE_TYPE_ACCELERATOR) != 0
    }
    public var isCPU: Bool { type & UInt64(CL_DEVICE_TYPE_CPU) != 0 }
    public var hasFP64: Bool { extensions.contains("cl_khr_fp64") }

    public static func == (a: CLDevice, b: CLDevice) -> Bool { a.id == b.id }

    /// Every device of every platform; `[]` when the loader finds no platform.
    /// A platform whose devices cannot be listed is skipped when another one
    /// lists devices (one broken ICD does not hide the others); if none
    /// does, the first such error is thrown.
    public static func all() throws -> [CLDevice] {
        var devices: [CLDevice] = [], firstError: Error?
        for platform in try CLPlatform.all() {
            do { devices += try platform.devices() } catch { firstError = firstError ?? error }
        }
        if devices.isEmpty, let firstError { throw firstError }
        return devices
    }
}
