/// A type a ``Tensor`` can hold and a `.npy` file can carry: the four
/// ``LUScalar`` types and `Int32` (pivots, info).
public protocol TensorElement: Sendable, Equatable, AdditiveArithmetic {
    /// The NumPy `descr` string for this type, little-endian (`<f8`, `<i4`, ...).
    static var npyDescr: String { get }
}

extension Int32: TensorElement { public static var npyDescr: String { "<i4" } }
extension Float: TensorElement { public static var npyDescr: String { "<f4" } }
extension Double: TensorElement { public static var npyDescr: String { "<f8" } }
