// What bench-gpu needs from OpenCL that BatchLU does not expose publicly:
// the list of platforms and devices (for the header and --all-backends) and
// a device GEMM to measure the OpenCL peak. Both go through dlopen, so the
// benchmark needs no extra build dependency, and a machine without an ICD
// loader, without CLBlast or without any platform still runs the CPU rows.
#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// One OpenCL device as the ICD loader reports it.
struct CLDeviceInfo: Sendable {
    var platformName: String
    var platformVersion: String
    var platformVendor: String
    var name: String
    var version: String
    var driverVersion: String
    var type: UInt64
    var computeUnits: UInt32
    var globalMemory: UInt64
    var maxAllocation: UInt64
    var extensions: String

    var typeName: String {
        var t = [String]()
        if type & (1 << 1) != 0 { t.append("CPU") }
        if type & (1 << 2) != 0 { t.append("GPU") }
        if type & (1 << 3) != 0 { t.append("accelerator") }
        return t.isEmpty ? "other" : t.joined(separator: "+")
    }
    var isGPUOrAccelerator: Bool { type & ((1 << 2) | (1 << 3)) != 0 }
    var hasFP64: Bool { extensions.contains("cl_khr_fp64") }
}

/// Function pointers into libOpenCL (the ICD loader), resolved with dlsym.
struct OpenCLAPI: @unchecked Sendable {
    // OpenCL handles are opaque pointers; cl_int is Int32, cl_uint UInt32,
    // cl_bitfield UInt64, size_t Int.
    typealias GetPlatformIDs = @convention(c) (UInt32, UnsafeMutablePointer<OpaquePointer?>?,
                                               UnsafeMutablePointer<UInt32>?) -> Int32
    typealias GetPlatformInfo = @convention(c) (OpaquePointer?, UInt32, Int, UnsafeMutableRawPointer?,
                                                UnsafeMutablePointer<Int>?) -> Int32
    typealias GetDeviceIDs = @convention(c) (OpaquePointer?, UInt64, UInt32, UnsafeMutablePointer<OpaquePointer?>?,
                                             UnsafeMutablePointer<UInt32>?) -> Int32
    typealias GetDeviceInfo = @convention(c) (OpaquePointer?, UInt32, Int, UnsafeMutableRawPointer?,
                                              UnsafeMutablePointer<Int>?) -> Int32
    typealias CreateContext = @convention(c) (UnsafePointer<Int>?, UInt32, UnsafePointer<OpaquePointer?>?,
                                              OpaquePointer?, UnsafeMutableRawPointer?,
                                              UnsafeMutablePointer<Int32>?) -> OpaquePointer?
    typealias CreateCommandQueue = @convention(c) (OpaquePointer?, OpaquePointer?, UInt64,
                                                   UnsafeMutablePointer<Int32>?) -> OpaquePointer?
    typealias CreateBuffer = @convention(c) (OpaquePointer?, UInt64, Int, UnsafeMutableRawPointer?,
                                             UnsafeMutablePointer<Int32>?) -> OpaquePointer?
    typealias EnqueueWriteBuffer = @convention(c) (OpaquePointer?, OpaquePointer?, UInt32, Int, Int,
                                                   UnsafeRawPointer?, UInt32, UnsafePointer<OpaquePointer?>?,
                                                   UnsafeMutablePointer<OpaquePointer?>?) -> Int32
    typealias EnqueueFillBuffer = @convention(c) (OpaquePointer?, OpaquePointer?, UnsafeRawPointer?, Int, Int, Int,
                                                  UInt32, UnsafePointer<OpaquePointer?>?,
                                                  UnsafeMutablePointer<OpaquePointer?>?) -> Int32
    typealias Handle = @convention(c) (OpaquePointer?) -> Int32

    let getPlatformIDs: GetPlatformIDs
    let getPlatformInfo: GetPlatformInfo
    let getDeviceIDs: GetDeviceIDs
    let getDeviceInfo: GetDeviceInfo
    let createContext: CreateContext
    let createCommandQueue: CreateCommandQueue
    let createBuffer: CreateBuffer
    let enqueueWriteBuffer: EnqueueWriteBuffer
    let enqueueFillBuffer: EnqueueFillBuffer
    let finish: Handle
    let releaseMemObject: Handle
    let releaseCommandQueue: Handle
    let releaseContext: Handle

    /// Loads the ICD loader, or says why it could not.
    static func load() -> Result<OpenCLAPI, ProbeError> {
        guard let h = dlopen("libOpenCL.so.1", RTLD_NOW) ?? dlopen("libOpenCL.so", RTLD_NOW) else {
            return .failure(ProbeError(message: "cannot load libOpenCL.so.1 (no OpenCL ICD loader)"))
        }
        func sym<F>(_ name: String, _: F.Type) throws -> F {
            guard let p = dlsym(h, name) else { throw ProbeError(message: "libOpenCL lacks \(name)") }
            return unsafeBitCast(p, to: F.self)
        }
        do {
            return .success(OpenCLAPI(
                getPlatformIDs: try sym("clGetPlatformIDs", GetPlatformIDs.self),
                getPlatformInfo: try sym("clGetPlatformInfo", GetPlatformInfo.self),
                getDeviceIDs: try sym("clGetDeviceIDs", GetDeviceIDs.self),
                getDeviceInfo: try sym("clGetDeviceInfo", GetDeviceInfo.self),
                createContext: try sym("clCreateContext", CreateContext.self),
                createCommandQueue: try sym("clCreateCommandQueue", CreateCommandQueue.self),
                createBuffer: try sym("clCreateBuffer", CreateBuffer.self),
                enqueueWriteBuffer: try sym("clEnqueueWriteBuffer", EnqueueWriteBuffer.self),
                enqueueFillBuffer: try sym("clEnqueueFillBuffer", EnqueueFillBuffer.self),
                finish: try sym("clFinish", Handle.self),
                releaseMemObject: try sym("clReleaseMemObject", Handle.self),
                releaseCommandQueue: try sym("clReleaseCommandQueue", Handle.self),
                releaseContext: try sym("clReleaseContext", Handle.self)))
        } catch let e as ProbeError {
            return .failure(e)
        } catch {
            return .failure(ProbeError(message: "\(error)"))
        }
    }
}

struct ProbeError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// The devices of every platform, each with a handle usable for the peak measurement.
struct OpenCLProbe {
    let api: OpenCLAPI
    let devices: [(info: CLDeviceInfo, id: OpaquePointer)]

    /// Lists every device; `.failure` carries a one-line reason (no loader,
    /// no platform: `CL_PLATFORM_NOT_FOUND_KHR` = -1001, ...).
    static func probe() -> Result<OpenCLProbe, ProbeError> {
        let api: OpenCLAPI
        switch OpenCLAPI.load() {
        case let .success(a): api = a
        case let .failure(e): return .failure(e)
        }
        var count: UInt32 = 0
        let st = api.getPlatformIDs(0, nil, &count)
        if st != 0 {
            let why = st == -1001 ? "no OpenCL platform (CL_PLATFORM_NOT_FOUND_KHR; no ICD in OCL_ICD_VENDORS or /etc/OpenCL/vendors)"
                                  : "clGetPlatformIDs failed (\(st))"
            return .failure(ProbeError(message: why))
        }
        var platforms = [OpaquePointer?](repeating: nil, count: Int(count))
        _ = api.getPlatformIDs(count, &platforms, nil)
        var out = [(info: CLDeviceInfo, id: OpaquePointer)]()
        for case let p? in platforms {
            func pstr(_ what: UInt32) -> String { infoString { api.getPlatformInfo(p, what, $0, $1, $2) } }
            let pname = pstr(0x0902), pversion = pstr(0x0901), pvendor = pstr(0x0903)
            var n: UInt32 = 0
            guard api.getDeviceIDs(p, 0xFFFF_FFFF, 0, nil, &n) == 0, n > 0 else { continue }
            var ids = [OpaquePointer?](repeating: nil, count: Int(n))
            guard api.getDeviceIDs(p, 0xFFFF_FFFF, n, &ids, nil) == 0 else { continue }
            for case let d? in ids {
                func dstr(_ what: UInt32) -> String { infoString { api.getDeviceInfo(d, what, $0, $1, $2) } }
                func dval<V: FixedWidthInteger>(_ what: UInt32, _: V.Type) -> V {
                    var v: V = 0
                    _ = withUnsafeMutableBytes(of: &v) { api.getDeviceInfo(d, what, MemoryLayout<V>.size, $0.baseAddress, nil) }
                    return v
                }
                let info = CLDeviceInfo(platformName: pname, platformVersion: pversion, platformVendor: pvendor,
                                        name: dstr(0x102B), version: dstr(0x102F), driverVersion: dstr(0x102D),
                                        type: dval(0x1000, UInt64.self), computeUnits: dval(0x1002, UInt32.self),
                                        globalMemory: dval(0x101F, UInt64.self), maxAllocation: dval(0x1010, UInt64.self),
                                        extensions: dstr(0x1030))
                out.append((info, d))
            }
        }
        return .success(OpenCLProbe(api: api, devices: out))
    }
}

/// A string property read with a clGet*Info-style call `get(size, value, sizeRet)`:
/// size query first, then the value; "?" when either fails.
func infoString(_ get: (Int, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?) -> Int32) -> String {
    var size = 0
    guard get(0, nil, &size) == 0, size > 0 else { return "?" }
    var buf = [UInt8](repeating: 0, count: size + 1)
    _ = buf.withUnsafeMutableBytes { get(size, $0.baseAddress, nil) }
    return cString(buf)
}

/// A NUL-terminated byte buffer as a trimmed string.
func cString(_ buf: [UInt8]) -> String {
    String(decoding: buf.prefix { $0 != 0 }, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}
