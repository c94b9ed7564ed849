// Batched kernels for many small square matrices on the CPU, vectorised
// across matrices: a group of 8 (f64) or 16 (f32) matrices is held
// interleaved, element (i, j) of every matrix in one 64-byte vector, so each
// step of the algorithm is one vector instruction for the whole group. Each
// entry point picks, once per process, the variant compiled for the widest
// instruction set the CPU has (AVX-512, AVX2+FMA, or baseline x86-64).
//
// Matrices are row-major n x n at `stride = n * n` elements apart.
#ifndef BATCHKERNELS_H
#define BATCHKERNELS_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// LU with partial pivoting (LAPACK getf2 semantics: the first row holding
/// the largest |a| in the column; a zero pivot leaves the column unscaled
/// and sets info to its 1-based column if info is still 0; the reciprocal of
/// the pivot scales the column unless the pivot is below the smallest normal
/// number). Reads matrices [0, count) from `in`, writes the packed factors to
/// `out` (may equal `in`), 1-based pivots to `ipiv` (count * n) and `info`
/// (count). With `pivot` = 0, no interchanges (ipiv[j] = j + 1).
/// These kernels return 0, -1 when their scratch memory (a few times
/// 64 * n * n bytes) cannot be allocated, -2 for n outside 1 ... 64.
int blk_getrf_f64(const double *in, double *out, int32_t *ipiv, int32_t *info, int64_t count, int32_t n,
                   int32_t pivot);
int blk_getrf_f32(const float *in, float *out, int32_t *ipiv, int32_t *info, int64_t count, int32_t n,
                   int32_t pivot);

/// The gradient of the packed factorization of square matrices (MATH.md):
///   Φ = tril₋₁(Lᵀ L̄) + triu(Ū Uᵀ);  Ā = P L⁻ᵀ Φ U⁻ᵀ,
/// with `lu`/`ipiv` from blk_getrf or LAPACK, `g` the packed gradient of the
/// factors, `out` receiving Ā (must not alias the inputs).
int blk_getrf_backward_f64(const double *lu, const int32_t *ipiv, const double *g, double *out, int64_t count,
                            int32_t n);
int blk_getrf_backward_f32(const float *lu, const int32_t *ipiv, const float *g, float *out, int64_t count,
                            int32_t n);

/// LU with partial pivoting of one column-major m x n matrix (leading
/// dimension lda >= max(1, m)), in place, with LAPACK getrf's contract: 1-based
/// ipiv (min(m, n) entries), returns info (0, or the first j + 1 whose pivot
/// is exactly zero; the factorization continues past it, that column neither
/// interchanged nor scaled), or -1 / -2 / -4 for an invalid m / n / lda.
/// Pivot choice: the first row holding the largest |a| (i?amax).
/// Algorithm: getrf2-style recursion over the columns on OpenBLAS GEMM; the
/// triangular solves recurse into GEMM down to 16 x 16 (32 x 32 from
/// min(m, n) = 512) diagonal blocks of L, applied as TRMM with their inverse
/// (computed once per block). OpenBLAS threads the calls if it is threaded.
int blk_getrf_cm_f64(int m, int n, double *a, int lda, int *ipiv);
int blk_getrf_cm_f32(int m, int n, float *a, int lda, int *ipiv);

/// dst (cols x rows, leading dimension ldd) = the transpose of src (rows x
/// cols, leading dimension lds), for elements of 4, 8 or 16 bytes, in
/// cache-sized tiles.
void blk_transpose(int elem_bytes, int rows, int cols, const void *src, int lds, void *dst, int ldd);

/// Asks the kernel to back [p, p + bytes) with huge pages where it can (a
/// hint; nothing happens on systems without transparent huge pages). Call
/// before the memory is first written: it makes first-touch page faults of a
/// large fresh buffer several times cheaper.
void blk_advise_huge_pages(void *p, size_t bytes);

/// Which instruction-set variant the entry points run: "avx512", "avx2" or "baseline".
const char *blk_isa(void);

/// Instruction-set variants, for tests that run each one this CPU can.
enum { BLK_ISA_BASELINE = 0, BLK_ISA_AVX2 = 1, BLK_ISA_AVX512 = 2 };
/// Whether this CPU runs variant `isa`.
int blk_isa_supported(int isa);
/// The entry points above with the variant named (one this CPU does not
/// support is replaced by the detected one).
int blk_getrf_f64_isa(int isa, const double *in, double *out, int32_t *ipiv, int32_t *info, int64_t count,
                       int32_t n, int32_t pivot);
int blk_getrf_f32_isa(int isa, const float *in, float *out, int32_t *ipiv, int32_t *info, int64_t count,
                       int32_t n, int32_t pivot);
int blk_getrf_backward_f64_isa(int isa, const double *lu, const int32_t *ipiv, const double *g, double *out,
                                int64_t count, int32_t n);
int blk_getrf_backward_f32_isa(int isa, const float *lu, const int32_t *ipiv, const float *g, float *out,
                                int64_t count, int32_t n);

#ifdef __cplusplus
}
#endif
#endif
