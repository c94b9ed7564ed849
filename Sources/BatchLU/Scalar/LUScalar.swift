import ComplexModule
import RealModule

/// The element types BatchLU factors: `Float`, `Double`, `Complex<Float>`
/// and `Complex<Double>`.
///
/// Each conformance lives in its own file and maps the type to its BLAS and
/// LAPACK entry points, its NumPy dtype and its OpenCL precision define.
/// The protocol is public so that generic code can name it; conforming
/// other types is not supported.
public protocol LUScalar: TensorElement, AlgebraicField {
    /// The real type underneath (`Float` for `Complex<Float>`).
    associatedtype RealScalar: LUScalar & BinaryFloatingPoint & Real

    /// Whether the type is complex.
    static var isComplex: Bool { get }
    /// A short name used in messages and benchmark output: `f32`, `f64`, `c64`, `c128`.
    static var typeName: String { get }

    /// Builds a value from its real and imaginary parts (the imaginary part is
    /// dropped for real types).
    init(re: RealScalar, im: RealScalar)
    var re: RealScalar { get }
    var im: RealScalar { get }
    /// The complex conjugate (the value itself for real types).
    var conj: Self { get }
    /// The magnitude LAPACK's `i?amax` compares when it picks a pivot:
    /// `|a|` for real types, `|Re a| + |Im a|` for complex ones.
    var pivotMagnitude: RealScalar { get }
    /// The modulus `|a|` (Euclidean for complex).
    var modulus: RealScalar { get }
    /// Whether every component is finite.
    var isFiniteValue: Bool { get }

    // MARK: LAPACK / BLAS entry points (column- or row-major as documented
    // at each use). Pointers are to the element type itself.

    /// `?getrf` in column-major order; returns LAPACK's `info`.
    static func lapackGetrf(m: Int32, n: Int32, a: UnsafeMutablePointer<Self>, lda: Int32,
                            ipiv: UnsafeMutablePointer<Int32>) -> Int32
    /// Row-major `?trsm`: solves `op(A) X = alpha B` (left) or `X op(A) = alpha B` (right); `B` is `m × n`.
    static func blasTrsm(side: TriSide, uplo: TriUplo, trans: TriTrans, diag: TriDiag,
                         m: Int, n: Int, alpha: Self,
                         a: UnsafePointer<Self>, lda: Int, b: UnsafeMutablePointer<Self>, ldb: Int)
    /// Row-major `?trmm`: `B := op(A) B` (left) or `B := B op(A)` (right); `B` is `m × n`.
    static func blasTrmm(side: TriSide, uplo: TriUplo, trans: TriTrans, diag: TriDiag,
                         m: Int, n: Int, alpha: Self,
                         a: UnsafePointer<Self>, lda: Int, b: UnsafeMutablePointer<Self>, ldb: Int)
    /// Row-major `?gemm`: `C = alpha op(A) op(B) + beta C`, `C` is `m × n`, inner dimension `k`.
    static func blasGemm(transA: TriTrans, transB: TriTrans, m: Int, n: Int, k: Int, alpha: Self,
                         a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
                         beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
}

/// Which side the triangular matrix stands on in a triangular solve.
public enum TriSide: Sendable { case left, right }
/// Which triangle of the matrix is read.
public enum TriUplo: Sendable { case upper, lower }
/// Whether the matrix is used as is, transposed, or conjugate-transposed.
public enum TriTrans: Sendable { case none, transpose, adjoint }
/// Whether the diagonal is taken as all ones.
public enum TriDiag: Sendable { case unit, nonUnit }

