import COpenCL

/// An OpenCL failure: the status code, its symbolic name and the call that failed.
public struct CLError: Error, Equatable, Sendable, CustomStringConvertible {
    public let status: Int32
    public let call: String
    /// Present for program build failures.
    public let buildLog: String?

    public init(status: Int32, call: String, buildLog: String? = nil) {
        self.status = status
        self.call = call
        self.buildLog = buildLog
    }

    /// The symbolic name of the status, e.g. `CL_OUT_OF_RESOURCES`.
    public var name: String { CLError.symbol(status) }

    public var description: String {
        var s = "\(call) failed: \(name) (\(status))"
        if let log = buildLog, !log.isEmpty { s += "\nbuild log:\n\(log)" }
        return s
    }

    public static func symbol(_ status: Int32) -> String {
        switch status {
        case CL_SUCCESS: return "CL_SUCCESS"
        case CL_DEVICE_NOT_FOUND: return "CL_DEVICE_NOT_FOUND"
        case CL_DEVICE_NOT_AVAILABLE: return "CL_DEVICE_NOT_AVAILABLE"
        case CL_COMPILER_NOT_AVAILABLE: return "CL_COMPILER_NOT_AVAILABLE"
        case CL_MEM_OBJECT_ALLOCATION_FAILURE: return "CL_MEM_OBJECT_ALLOCATION_FAILURE"
        case CL_OUT_OF_RESOURCES: return "CL_OUT_OF_RESOURCES"
        case CL_OUT_OF_HOST_MEMORY: return "CL_OUT_OF_HOST_MEMORY"
        case CL_PROFILING_INFO_NOT_AVAILABLE: return "CL_PROFILING_INFO_NOT_AVAILABLE"
        case CL_MEM_COPY_OVERLAP: return "CL_MEM_COPY_OVERLAP"
        case CL_IMAGE_FORMAT_MISMATCH: return "CL_IMAGE_FORMAT_MISMATCH"
        case CL_IMAGE_FORMAT_NOT_SUPPORTED: return "CL_IMAGE_FORMAT_NOT_SUPPORTED"
        case CL_BUILD_PROGRAM_FAILURE: return "CL_BUILD_PROGRAM_FAILURE"
        case CL_MAP_FAILURE: return "CL_MAP_FAILURE"
        case CL_MISALIGNED_SUB_BUFFER_OFFSET: return "CL_MISALIGNED_SUB_BUFFER_OFFSET"
        case CL_COMPILE_PROGRAM_FAILURE: return "CL_COMPILE_PROGRAM_FAILURE"
        case CL_LINKER_NOT_AVAILABLE: return "CL_LINKER_NOT_AVAILABLE"
        case CL_LINK_PROGRAM_FAILURE: return "CL_LINK_PROGRAM_FAILURE"
        case CL_INVALID_VALUE: return "CL_INVALID_VALUE"
        case CL_INVALID_DEVICE_TYPE: return "CL_INVALID_DEVICE_TYPE"
        case CL_INVALID_PLATFORM: return "CL_INVALID_PLATFORM"
        case CL_INVALID_DEVICE: return "CL_INVALID_DEVICE"
        case CL_INVALID_CONTEXT: return "CL_INVALID_CONTEXT"
        case CL_INVALID_QUEUE_PROPERTIES: return "CL_INVALID_QUEUE_PROPERTIES"
        case CL_INVALID_COMMAND_QUEUE: return "CL_INVALID_COMMAND_QUEUE"
        case CL_INVALID_HOST_PTR: return "CL_INVALID_HOST_PTR"
        case CL_INVALID_MEM_OBJECT: return "CL_INVALID_MEM_OBJECT"
        case CL_INVALID_BINARY: return "CL_INVALID_BINARY"
        case CL_INVALID_BUILD_OPTIONS: return "CL_INVALID_BUILD_OPTIONS"
        case CL_INVALID_PROGRAM: return "CL_INVALID_PROGRAM"
        case CL_INVALID_PROGRAM_EXECUTABLE: return "CL_INVALID_PROGRAM_EXECUTABLE"
        case CL_INVALID_KERNEL_NAME: return "CL_INVALID_KERNEL_NAME"
        case CL_INVALID_KERNEL_DEFINITION: return "CL_INVALID_KERNEL_DEFINITION"
        case CL_INVALID_KERNEL: return "CL_INVALID_KERNEL"
        case CL_INVALID_ARG_INDEX: return "CL_INVALID_ARG_INDEX"
        case CL_INVALID_ARG_VALUE: return "CL_INVALID_ARG_VALUE"
        case CL_INVALID_ARG_SIZE: return "CL_INVALID_ARG_SIZE"
        case CL_INVALID_KERNEL_ARGS: return "CL_INVALID_KERNEL_ARGS"
        case CL_INVALID_WORK_DIMENSION: return "CL_INVALID_WORK_DIMENSION"
        case CL_INVALID_WORK_GROUP_SIZE: return "CL_INVALID_WORK_GROUP_SIZE"
        case CL_INVALID_WORK_ITEM_SIZE: return "CL_INVALID_WORK_ITEM_SIZE"
        case CL_INVALID_GLOBAL_OFFSET: return "CL_INVALID_GLOBAL_OFFSET"
        case CL_INVALID_EVENT_WAIT_LIST: return "CL_INVALID_EVENT_WAIT_LIST"
        case CL_INVALID_EVENT: return "CL_INVALID_EVENT"
        case CL_INVALID_OPERATION: return "CL_INVALID_OPERATION"
        case CL_INVALID_BUFFER_SIZE: return "CL_INVALID_BUFFER_SIZE"
        case CL_INVALID_GLOBAL_WORK_SIZE: return "CL_INVALID_GLOBAL_WORK_SIZE"
        case CL_INVALID_PROPERTY: return "CL_INVALID_PROPERTY"
        case -1001: return "CL_PLATFORM_NOT_FOUND_KHR"
        default: return "CL_UNKNOWN_ERROR"
        }
    }
}

/// The one checking funnel every `cl*` call goes through. Inside CLBridge,
/// calls go through `clCall`, which consults ``CLFaultInjection`` before
/// calling the driver; a status checked here after the call was made can
/// still be replaced by an injected failure (thread or process scope).
@inline(__always)
public func clCheck(_ status: Int32, _ call: @autoclosure () -> String) throws {
    if status != CL_SUCCESS { throw CLError(status: status, call: call()) }
    if let injected = CLFaultInjection.intercept(call(), context: nil) { throw CLError(status: injected, call: call()) }
}
