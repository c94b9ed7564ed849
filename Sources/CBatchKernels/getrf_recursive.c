/*
 * getrf_recursive.c - LU factorization with partial pivoting (LAPACK xGETRF
 * semantics) for column-major matrices, on top of OpenBLAS's CBLAS.
 * See batchkernels.h for the contract and getrf_recursive_impl.h for the algorithm.
 *
 * Plain C11; all vector work is done inside OpenBLAS (GEMM, TRMM, IxAMAX).
 * Thread-safe: no global mutable state; each call allocates its own small
 * workspace (about min(m,n) * 32 elements, heap).
 */
#include "batchkernels.h"

#include <cblas.h>
#include <float.h>
#include <stddef.h>
#include <stdlib.h>

/* Tuning (measured on a 2-core AVX-512 Zen4 VM with OpenBLAS 0.3.21 for
 * n = 128 .. 2048, f32 and f64, with 1 and 2 BLAS threads):
 *   LU_LEAF   widest block handled by the unblocked kernel (4..16 performed
 *             the same; 8 chosen).
 *   ib        size of the diagonal blocks of L whose inverses are cached and
 *             applied with TRMM: 16 is best below min(m,n) = 512 (32 costs
 *             3-15% there), 32 is best from 512 up (2-10% faster than 16,
 *             most for f32 with threaded BLAS; 64 gains only ~1% more).
 *             Larger blocks also mean larger explicit inverses, which is
 *             the one numerical departure from LAPACK's substitution. */
#define LU_LEAF 8
#define LU_IB_SMALL 16
#define LU_IB_LARGE 32
#define LU_IB_LARGE_FROM 512

#if defined(__GNUC__) || defined(__clang__)
#define LU_PREFETCH(p) __builtin_prefetch((p), 1, 3)
#else
#define LU_PREFETCH(p) ((void)0)
#endif

/* double precision */
#define REAL double
#define FN(x) x##_f64
#define IAMAX cblas_idamax
#define TRSM cblas_dtrsm
#define TRMM cblas_dtrmm
#define GEMM cblas_dgemm
#define SFMIN DBL_MIN
#include "getrf_recursive_impl.h"

/* single precision */
#define REAL float
#define FN(x) x##_f32
#define IAMAX cblas_isamax
#define TRSM cblas_strsm
#define TRMM cblas_strmm
#define GEMM cblas_sgemm
#define SFMIN FLT_MIN
#include "getrf_recursive_impl.h"

/* Out-of-place transpose in 32 x 32 tiles: dst (cols x rows, leading
 * dimension ldd) = transpose of src (rows x cols, leading dimension lds),
 * for elements of 4, 8 or 16 bytes. */
#define BLK_TILE 32
#define DEFINE_TRANSPOSE(NAME, TYPE)                                                           \
    static void NAME(int rows, int cols, const TYPE *src, int lds, TYPE *dst, int ldd) {       \
        for (int i0 = 0; i0 < rows; i0 += BLK_TILE) {                                          \
            const int i1 = i0 + BLK_TILE < rows ? i0 + BLK_TILE : rows;                        \
            for (int j0 = 0; j0 < cols; j0 += BLK_TILE) {                                      \
                const int j1 = j0 + BLK_TILE < cols ? j0 + BLK_TILE : cols;                    \
                for (int j = j0; j < j1; ++j)                                                  \
                    for (int i = i0; i < i1; ++i) dst[(size_t)j * ldd + i] = src[(size_t)i * lds + j]; \
            }                                                                                  \
        }                                                                                      \
    }
typedef struct { uint64_t lo, hi; } blk_u128;
DEFINE_TRANSPOSE(transpose_4, uint32_t)
DEFINE_TRANSPOSE(transpose_8, uint64_t)
DEFINE_TRANSPOSE(transpose_16, blk_u128)

void blk_transpose(int elem_bytes, int rows, int cols, const void *src, int lds, void *dst, int ldd) {
    switch (elem_bytes) {
    case 4: transpose_4(rows, cols, src, lds, dst, ldd); break;
    case 8: transpose_8(rows, cols, src, lds, dst, ldd); break;
    case 16: transpose_16(rows, cols, src, lds, dst, ldd); break;
    default: break;
    }
}
