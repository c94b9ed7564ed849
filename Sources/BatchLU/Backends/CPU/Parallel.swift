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
        // Two pieces a thread: some room to even out uneven progress. Four
        // cost more than they evened out (2-core VM, bench-gpu, 4
        // alternating rounds, median ms, two pieces a thread against four:
        // f64 20 x 512² forward 29.4 vs 32.0, backward 156 vs 172; f32
        // 20 x 512² 12.4 vs 13.6 and 71 vs 79, where 8 pieces of 2 or 3
        // matrices split the work unevenly; f32 10000 x 32² forward 11.7 vs
        // 12.6; f64 100 x 256² backward 57 vs 60; no row slower beyond
        // noise, 100000 x 4² and 8² in 8 rounds included).
        let units = (count + align - 1) / align
        let pieces = min(units, chunks * 2)
        if pieces <= 1 { body(0..<count); return }
        DispatchQueue.concurrentPerform(iterations: pieces) { p in
            let lo = min(count, units * p / pieces * align), hi = min(count, units * (p + 1) / pieces * align)
            if lo < hi { body(lo..<hi) }
        }
    }
}

/// OpenBLAS's thread count is process-wide. BatchLU keeps it at 1 while it
/// runs a batch in parallel itself, and raises it only around a lone large
/// matrix. Every region of BLAS calls runs under ``shared(_:)``, the raised
/// count only under ``withThreads(_:_:)``, which excludes them: a call made
/// at the same time on another thread never sees the raised count (it would
/// run its BLAS calls threaded, on cores its own batch already uses, and,
/// with the work split otherwise, get other bits than the same call alone).
enum BLASThreads {
    private static let lock = Mutex<Bool>(false)
    private static let gate = SharedExclusiveGate()

    /// Runs `body`, which makes BLAS calls with OpenBLAS single-threaded
    /// (its own threads, if any, split the batch), while no lone large
    /// matrix has the thread count raised. Not nested: `body` must not enter
    /// `shared` or `withThreads` again (a waiting `withThreads` would wait
    /// for it).
    static func shared<R>(_ body: () throws -> R) rethrows -> R {
        ensureConfigured()
        return try gate.shared(body)
    }

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

    /// Runs `body` with OpenBLAS allowed `threads` threads, alone: it waits
    /// for the ``shared(_:)`` regions running, and new ones wait for it.
    static func withThreads<R>(_ threads: Int, _ body: () throws -> R) rethrows -> R {
        ensureConfigured()
        return try gate.exclusive {
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

/// Many holders at once (`shared`) or one alone (`exclusive`); a waiting
/// exclusive holder goes before new shared ones, so it is not starved.
final class SharedExclusiveGate: @unchecked Sendable {
    private let condition = NSCondition()
    private var sharedHolders = 0
    private var exclusiveHeld = false
    private var exclusiveWaiting = 0

    func shared<R>(_ body: () throws -> R) rethrows -> R {
        condition.lock()
        while exclusiveHeld || exclusiveWaiting > 0 { condition.wait() }
        sharedHolders += 1
        condition.unlock()
        defer {
            condition.lock()
            sharedHolders -= 1
            if sharedHolders == 0 { condition.broadcast() }
            condition.unlock()
        }
        return try body()
    }

    func exclusive<R>(_ body: () throws -> R) rethrows -> R {
        condition.lock()
        exclusiveWaiting += 1
        while exclusiveHeld || sharedHolders > 0 { condition.wait() }
        exclusiveWaiting -= 1
        exclusiveHeld = true
        condition.unlock()
        defer {
            condition.lock()
            exclusiveHeld = false
            condition.broadcast()
            condition.unlock()
        }
        return try body()
    }
}
