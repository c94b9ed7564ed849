import RealModule
/// A dense tensor in row-major (C) order, as NumPy and PyTorch store them.
///
/// Linear-algebra operations read it as a batch of matrices of shape
/// `[..., m, n]`: every leading dimension is a batch dimension (there may be
/// none), and any dimension may be zero. `Tensor` is a value type with
/// copy-on-write storage.
///
///     let a = try Tensor<Double>(shape: [2, 2, 2], elements: [4, 3, 6, 3,  1, 2, 3, 4])
///     a[1, 0, 1]          // 2.0
///     a.batchShape        // [2]
public struct Tensor<Element: TensorElement>: Sendable, Equatable {
    /// The dimensions, outermost first.
    public internal(set) var shape: [Int]
    /// The elements in row-major order.
    public internal(set) var elements: [Element]

    /// Creates a tensor from its elements in row-major order.
    /// - Throws: ``BatchLUError/negativeDimension(shape:)``,
    ///   ``BatchLUError/elementCountOverflow(shape:)`` or
    ///   ``BatchLUError/elementCountMismatch(shape:expected:got:)``.
    public init(shape: [Int], elements: [Element]) throws {
        let count = try Tensor.checkedCount(shape)
        guard count == elements.count else {
            throw BatchLUError.elementCountMismatch(shape: shape, expected: count, got: elements.count)
        }
        self.shape = shape
        self.elements = elements
    }

    /// A tensor of zeros.
    public init(zeros shape: [Int]) throws {
        let count = try Tensor.checkedCount(shape)
        self.shape = shape
        self.elements = Array(repeating: .zero, count: count)
    }

    /// Internal initializer for shapes already validated.
    @usableFromInline init(unchecked shape: [Int], elements: [Element]) {
        assert((try? Tensor.checkedCount(shape)) == elements.count)
        self.shape = shape
        self.elements = elements
    }

    /// The number of elements of `shape`, or a typed error for negative
    /// dimensions and overflow. Element counts are also bounded so that the
    /// byte size fits in `Int`.
    public static func checkedCount(_ shape: [Int]) throws -> Int {
        if shape.contains(where: { $0 < 0 }) { throw BatchLUError.negativeDimension(shape: shape) }
        var count = 1
        for d in shape {
            let (p, o) = count.multipliedReportingOverflow(by: d)
            if o { throw BatchLUError.elementCountOverflow(shape: shape) }
            count = p
        }
        let (_, o) = count.multipliedReportingOverflow(by: Swift.max(MemoryLayout<Element>.stride, 1))
        if o { throw BatchLUError.elementCountOverflow(shape: shape) }
        return count
    }

    // MARK: Shape

    /// The number of dimensions.
    public var rank: Int { shape.count }
    /// The number of elements.
    public var count: Int { elements.count }
    /// The leading (batch) dimensions: all but the last two.
    public var batchShape: [Int] { Array(shape.dropLast(2)) }
    /// The number of matrices: the product of ``batchShape``.
    public var batchCount: Int { batchShape.reduce(1, *) }
    /// `m`, the second-to-last dimension (requires rank >= 2).
    public var rows: Int { shape[shape.count - 2] }
    /// `n`, the last dimension (requires rank >= 2).
    public var cols: Int { shape[shape.count - 1] }

    /// The same elements under another shape with the same element count.
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        let count = try Tensor.checkedCount(newShape)
        guard count == elements.count else { throw BatchLUError.reshapeMismatch(from: shape, to: newShape) }
        return Tensor(unchecked: newShape, elements: elements)
    }

    /// The same matrices under another batch shape: `[batch..., m, n]`.
    public func reshapedBatch(_ batch: [Int]) throws -> Tensor {
        guard rank >= 2 else { throw BatchLUError.rankTooLow(operation: "reshapedBatch", shape: shape) }
        return try reshaped(batch + [rows, cols])
    }

    /// The `index`-th matrix of the batch (flat, row-major batch order), as a rank-2 tensor.
    public func matrix(_ index: Int) throws -> Tensor {
        guard rank >= 2 else { throw BatchLUError.rankTooLow(operation: "matrix", shape: shape) }
        guard index >= 0, index < batchCount else {
            throw BatchLUError.indexOutOfRange(index: [index], shape: batchShape)
        }
        let size = rows * cols
        return Tensor(unchecked: [rows, cols], elements: Array(elements[index * size ..< (index + 1) * size]))
    }

    // MARK: Element access

    /// The flat offset of a full index, or a typed error.
    public func offset(_ index: [Int]) throws -> Int {
        guard index.count == shape.count else { throw BatchLUError.indexOutOfRange(index: index, shape: shape) }
        var off = 0
        for (i, d) in zip(index, shape) {
            guard i >= 0, i < d else { throw BatchLUError.indexOutOfRange(index: index, shape: shape) }
            off = off * d + i
        }
        return off
    }

    /// Element access by full index. Traps on an invalid index, as `Array` does;
    /// use ``offset(_:)`` to validate first.
    public subscript(_ index: [Int]) -> Element {
        get {
            do { return elements[try offset(index)] } catch { preconditionFailure("\(error)") }
        }
        set {
            do { elements[try offset(index)] = newValue } catch { preconditionFailure("\(error)") }
        }
    }

    public subscript(_ index: Int...) -> Element {
        get { self[index] }
        set { self[index] = newValue }
    }

    // MARK: Pointer access

    /// Calls `body` with a pointer to the elements, without copying.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Element>) throws -> R) rethrows -> R {
        try elements.withUnsafeBufferPointer(body)
    }

    /// Calls `body` with a mutable pointer to the elements (copying first only
    /// if the storage is shared, as `Array` does).
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (inout UnsafeMutableBufferPointer<Element>) throws -> R
    ) rethrows -> R {
        try elements.withUnsafeMutableBufferPointer(body)
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let preview = elements.prefix(8).map { "\($0)" }.joined(separator: ", ")
        return "Tensor<\(Element.self)>(shape: \(shape), [\(preview)\(elements.count > 8 ? ", ..." : "")])"
    }
}

extension Tensor where Element: LUScalar {
    /// A batch of identity matrices of shape `batch + [n, n]`.
    public static func identity(_ n: Int, batch: [Int] = []) throws -> Tensor {
        var t = try Tensor(zeros: batch + [n, n])
        let count = t.batchCount
        t.elements.withUnsafeMutableBufferPointer { p in
            for b in 0..<count { for i in 0..<n { p[b * n * n + i * n + i] = 1 } }
        }
        return t
    }

    /// A tensor of pseudo-random values, uniform in `[-1, 1)` (both parts for
    /// complex types), reproducible from `seed` on every platform.
    public static func random(_ shape: [Int], seed: UInt64) throws -> Tensor {
        let count = try checkedCount(shape)
        var rng = SplitMix64(seed: seed)
        var out = [Element]()
        out.reserveCapacity(count)
        for _ in 0..<count {
            let re = Element.RealScalar(rng.nextUnit() * 2 - 1)
            let im = Element.isComplex ? Element.RealScalar(rng.nextUnit() * 2 - 1) : 0
            out.append(Element(re: re, im: im))
        }
        return Tensor(unchecked: shape, elements: out)
    }
}

/// SplitMix64: a tiny, well-mixed, reproducible generator.
@usableFromInline struct SplitMix64: RandomNumberGenerator {
    @usableFromInline var state: UInt64
    @usableFromInline init(seed: UInt64) { state = seed }
    @inlinable mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1) with 53 random bits.
    @inlinable mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
}
