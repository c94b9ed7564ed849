import RealModule
import CLAPACKE
import COpenBLAS

extension Double: LUScalar {
    public typealias RealScalar = Double
    public static var isComplex: Bool { false }
    public static var typeName: String { "f64" }
    @inlinable public init(re: Double, im: Double) { self = re }
    @inlinable public var re: Double { self }
    @inlinable public var im: Double { 0 }
    @inlinable public var conj: Double { self }
    @inlinable public var pivotMagnitude: Double { Swift.abs(self) }
    @inlinable public var modulus: Double { Swift.abs(self) }
    @inlinable public var isFiniteValue: Bool { isFinite }

    public static func lapackGetrf(m: Int32, n: Int32, a: UnsafeMutablePointer<Double>, lda: Int32,
                                   ipiv: UnsafeMutablePointer<Int32>) -> Int32 {
        LAPACKE_dgetrf_work(LAPACK_COL_MAJOR, m, n, a, lda, ipiv)
    }

    public static func blasTrsm(side: TriSide, uplo: TriUplo, trans: TriTrans, diag: TriDiag,
                                m: Int, n: Int, alpha: Double,
                                a: UnsafePointer<Double>, lda: Int, b: UnsafeMutablePointer<Double>, ldb: Int) {
        cblas_dtrsm(CblasRowMajor, side.cblas, uplo.cblas, trans.cblas, diag.cblas,
                    blasInt(m), blasInt(n), alpha, a, blasInt(lda), b, blasInt(ldb))
    }

    public static func blasTrmm(side: TriSide, uplo: TriUplo, trans: TriTrans, diag: TriDiag,
                                m: Int, n: Int, alpha: Double,
                                a: UnsafePointer<Double>, lda: Int, b: UnsafeMutablePointer<Double>, ldb: Int) {
        cblas_dtrmm(CblasRowMajor, side.cblas, uplo.cblas, trans.cblas, diag.cblas,
                    blasInt(m), blasInt(n), alpha, a, blasInt(lda), b, blasInt(ldb))
    }

    public static func blasGemm(transA: TriTrans, transB: TriTrans, m: Int, n: Int, k: Int, alpha: Double,
                                a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                                beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int) {
        cblas_dgemm(CblasRowMajor, transA.cblas, transB.cblas, blasInt(m), blasInt(n), blasInt(k),
                    alpha, a, blasInt(lda), b, blasInt(ldb), beta, c, blasInt(ldc))
    }
}
