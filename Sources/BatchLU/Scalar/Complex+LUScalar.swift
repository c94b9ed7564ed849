import CLAPACKE
import COpenBLAS
import ComplexModule
import RealModule

/// The per-precision hooks `Complex<RealType>` needs: which BLAS/LAPACK
/// symbols serve it. `Float` and `Double` conform.
public protocol ComplexLUComponent: LUScalar, BinaryFloatingPoint, Real where RealScalar == Self {
    static var complexTypeName: String { get }
    static func complexGetrf(m: Int32, n: Int32, a: UnsafeMutableRawPointer, lda: Int32,
                             ipiv: UnsafeMutablePointer<Int32>) -> Int32
    static func complexTrsm(side: TriSide, uplo: TriUplo, trans: TriTrans, diag: TriDiag, m: Int, n: Int,
                            alpha: UnsafeRawPointer, a: UnsafeRawPointer, lda: Int,
                            b: UnsafeMutableRawPointer, ldb: Int)
    static func complexTrmm(side: TriSide, uplo: TriUplo, trans: TriTrans, diag: TriDiag, m: Int, n: Int,
                            alpha: UnsafeRawPointer, a: UnsafeRawPointer, lda: Int,
                            b: UnsafeMutableRawPointer, ldb: Int)
    static func complexGemm(transA: TriTrans, transB: TriTrans, m: Int, n: Int, k: Int,
                            alpha: UnsafeRawPointer, a: UnsafeRawPointer, lda: Int,
                            b: UnsafeRawPointer, ldb: Int, beta: UnsafeRawPointer,
                            c: UnsafeMutableRawPointer, ldc: Int)
}

extension Float: ComplexLUComponent {
    public static var complexTypeName: String { "c64" }
    public static func complexGetrf(m: Int32, n: Int32, a: UnsafeMutableRawPointer, lda: Int32,
                                    ipiv: UnsafeMutablePointer<Int32>) -> Int32 {
        LAPACKE_cgetrf_work(LAPACK_COL_MAJOR, m, n,
                            OpaquePointer(a), lda, ipiv)
    }
    public static func complexTrsm(side: TriSide, uplo: TriUplo, trans: TriTrans, diag: TriDiag, m: Int, n: Int,
                                   alpha: UnsafeRawPointer, a: UnsafeRawPointer, lda: Int,
                                   b: UnsafeMutableRawPointer, ldb: Int) {
        cblas_ctrsm(CblasRowMajor, side.cblas, uplo.cblas, trans.cblas, diag.cblas,
                    blasInt(m), blasInt(n), alpha, a, blasInt(lda), b, blasInt(ldb))
    }
    public static func complexTrmm(side: TriSide, uplo: TriUplo, trans: TriTrans, diag: TriDiag, m: Int, n: Int,
                                   alpha: UnsafeRawPointer, a: UnsafeRawPointer, lda: Int,
                                   b: UnsafeMutableRawPointer, ldb: Int) {
        cblas_ctrmm(CblasRowMajor, side.cblas, uplo.cblas, trans.cblas, diag.cblas,
                    blasInt(m), blasInt(n), alpha, a, blasInt(lda), b, blasInt(ldb))
    }
    public static func complexGemm(transA: TriTrans, transB: TriTrans, m: Int, n: Int, k: Int,
                                   alpha: UnsafeRawPointer, a: UnsafeRawPointer, lda: Int,
                                   b: UnsafeRawPointer, ldb: Int, beta: UnsafeRawPointer,
                                   c: UnsafeMutableRawPointer, ldc: Int) {
        cblas_cgemm(CblasRowMajor, transA.cblas, transB.cblas, blasInt(m), blasInt(n), blasInt(k),
                    alpha, a, blasInt(lda), b, blasInt(ldb), beta, c, blasInt(ldc))
    }
}

extension Double: ComplexLUComponent {
    public static var complexTypeName: String { "c128" }
    public static func complexGetrf(m: Int32, n: Int32, a: UnsafeMutableRawPointer, lda: Int32,
                                    ipiv: UnsafeMutablePointer<Int32>) -> Int32 {
        LAPACKE_zgetrf_work(LAPACK_COL_MAJOR, m, n,
                            OpaquePointer(a), lda, ipiv)
    }
    public static func complexTrsm(side: TriSide, uplo: TriUplo, trans: TriTrans, diag: TriDiag, m: Int, n: Int,
                                   alpha: UnsafeRawPointer, a: UnsafeRawPointer, lda: Int,
                                   b: UnsafeMutableRawPointer, ldb: Int) {
        cblas_ztrsm(CblasRowMajor, side.cblas, uplo.cblas, trans.cblas, diag.cblas,
                    blasInt(m), blasInt(n), alpha, a, blasInt(lda), b, blasInt(ldb))
    }
    public static func complexTrmm(side: TriSide, uplo: TriUplo, trans: TriTrans, diag: TriDiag, m: Int, n: Int,
                                   alpha: UnsafeRawPointer, a: UnsafeRawPointer, lda: Int,
                                   b: UnsafeMutableRawPointer, ldb: Int) {
        cblas_ztrmm(CblasRowMajor, side.cblas, uplo.cblas, trans.cblas, diag.cblas,
                    blasInt(m), blasInt(n), alpha, a, blasInt(lda), b, blasInt(ldb))
    }
    public static func complexGemm(transA: TriTrans, transB: TriTrans, m: Int, n: Int, k: Int,
                                   alpha: UnsafeRawPointer, a: UnsafeRawPointer, lda: Int,
                                   b: UnsafeRawPointer, ldb: Int, beta: UnsafeRawPointer,
                                   c: UnsafeMutableRawPointer, ldc: Int) {
        cblas_zgemm(CblasRowMajor, transA.cblas, transB.cblas, blasInt(m), blasInt(n), blasInt(k),
                    alpha, a, blasInt(lda), b, blasInt(ldb), beta, c, blasInt(ldc))
    }
}

// `Complex<T>` is laid out as two consecutive `T` (real, imaginary), which is
// what BLAS, LAPACK, NumPy's c8/c16 and OpenCL's float2/double2 expect.
extension Complex: TensorElement where RealType: ComplexLUComponent {
    public static var npyDescr: String { RealType.npyDescr == "<f4" ? "<c8" : "<c16" }
}

extension Complex: LUScalar where RealType: ComplexLUComponent {
    public typealias RealScalar = RealType
    public static var isComplex: Bool { true }
    public static var typeName: String { RealType.complexTypeName }
    @inlinable public init(re: RealType, im: RealType) { self.init(re, im) }
    // rawStorage, not real/imaginary: those return NaN for any non-finite value,
    // and LAPACK's izamax sees an infinity as infinite.
    @inlinable public var re: RealType { rawStorage.x }
    @inlinable public var im: RealType { rawStorage.y }
    @inlinable public var conj: Complex<RealType> { conjugate }
    @inlinable public var pivotMagnitude: RealType { Swift.abs(rawStorage.x) + Swift.abs(rawStorage.y) }
    @inlinable public var modulus: RealType { length }
    @inlinable public var isFiniteValue: Bool { isFinite }

    public static func lapackGetrf(m: Int32, n: Int32, a: UnsafeMutablePointer<Complex<RealType>>, lda: Int32,
                                   ipiv: UnsafeMutablePointer<Int32>) -> Int32 {
        RealType.complexGetrf(m: m, n: n, a: UnsafeMutableRawPointer(a), lda: lda, ipiv: ipiv)
    }

    public static func blasTrsm(side: TriSide, uplo: TriUplo, trans: TriTrans, diag: TriDiag,
                                m: Int, n: Int, alpha: Complex<RealType>,
                                a: UnsafePointer<Complex<RealType>>, lda: Int,
                                b: UnsafeMutablePointer<Complex<RealType>>, ldb: Int) {
        withUnsafePointer(to: alpha) { al in
            RealType.complexTrsm(side: side, uplo: uplo, trans: trans, diag: diag, m: m, n: n,
                                 alpha: UnsafeRawPointer(al), a: UnsafeRawPointer(a), lda: lda,
                                 b: UnsafeMutableRawPointer(b), ldb: ldb)
        }
    }

    public static func blasTrmm(side: TriSide, uplo: TriUplo, trans: TriTrans, diag: TriDiag,
                                m: Int, n: Int, alpha: Complex<RealType>,
                                a: UnsafePointer<Complex<RealType>>, lda: Int,
                                b: UnsafeMutablePointer<Complex<RealType>>, ldb: Int) {
        withUnsafePointer(to: alpha) { al in
            RealType.complexTrmm(side: side, uplo: uplo, trans: trans, diag: diag, m: m, n: n,
                                 alpha: UnsafeRawPointer(al), a: UnsafeRawPointer(a), lda: lda,
                                 b: UnsafeMutableRawPointer(b), ldb: ldb)
        }
    }

    public static func blasGemm(transA: TriTrans, transB: TriTrans, m: Int, n: Int, k: Int,
                                alpha: Complex<RealType>,
                                a: UnsafePointer<Complex<RealType>>, lda: Int,
                                b: UnsafePointer<Complex<RealType>>, ldb: Int,
                                beta: Complex<RealType>, c: UnsafeMutablePointer<Complex<RealType>>, ldc: Int) {
        withUnsafePointer(to: alpha) { al in
            withUnsafePointer(to: beta) { be in
                RealType.complexGemm(transA: transA, transB: transB, m: m, n: n, k: k,
                                     alpha: UnsafeRawPointer(al), a: UnsafeRawPointer(a), lda: lda,
                                     b: UnsafeRawPointer(b), ldb: ldb, beta: UnsafeRawPointer(be),
                                     c: UnsafeMutableRawPointer(c), ldc: ldc)
            }
        }
    }
}
