import ComplexModule
import RealModule

/// A tensor of any of the five element types a `.npy` file can carry for
/// BatchLU, for when the element type is only known at run time (loading a
/// file whose dtype the caller does not know in advance).
///
///     let any = try AnyTensor(npyFile: url)
///     switch any {
///     case let .float64(a): ...
///     default: ...
///     }
///     let a = try any.tensor(as: Double.self)   // or a typed error
public enum AnyTensor: Sendable, Equatable {
    /// `<f4`
    case float32(Tensor<Float>)
    /// `<f8`
    case float64(Tensor<Double>)
    /// `<c8`
    case complex64(Tensor<Complex<Float>>)
    /// `<c16`
    case complex128(Tensor<Complex<Double>>)
    /// `<i4`
    case int32(Tensor<Int32>)

    /// The dimensions, outermost first.
    public var shape: [Int] {
        switch self {
        case let .float32(t): return t.shape
        case let .float64(t): return t.shape
        case let .complex64(t): return t.shape
        case let .complex128(t): return t.shape
        case let .int32(t): return t.shape
        }
    }

    /// The NumPy `descr` string of the element type: `<f4`, `<f8`, `<c8`, `<c16` or `<i4`.
    public var dtype: String {
        switch self {
        case .float32: return Float.npyDescr
        case .float64: return Double.npyDescr
        case .complex64: return Complex<Float>.npyDescr
        case .complex128: return Complex<Double>.npyDescr
        case .int32: return Int32.npyDescr
        }
    }

    /// The tensor with its static type.
    /// - Throws: ``BatchLUError/elementTypeMismatch(expected:got:)`` with
    ///   `expected: T.npyDescr, got: dtype` when the element type differs.
    public func tensor<T: TensorElement>(as type: T.Type) throws -> Tensor<T> {
        let wrapped: Any
        switch self {
        case let .float32(t): wrapped = t
        case let .float64(t): wrapped = t
        case let .complex64(t): wrapped = t
        case let .complex128(t): wrapped = t
        case let .int32(t): wrapped = t
        }
        if let t = wrapped as? Tensor<T> { return t }
        throw BatchLUError.elementTypeMismatch(expected: T.npyDescr, got: dtype)
    }
}

extension AnyTensor: CustomStringConvertible {
    public var description: String {
        switch self {
        case let .float32(t): return t.description
        case let .float64(t): return t.description
        case let .complex64(t): return t.description
        case let .complex128(t): return t.description
        case let .int32(t): return t.description
        }
    }
}
