import COpenCL
import Glibc
import Synchronization

/// Makes chosen `cl*` calls fail with a chosen status, for testing how the
/// layers above react to driver failures. Off by default.
///
///     let fault = CLFaultInjection.fail(call: "clCreateBuffer", status: CL_MEM_OBJECT_ALLOCATION_FAILURE,
///                                       after: 2, scope: .context(ctx))
///     defer { fault.cancel() }
///
/// A fault matches a call by name: `"clEnqueueNDRangeKernel"` matches every
/// launch, `"clEnqueueNDRangeKernel(getrf_tiny)"` only that kernel's (the
/// text in parentheses is what ``CLError/call`` shows). It lets `after`
/// matching calls through, then fails the next `times` ones: the call is
/// not made, and the caller sees `status` exactly as if the driver had
/// returned it (object-creating calls return no object).
///
/// Scopes keep a fault away from code running in parallel (Swift Testing
/// runs tests concurrently):
/// - ``Scope/context(_:)`` matches only calls on objects of one
///   ``CLContext`` (buffers, programs, kernels, launches, transfers, finish);
/// - ``Scope/thread(_:)`` (``Scope/currentThread``) only calls made on one
///   thread, for calls made before a context exists (`clGetPlatformIDs`,
///   `clGetDeviceIDs`, `clGet*Info`, `clCreateContext`, `clCreateCommandQueue`);
/// - ``Scope/process`` every call (only for code that owns the process).
///
/// Cost when no fault is armed: one relaxed atomic load per call; the call
/// name is not even formatted.
@_spi(Testing)
public enum CLFaultInjection {
    public enum Scope: Sendable, Hashable {
        case process
        /// A thread, by `pthread_self()`.
        case thread(UInt)
        /// A context, by identity.
        case context(ObjectIdentifier)

        /// The calling thread.
        public static var currentThread: Scope { .thread(UInt(bitPattern: Int(bitPattern: pthread_self()))) }
        /// Calls on objects of `ctx`.
        public static func context(_ ctx: CLContext) -> Scope { .context(ObjectIdentifier(ctx)) }
    }

    /// An armed fault; ``cancel()`` disarms it and returns how often it fired.
    public struct Fault: Sendable, Hashable {
        let id: Int

        /// How many calls this fault has failed so far.
        public var fired: Int { CLFaultInjection.state.withLock { $0.faults[id]?.fired ?? $0.retired[id] ?? 0 } }

        /// How many matching calls this fault has seen (failed or let through)
        /// while armed.
        public var seen: Int { CLFaultInjection.state.withLock { $0.faults[id]?.seen ?? $0.retiredSeen[id] ?? 0 } }

        /// Disarms the fault (idempotent); returns how many calls it failed.
        @discardableResult
        public func cancel() -> Int {
            CLFaultInjection.state.withLock { st in
                guard let f = st.faults.removeValue(forKey: id) else { return st.retired[id] ?? 0 }
                st.retired[id] = f.fired
                st.retiredSeen[id] = f.seen
                CLFaultInjection.armed.subtract(1, ordering: .relaxed)
                return f.fired
            }
        }
    }

    struct Armed {
        let call: String
        let status: Int32
        let after: Int
        let times: Int
        let scope: Scope
        var seen = 0
        var fired = 0

        func matches(_ name: String) -> Bool {
            name == call || (name.hasPrefix(call) && name.dropFirst(call.count).first == "(")
        }
    }

    struct State {
        var faults: [Int: Armed] = [:]
        var retired: [Int: Int] = [:]
        var retiredSeen: [Int: Int] = [:]
        var nextID = 0
        var injected = 0
    }

    static let armed = Atomic<Int>(0)
    static let state = Mutex(State())

    /// Arms a fault: after `after` matching calls in `scope` succeed, the next
    /// `times` matching calls fail with `status`.
    @discardableResult
    public static func fail(call: String, status: Int32, after: Int = 0, times: Int = .max, scope: Scope) -> Fault {
        precondition(status != CL_SUCCESS, "a fault needs a failing status")
        return state.withLock { st in
            let id = st.nextID
            st.nextID += 1
            st.faults[id] = Armed(call: call, status: status, after: max(0, after), times: max(0, times), scope: scope)
            armed.add(1, ordering: .relaxed)
            return Fault(id: id)
        }
    }

    /// Runs `body` with a fault armed, disarming it afterwards (also when
    /// `body` throws). Returns `body`'s result and how often the fault fired.
    @discardableResult
    public static func with<R>(call: String, status: Int32, after: Int = 0, times: Int = .max, scope: Scope,
                               _ body: () throws -> R) rethrows -> (result: R, fired: Int) {
        let f = fail(call: call, status: status, after: after, times: times, scope: scope)
        var fired = 0
        let r: R
        do {
            r = try body()
        } catch {
            f.cancel()
            throw error
        }
        fired = f.cancel()
        return (r, fired)
    }

    /// Calls failed by injection since the process started, all faults together.
    public static var injectedTotal: Int { state.withLock { $0.injected } }
    /// Faults armed now.
    public static var armedCount: Int { armed.load(ordering: .relaxed) }

    /// The injected status for this call, or nil to make the call. Called by
    /// every `cl*` call site in CLBridge before it calls the driver.
    @inline(__always)
    static func intercept(_ call: @autoclosure () -> String, context: CLContext?) -> Int32? {
        if armed.load(ordering: .relaxed) == 0 { return nil }
        return slowIntercept(call(), context.map { ObjectIdentifier($0) })
    }

    @inline(never)
    static func slowIntercept(_ name: String, _ context: ObjectIdentifier?) -> Int32? {
        let thread = UInt(bitPattern: Int(bitPattern: pthread_self()))
        return state.withLock { st in
            for id in st.faults.keys.sorted() {
                guard var f = st.faults[id], f.matches(name) else { continue }
                switch f.scope {
                case .process: break
                case let .thread(t): if t != thread { continue }
                case let .context(c): if c != context { continue }
                }
                f.seen += 1
                defer { st.faults[id] = f }
                if f.seen > f.after && f.fired < f.times {
                    f.fired += 1
                    st.injected += 1
                    return f.status
                }
            }
            return nil
        }
    }
}

/// Makes one `cl*` call through the fault-injection switch and checks its
/// status: `body` runs unless a fault is injected for `call`.
@inline(__always)
func clCall(_ call: @autoclosure () -> String, context: CLContext? = nil, _ body: () -> cl_int) throws {
    let st = CLFaultInjection.intercept(call(), context: context) ?? body()
    if st != CL_SUCCESS { throw CLError(status: st, call: call()) }
}

/// Throws the injected failure for an object-creating call, if any (the
/// call is then not made).
@inline(__always)
func clInjected(_ call: @autoclosure () -> String, context: CLContext? = nil) throws {
    if let st = CLFaultInjection.intercept(call(), context: context) { throw CLError(status: st, call: call()) }
}
