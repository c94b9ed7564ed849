import COpenBLAS
import Dispatch
import Foundation
import Synchronization

/// A raw pointer handed to worker threads that write disjoint regions.
/// `@unchecked` because the callers guarantee each worker touches only its
/// own matrices (documented at each use).
struct SendablePointer<T>: @unchecked Sendable {
    let base: UnsafeMutablePointer<T>
    init(_ base: UnsafeMutablePointer<T>) { self.base = base }
}

enum Parallel {
    /// The active core count, read once (Foundation reads it from the
    /// cgroup files in /sys on every access on Linux).
    static let cores: Int = ProcessInfo.processInfo.activeProcessorCount

    /// Splits `0..<count` into contiguous chunks and runs them on up to
    /// `threads` threads. `workPerItem` (in flops) keeps tiny batches on one
    /// thread, where a thread hand-off costs more than the work.
    /// Chunk boundaries fall on multiples of `align` (except the end).
    static func forEachChunk(count: Int, threads: Int, workPerItem: Double, align: Int = 1,
                             _ body: @Sendable (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let minItemsPerChunk = max(1, Int((200_000 / max(workPerItem, 1)).rounded(.up)))
        let chunks = min(threads, max(1, count / minItemsPerChunk), count)
        if chunks <= 1 { body(0..<count); return }
        // More chunks than threads evens out uneven progress.
        let units = (count + align - 1) / align
        let pieces = min(units, chunks * 4)
        if pieces <= 1 { body(0..<count); return }
        DispatchQueue.concurrentPerform(iterations: pieces) { p in
            let lo = min(count, units * p / pieces * align), hi = min(count, units * (p + 1) / pieces * align)
            if lo < hi { body(lo..<hi) }
        }
    }
}

/// OpenBLAS's thread count is process-wide. BatchLU keeps it at 1 while it
/// runs a batch in parallel itself, and raises it only around a lone large
/// matrix (under a lock, then back to 1).
enum BLASThreads {
    private static let lock = Mutex<Bool>(false)

    /// Threads OpenBLAS may use for a lone large matrix: `OPENBLAS_NUM_THREADS`
    /// if set, else the number of cores.
    static let maxThreads: Int = {
        if let s = ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"], let v = Int(s), v > 0 { return v }
        return Parallel.cores
    }()

    /// Puts OpenBLAS in single-threaded mode once per process.
    static func ensureConfigured() {
        lock.withLock { configured in
            if !configured { openblas_set_num_threads(1); configured = true }
        }
    }

    /// Runs `body` with OpenBLAS allowed `threads` threads.
    static func withThreads<R>(_ threads: Int, _ body: () throws -> R) rethrows -> R {
        ensureConfigured()
        return try lock.withLock { _ in
            openblas_set_num_threads(Int32(threads))
            defer { openblas_set_num_threads(1) }
            return try body()
        }
    }

    /// OpenBLAS's kernel family (for example `SkylakeX` or `Prescott`).
    static var coreName: String {
        guard let p = openblas_get_corename() else { return "unknown" }
        return String(cString: p)
    }
}
