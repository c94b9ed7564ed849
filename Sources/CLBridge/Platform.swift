import COpenCL

/// An OpenCL platform as the ICD loader reports it.
public struct CLPlatformInfo: Sendable, Equatable {
    public let name: String
    public let vendor: String
    public let version: String
}

public enum CLPlatforms {
    /// The platforms the ICD loader finds. With no ICD installed (or an empty
    /// `OCL_ICD_VENDORS` folder) the loader reports `CL_PLATFORM_NOT_FOUND_KHR`,
    /// which this throws as a ``CLError``.
    public static func list() throws -> [CLPlatformInfo] {
        var count: cl_uint = 0
        try clCheck(clGetPlatformIDs(0, nil, &count), "clGetPlatformIDs")
        if count == 0 { return [] }
        var ids = [cl_platform_id?](repeating: nil, count: Int(count))
        try clCheck(clGetPlatformIDs(count, &ids, nil), "clGetPlatformIDs")
        return try ids.map { id in
            CLPlatformInfo(name: try string(id, CL_PLATFORM_NAME),
                           vendor: try string(id, CL_PLATFORM_VENDOR),
                           version: try string(id, CL_PLATFORM_VERSION))
        }
    }

    static func string(_ id: cl_platform_id?, _ param: Int32) throws -> String {
        var size = 0
        try clCheck(clGetPlatformInfo(id, cl_platform_info(param), 0, nil, &size), "clGetPlatformInfo")
        var buf = [CChar](repeating: 0, count: size + 1)
        try clCheck(clGetPlatformInfo(id, cl_platform_info(param), size, &buf, nil), "clGetPlatformInfo")
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
