import _Differentiation

// The `_vjp…` functions are registered derivatives (`@derivative(of:)`); they
// are public only because the compiler requires a derivative to have the
// access level of its original. Call the original inside `gradient(at:)`.

// `Tensor` as a vector space for Swift's reverse-mode automatic
// differentiation (`import _Differentiation`).
//
// A tensor is its own tangent vector: `Tensor<T>.TangentVector == Tensor<T>`
// for the four `LUScalar` types, complex ones included (the scalar itself
// does not have to be `Differentiable`). Complex tangents use the same
// convention as the backward functions: for a real loss, a gradient is
// ∂loss/∂Re + i ∂loss/∂Im.
//
// # The zero tangent
//
// Automatic differentiation asks for `TangentVector.zero` without knowing a
// shape, so `Tensor.zero` is a *symbolic* zero: a tensor with `shape == []`
// and no elements (a real rank-0 tensor, shape `[]`, always holds exactly one
// element, so the two can never be confused, and no public initializer can
// build the symbolic one). It stands for "zero, of whatever shape the other
// operand has":
//
// * `+` and `-` treat it as the identity on either side and return it when
//   both operands are symbolic; `zero - t` is `-t`.
// * `move(by: .zero)` does nothing; moving the symbolic zero by `t` gives `t`.
// * The elementwise helpers (`*`, scalar `*`, `sum()`, `realPart`, ...)
//   treat it as zeros of any shape, and every pullback in this module
//   accepts it as the cotangent of an unused result.
// * ``Tensor/isSymbolicZero`` tells it apart; ``Tensor/materialized(shape:)``
//   turns it into `Tensor(zeros:)` of a given shape (handy for a gradient that
//   comes back as `.zero` because the loss did not depend on that input).
//
// Equality stays structural (shape and elements, as before): `Tensor.zero ==
// Tensor.zero`, but `Tensor.zero != Tensor(zeros: [2, 2])` and
// `Tensor.zero != Tensor(zeros: [])`. Making the symbolic zero equal to
// zeros of every shape would break the transitivity `Equatable` requires
// (`zeros([2, 2])` and `zeros([3])` differ). Compare with
// `g.materialized(shape: s) == Tensor(zeros: s)` to ask "is this zero?".
//
// Two non-symbolic operands of `+`/`-` must have the same shape; anything
// else is a programming error and traps with both shapes in the message.

extension Tensor where Element: LUScalar {
    /// The symbolic zero (see the discussion above `Tensor: AdditiveArithmetic`).
    init(symbolicZero: Void) {
        self.shape = []
        self.elements = []
    }

    /// Whether this is the shape-less symbolic zero ``zero`` (as opposed to a
    /// tensor of zeros with a shape).
    public var isSymbolicZero: Bool { shape.isEmpty && elements.isEmpty }

    /// `self`, or `Tensor(zeros: shape)` if `self` is the symbolic zero.
    /// Traps if `self` is a real tensor of another shape.
    public func materialized(shape: [Int]) -> Tensor {
        if isSymbolicZero {
            do { return try Tensor(zeros: shape) } catch { preconditionFailure("Tensor.materialized: \(error)") }
        }
        precondition(self.shape == shape, "Tensor.materialized: shape \(self.shape) is not \(shape)")
        return self
    }

    /// Elementwise combination of two tensors of equal shape.
    @inline(__always)
    func zipElements(_ other: Tensor, _ op: String, _ f: (Element, Element) -> Element) -> Tensor {
        precondition(shape == other.shape,
                     "Tensor \(op): shapes \(shape) and \(other.shape) differ (only the symbolic zero broadcasts)")
        var out = [Element]()
        out.reserveCapacity(elements.count)
        for i in elements.indices { out.append(f(elements[i], other.elements[i])) }
        return Tensor(unchecked: shape, elements: out)
    }

    @inline(__always)
    func mapElements(_ f: (Element) -> Element) -> Tensor {
        if isSymbolicZero { return self }
        return Tensor(unchecked: shape, elements: elements.map(f))
    }
}

extension Tensor: AdditiveArithmetic where Element: LUScalar {
    /// The symbolic zero: the identity of `+` for tensors of every shape.
    public static var zero: Tensor { Tensor(symbolicZero: ()) }

    /// Elementwise sum. Shapes must match unless one side is ``zero``.
    @differentiable(reverse)
    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
        if rhs.isSymbolicZero { return lhs }
        if lhs.isSymbolicZero { return rhs }
        return lhs.zipElements(rhs, "+") { $0 + $1 }
    }

    /// Elementwise difference. Shapes must match unless one side is ``zero``.
    @differentiable(reverse)
    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor {
        if rhs.isSymbolicZero { return lhs }
        if lhs.isSymbolicZero { return rhs.mapElements { .zero - $0 } }
        return lhs.zipElements(rhs, "-") { $0 - $1 }
    }

    @derivative(of: +)
    public static func _vjpAdd(lhs: Tensor, rhs: Tensor)
        -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor)) {
        (lhs + rhs, { v in (v, v) })
    }

    @derivative(of: -)
    public static func _vjpSubtract(lhs: Tensor, rhs: Tensor)
        -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor)) {
        (lhs - rhs, { v in (v, .zero - v) })
    }
}

extension Tensor: Differentiable where Element: LUScalar {
    public typealias TangentVector = Tensor

    /// `self += offset`, with ``zero`` as the identity on either side.
    public mutating func move(by offset: Tensor) {
        self = self + offset
    }
}
