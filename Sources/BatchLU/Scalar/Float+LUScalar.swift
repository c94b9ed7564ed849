import RealModule
import CLAPACKE
import COpenBLAS

extension Float: LUScalar {
    public typealias RealScalar = Float
    public static var isComplex: Bool { false }
    public static var typeName: String { "f32" }
    @inlinable public init(re: Float, im: Float) { self = re }
    @inlinable public var re: Float { self }
    @inlinable public var im: Float { 0 }
    @inlinable public var conj: Float { self }
    @inlinable public var pivotMagnitude: Float { Swift.abs(self) }
    @inlinable public var modulus: Float { Swift.abs(self) }
    @inlinable public var isFiniteValue: Bool { isFinite }

    public static func lapackGetrf(m: Int32, n: Int32, a: UnsafeMutablePointer<Float>, lda: Int32,
                                   ipiv: UnsafeMutablePointer<Int32>) -> Int32 {
        LAPACKE_sgetrf_work(LAPACK_COL_MAJOR, m, n, a, lda, ipiv)
    }

    public static func blasTrsm(side: TriSide, uplo: TriUplo, trans: TriTrans, diag: TriDiag,
                                m: Int, n: Int, alpha: Float,
                                a: UnsafePointer<Float>, lda: Int, b: UnsafeMutablePointer<Float>, ldb: Int) {
        cblas_strsm(CblasRowMajor, side.cblas, uplo.cblas, trans.cblas, diag.cblas,
                    blasInt(m), blasInt(n), alpha, a, blasInt(lda), b, blasInt(ldb))
    }

    public static func blasTrmm(side: TriSide, uplo: TriUplo, trans: TriTrans, diag: TriDiag,
                                m: Int, n: Int, alpha: Float,
                                a: UnsafePointer<Float>, lda: Int, b: UnsafeMutablePointer<Float>, ldb: Int) {
        cblas_strmm(CblasRowMajor, side.cblas, uplo.cblas, trans.cblas, diag.cblas,
                    blasInt(m), blasInt(n), alpha, a, blasInt(lda), b, blasInt(ldb))
    }

    public static func blasGemm(transA: TriTrans, transB: TriTrans, m: Int, n: Int, k: Int, alpha: Float,
                                a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                                beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_sgemm(CblasRowMajor, transA.cblas, transB.cblas, blasInt(m), blasInt(n), blasInt(k),
                    alpha, a, blasInt(lda), b, blasInt(ldb), beta, c, blasInt(ldc))
    }
}
