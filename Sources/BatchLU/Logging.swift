import Logging
import Synchronization

/// BatchLU's logging: silent by default. The library never prints; it logs
/// warnings (for example an OpenCL fallback) and debug notes (which backend
/// and kernel path ran) through swift-log once a logger is installed:
///
///     BatchLULog.logger = Logger(label: "BatchLU")
public enum BatchLULog {
    private static let storage = Mutex<Logger>(
        Logger(label: "BatchLU", factory: { _ in SwiftLogNoOpLogHandler() }))

    /// The logger BatchLU writes to. Defaults to a no-op handler.
    public static var logger: Logger {
        get { storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue } }
    }
}
