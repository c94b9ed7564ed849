import CCLBlast
import CLBridge
import COpenCL

/// CLBlast's strided-batched GEMM, row-major:
/// `C_i = alpha op(A_i) op(B_i) + beta C_i` for `i < batch`, offsets and
/// strides in elements. `precision` is 32, 64, 3232 or 6464; `alpha`/`beta`
/// point to one element of that type.
public enum CLBlastGemm {
    /// 0 none, 1 transpose, 2 conjugate transpose (BatchLU's convention).
    public static func stridedBatched(precision: Int, transA: Int, transB: Int, m: Int, n: Int, k: Int,
                                      alpha: UnsafeRawPointer,
                                      a: cl_mem, aOffset: Int, lda: Int, aStride: Int,
                                      b: cl_mem, bOffset: Int, ldb: Int, bStride: Int,
                                      beta: UnsafeRawPointer,
                                      c: cl_mem, cOffset: Int, ldc: Int, cStride: Int,
                                      batch: Int, queue: cl_command_queue) throws {
        func t(_ x: Int) -> CLBlastTranspose {
            x == 0 ? CLBlastTransposeNo : (x == 1 ? CLBlastTransposeYes : CLBlastTransposeConjugate)
        }
        var q: cl_command_queue? = queue
        let status: CLBlastStatusCode
        switch precision {
        case 32:
            status = CLBlastSgemmStridedBatched(CLBlastLayoutRowMajor, t(transA), t(transB), m, n, k,
                                                alpha.load(as: Float.self), a, aOffset, lda, aStride, b, bOffset, ldb, bStride,
                                                beta.load(as: Float.self), c, cOffset, ldc, cStride, batch, &q, nil)
        case 64:
            status = CLBlastDgemmStridedBatched(CLBlastLayoutRowMajor, t(transA), t(transB), m, n, k,
                                                alpha.load(as: Double.self), a, aOffset, lda, aStride, b, bOffset, ldb, bStride,
                                                beta.load(as: Double.self), c, cOffset, ldc, cStride, batch, &q, nil)
        case 3232:
            status = CLBlastCgemmStridedBatched(CLBlastLayoutRowMajor, t(transA), t(transB), m, n, k,
                                                alpha.loadUnaligned(as: cl_float2.self), a, aOffset, lda, aStride, b, bOffset, ldb, bStride,
                                                beta.loadUnaligned(as: cl_float2.self), c, cOffset, ldc, cStride, batch, &q, nil)
        case 6464:
            status = CLBlastZgemmStridedBatched(CLBlastLayoutRowMajor, t(transA), t(transB), m, n, k,
                                                alpha.loadUnaligned(as: cl_double2.self), a, aOffset, lda, aStride, b, bOffset, ldb, bStride,
                                                beta.loadUnaligned(as: cl_double2.self), c, cOffset, ldc, cStride, batch, &q, nil)
        default:
            throw CLError(status: CL_INVALID_VALUE, call: "CLBlastGemm: precision \(precision)")
        }
        if status != CLBlastSuccess {
            throw CLError(status: status.rawValue, call: "CLBlast?gemmStridedBatched")
        }
    }
}
