// Batched kernels for many small square matrices on the CPU, vectorised
// across matrices: a group of 8 (f64) or 16 (f32) matrices is held
// interleaved, element (i, j) of every matrix in one 64-byte vector, so each
// step of the algorithm is one vector instruction for the whole group. Each
// kernel is compiled for AVX-512, AVX2+FMA and baseline x86-64; callers pass
// the variant (normally blk_isa_detected()). Also: a blocked row-major LU of
// one matrix at a time for the sizes the interleaved layout does not keep in
// cache (compiled the same way), a recursive getrf for
// larger column-major matrices, a tiled transpose, a huge-page hint.
//
// Matrices are row-major n x n at `stride = n * n` elements apart.
#ifndef BATCHKERNELS_H
#define BATCHKERNELS_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Instruction-set variants of the interleaved kernels.
enum { BLK_ISA_BASELINE = 0, BLK_ISA_AVX2 = 1, BLK_ISA_AVX512 = 2 };
/// The widest variant this CPU runs (detected once per process).
int blk_isa_detected(void);
/// Whether this CPU runs variant `isa`.
int blk_isa_supported(int isa);
/// "avx512", "avx2" or "baseline".
const char *blk_isa_name(int isa);

/// LU with partial pivoting (LAPACK getf2 semantics: the first row holding
/// the largest |a| in the column; a zero pivot leaves the column unscaled
/// and sets info to its 1-based column if info is still 0; the reciprocal of
/// the pivot scales the column unless the pivot is below the smallest normal
/// number). Reads matrices [0, count) from `in`, writes the packed factors to
/// `out` (may equal `in`), 1-based pivots to `ipiv` (count * n) and `info`
/// (count). With `pivot` = 0, no interchanges (ipiv[j] = j + 1). With
/// `stream` nonzero, `out` is written with non-temporal stores (for outputs
/// larger than the caches; same values).
///
/// `isa` names the variant (a variant this CPU does not run is replaced by
/// the detected one). The interleaved kernels return 0, -1 when their
/// scratch memory (a few times 64 * n * n bytes) cannot be allocated, -2 for
/// n outside 1 ... 64.
int blk_getrf_f64(int isa, const double *in, double *out, int32_t *ipiv, int32_t *info, int64_t count,
                  int32_t n, int32_t pivot, int32_t stream);
int blk_getrf_f32(int isa, const float *in, float *out, int32_t *ipiv, int32_t *info, int64_t count,
                  int32_t n, int32_t pivot, int32_t stream);

/// The same factorization (same semantics, pivots and info) of `count`
/// row-major m x n matrices of any size, two finite matrices at a time (their
/// panel columns factored in step, so that their dependent steps overlap),
/// in place in `out` (which may equal `in`; otherwise `in` is copied there
/// first): a blocked right-looking LU whose panels of W columns (8 for f64,
/// 16 for f32) are factored in a column-major scratch and whose trailing
/// update runs in register tiles. Every element sees the unblocked
/// algorithm's products in the same order, as FMAs. A matrix holding Inf or
/// NaN is factored unblocked, where a zero multiplier leaves its row (0 * Inf
/// makes no NaN); a finite matrix whose elimination overflows to Inf may give
/// NaN where the unblocked order would not. Returns 0, -1 when its scratch (about
/// 2 m n elements) cannot be allocated, -2 for m or n below 1.
int blk_getrf_rm_f64(int isa, const double *in, double *out, int32_t *ipiv, int32_t *info, int64_t count, int32_t m,
                     int32_t n, int32_t pivot);
int blk_getrf_rm_f32(int isa, const float *in, float *out, int32_t *ipiv, int32_t *info, int64_t count, int32_t m,
                     int32_t n, int32_t pivot);

/// The same factorization of `count` large row-major m x n matrices, one
/// after the other, from `in` into `out` (which may equal `in`; otherwise
/// each matrix is copied there first, split over the threads): panels of `nb`
/// columns factored as above in place with the matrix's leading dimension,
/// their interchanges applied to the rest of the rows, U12 by blocks of 32
/// rows, the trailing update by BLAS GEMM. With `threads` > 1 (at most 64)
/// each step is shared: one thread factors the next panel while the others
/// update the rest of the trailing matrix; BLAS must then run
/// single-threaded. Returns 0, -1 when its scratch (nb * m elements) cannot
/// be allocated, -2 for m, n or nb below 1.
int blk_getrf_rm_large_f64(int isa, const double *in, double *out, int32_t *ipiv, int32_t *info, int64_t count,
                           int32_t m, int32_t n, int32_t pivot, int32_t nb, int32_t threads);
int blk_getrf_rm_large_f32(int isa, const float *in, float *out, int32_t *ipiv, int32_t *info, int64_t count,
                           int32_t m, int32_t n, int32_t pivot, int32_t nb, int32_t threads);

/// The gradient of the packed factorization of square matrices (MATH.md):
///   Φ = tril₋₁(Lᵀ L̄) + triu(Ū Uᵀ);  Ā = P L⁻ᵀ Φ U⁻ᵀ,
/// with `lu`/`ipiv` from blk_getrf or LAPACK, `g` the packed gradient of the
/// factors, `out` receiving Ā (must not alias the inputs). Same `isa`,
/// `stream` and return values as blk_getrf.
int blk_getrf_backward_f64(int isa, const double *lu, const int32_t *ipiv, const double *g, double *out,
                           int64_t count, int32_t n, int32_t stream);
int blk_getrf_backward_f32(int isa, const float *lu, const int32_t *ipiv, const float *g, float *out,
                           int64_t count, int32_t n, int32_t stream);

/// The gradient of the packed factorization of row-major m x n matrices of
/// any shape (MATH.md: square, wide, tall), one matrix at a time, with the
/// same inputs (`ipiv` holding min(m, n) entries per matrix). Square: Φ in
/// register tiles (L read transposed, Uᵀ copied with zeros above its
/// diagonal), Lᵀ Y = Φ by blocks of rows from the bottom, then U Zᵀ = Yᵀ on
/// the transposed Y the same way, Ā = P Z. Wide and tall: the same tiles and
/// solves on their S, T and M; only the triangle of S and T that is not zero
/// is computed. Scratch: 3 k² + 2 m n elements (k = min(m, n)). Same `isa`
/// and return values (-2 for m or n below 1).
int blk_getrf_backward_rm_f64(int isa, const double *lu, const int32_t *ipiv, const double *g, double *out,
                              int64_t count, int32_t m, int32_t n);
int blk_getrf_backward_rm_f32(int isa, const float *lu, const int32_t *ipiv, const float *g, float *out,
                              int64_t count, int32_t m, int32_t n);

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

#ifdef __cplusplus
}
#endif
#endif
