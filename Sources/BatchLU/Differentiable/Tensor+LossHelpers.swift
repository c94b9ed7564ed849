import _Differentiation

// The `_vjp…` functions are registered derivatives (`@derivative(of:)`); they
// are public only because the compiler requires a derivative to have the
// access level of its original. Call the original inside `gradient(at:)`.

// The few differentiable tensor operations a loss around the LU functions
// needs: elementwise product, scalar multiple, sum, real and imaginary
// parts, conjugate transpose and batched matrix product. Each has a
// registered derivative; complex pullbacks follow the backward functions'
// convention (gradient = ∂loss/∂Re + i ∂loss/∂Im), so a holomorphic
// product `x · y` pulls `v` back to `v · conj(y)`.
//
// Every operation accepts the symbolic ``Tensor/zero`` as zeros of any shape.

extension Tensor where Element: LUScalar {
    /// Elementwise conjugate (the tensor itself for real types). Not differentiable.
    func conjugated() -> Tensor {
        Element.isComplex ? mapElements { $0.conj } : self
    }

    /// Elementwise (Hadamard) product. Shapes must match unless one side is ``zero``.
    @differentiable(reverse)
    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor {
        if lhs.isSymbolicZero || rhs.isSymbolicZero { return .zero }
        return lhs.zipElements(rhs, "*") { $0 * $1 }
    }

    @derivative(of: *)
    public static func _vjpMultiply(lhs: Tensor, rhs: Tensor)
        -> (value: Tensor, pullback: (Tensor) -> (Tensor, Tensor)) {
        (lhs * rhs, { v in (v * rhs.conjugated(), v * lhs.conjugated()) })
    }

    /// Every element multiplied by the constant `lhs` (differentiable with
    /// respect to the tensor only).
    @differentiable(reverse, wrt: rhs)
    public static func * (lhs: Element, rhs: Tensor) -> Tensor {
        rhs.mapElements { lhs * $0 }
    }

    @derivative(of: *, wrt: rhs)
    public static func _vjpScale(lhs: Element, rhs: Tensor)
        -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        let c = lhs.conj
        return (lhs * rhs, { v in c * v })
    }

    /// Every element multiplied by the constant `rhs` (differentiable with
    /// respect to the tensor only).
    @differentiable(reverse, wrt: lhs)
    public static func * (lhs: Tensor, rhs: Element) -> Tensor {
        lhs.mapElements { $0 * rhs }
    }

    @derivative(of: *, wrt: lhs)
    public static func _vjpScale(lhs: Tensor, rhs: Element)
        -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        let c = rhs.conj
        return (lhs * rhs, { v in v * c })
    }

    /// The real parts, as a real tensor (the tensor itself for real types).
    /// Pullback: `v ↦ v + 0i`.
    @differentiable(reverse)
    public var realPart: Tensor<Element.RealScalar> {
        if isSymbolicZero { return .zero }
        return Tensor<Element.RealScalar>(unchecked: shape, elements: elements.map { $0.re })
    }

    @derivative(of: realPart)
    public func _vjpRealPart() -> (value: Tensor<Element.RealScalar>,
                                   pullback: (Tensor<Element.RealScalar>) -> Tensor) {
        (realPart, { v in
            if v.isSymbolicZero { return .zero }
            return Tensor(unchecked: v.shape, elements: v.elements.map { Element(re: $0, im: 0) })
        })
    }

    /// The imaginary parts, as a real tensor (zeros for real types).
    /// Pullback: `v ↦ 0 + iv` (zero for real types, whose imaginary part is constant).
    @differentiable(reverse)
    public var imaginaryPart: Tensor<Element.RealScalar> {
        if isSymbolicZero { return .zero }
        return Tensor<Element.RealScalar>(unchecked: shape, elements: elements.map { $0.im })
    }

    @derivative(of: imaginaryPart)
    public func _vjpImaginaryPart() -> (value: Tensor<Element.RealScalar>,
                                        pullback: (Tensor<Element.RealScalar>) -> Tensor) {
        (imaginaryPart, { v in
            if v.isSymbolicZero || !Element.isComplex { return .zero }
            return Tensor(unchecked: v.shape, elements: v.elements.map { Element(re: 0, im: $0) })
        })
    }

    /// The conjugate transpose of every matrix of the batch (`[..., m, n]` →
    /// `[..., n, m]`); the plain transpose for real types. Traps below rank 2.
    @differentiable(reverse)
    public func adjoint() -> Tensor {
        if isSymbolicZero { return self }
        precondition(rank >= 2, "Tensor.adjoint: rank of \(shape) is below 2")
        let m = rows, n = cols, size = m * n
        var out = [Element](repeating: .zero, count: count)
        elements.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for b in 0..<(size == 0 ? 0 : count / size) {
                    for i in 0..<m { for j in 0..<n { dst[b * size + j * m + i] = src[b * size + i * n + j].conj } }
                }
            }
        }
        return Tensor(unchecked: batchShape + [n, m], elements: out)
    }

    @derivative(of: adjoint)
    public func _vjpAdjoint() -> (value: Tensor, pullback: (Tensor) -> Tensor) {
        (adjoint(), { v in v.adjoint() })
    }
}

extension Tensor where Element: LUScalar & Differentiable, Element.TangentVector == Element {
    /// The sum of all elements (`Float` and `Double`): the usual end of a loss.
    /// Pullback: `v ↦` a tensor of `v`s with this tensor's shape.
    @differentiable(reverse)
    public func sum() -> Element {
        elements.reduce(Element.zero, +)
    }

    @derivative(of: sum)
    public func _vjpSum() -> (value: Element, pullback: (Element) -> Tensor) {
        let s = shape, symbolic = isSymbolicZero
        return (sum(), { v in
            symbolic ? .zero : Tensor(unchecked: s, elements: Array(repeating: v, count: s.reduce(1, *)))
        })
    }
}

/// `op(A) · op(B)` for every matrix pair of two batches with the same batch shape.
func batchedProduct<T: LUScalar>(_ a: Tensor<T>, _ transA: TriTrans, _ b: Tensor<T>, _ transB: TriTrans,
                                 _ op: String) -> Tensor<T> {
    precondition(a.rank >= 2 && b.rank >= 2, "\(op): rank of \(a.shape) or \(b.shape) is below 2")
    precondition(a.batchShape == b.batchShape, "\(op): batch shapes \(a.batchShape) and \(b.batchShape) differ")
    let (m, ka) = transA == .none ? (a.rows, a.cols) : (a.cols, a.rows)
    let (kb, n) = transB == .none ? (b.rows, b.cols) : (b.cols, b.rows)
    precondition(ka == kb, "\(op): inner dimensions of \(a.shape) and \(b.shape) differ")
    let batch = a.batchCount
    var out = [T](repeating: .zero, count: batch * m * n)
    let ops = MatOps(tuning: CPUTuning())
    let sa = a.rows * a.cols, sb = b.rows * b.cols
    a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            out.withUnsafeMutableBufferPointer { pc in
                guard m > 0, n > 0, ka > 0 else { return }   // k = 0: the product is zero
                BLASThreads.shared {
                    for i in 0..<batch {
                        ops.gemm(transA, transB, m: m, n: n, k: ka, alpha: 1,
                                 a: pa.baseAddress! + i * sa, lda: max(a.cols, 1),
                                 b: pb.baseAddress! + i * sb, ldb: max(b.cols, 1),
                                 beta: 0, c: pc.baseAddress! + i * m * n, ldc: n)
                    }
                }
            }
        }
    }
    return Tensor(unchecked: a.batchShape + [m, n], elements: out)
}
