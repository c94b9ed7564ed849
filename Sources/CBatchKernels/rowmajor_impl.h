// One variant of the per-matrix row-major LU; included by kernels_variants.h
// next to kernels_impl.h (same T, V, W, TMIN, FN), with BLK_MR x BLK_NR the
// register tile (rows x vectors) of the trailing update.
//
// Matrices too large for the interleaved kernels to keep in L1 (their group
// is W times one matrix): one matrix at a time, in place in `out`, row-major
// as the caller holds it, so a row interchange is a contiguous copy. Blocked
// right-looking: panels of W columns factored column by column (getf2), then
// U12 = L11⁻¹ A12 and A22 -= L21 U12 in register tiles. Every element's
// products are subtracted in the order of the unblocked algorithm, as FMAs,
// so blocking changes no bits. A matrix holding Inf or NaN is factored
// unblocked instead, whose updates skip rows with a zero multiplier (so
// 0 * Inf makes no NaN, as in the other kernels).

// The first `cw` (< W) elements at `p` as a vector, zero past them; and
// back (for the columns past the last whole vector of a row). With AVX-512,
// one masked load or store; with AVX2, one per 32-byte half (the elements
// past `cw` are not touched).
#if defined(BLK_MASKED_AVX2)
// The lanes of 32-byte half `h` of a vector that lie below `cw`, as an
// AVX2 mask (all bits set per lane).
static inline __attribute__((always_inline)) __m256i FN(half_mask)(int cw, int h) {
#if W == 8
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(cw - 4 * h), _mm256_setr_epi64x(0, 1, 2, 3));
#else
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(cw - 8 * h), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
#endif
}
#endif
static inline __attribute__((always_inline)) V FN(ldpart)(const T *p, int cw) {
#if defined(BLK_MASKED) && W == 8
    return (V)_mm512_maskz_loadu_pd((__mmask8)((1u << cw) - 1), p);
#elif defined(BLK_MASKED) && W == 16
    return (V)_mm512_maskz_loadu_ps((__mmask16)((1u << cw) - 1), p);
#elif defined(BLK_MASKED_AVX2) && W == 8
    const __m256d lo = _mm256_maskload_pd(p, FN(half_mask)(cw, 0)), hi = _mm256_maskload_pd(p + 4, FN(half_mask)(cw, 1));
    return __builtin_shufflevector((blk_vf64h)lo, (blk_vf64h)hi, 0, 1, 2, 3, 4, 5, 6, 7);
#elif defined(BLK_MASKED_AVX2) && W == 16
    const __m256 lo = _mm256_maskload_ps(p, FN(half_mask)(cw, 0)), hi = _mm256_maskload_ps(p + 8, FN(half_mask)(cw, 1));
    return __builtin_shufflevector((blk_vf32h)lo, (blk_vf32h)hi, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
#else
    V v = FN(splat)(0);
    for (int e = 0; e < cw; ++e) v[e] = p[e];
    return v;
#endif
}
static inline __attribute__((always_inline)) void FN(stpart)(T *p, V v, int cw) {
#if defined(BLK_MASKED) && W == 8
    _mm512_mask_storeu_pd(p, (__mmask8)((1u << cw) - 1), (__m512d)v);
#elif defined(BLK_MASKED) && W == 16
    _mm512_mask_storeu_ps(p, (__mmask16)((1u << cw) - 1), (__m512)v);
#elif defined(BLK_MASKED_AVX2) && W == 8
    _mm256_maskstore_pd(p, FN(half_mask)(cw, 0), (__m256d)__builtin_shufflevector(v, v, 0, 1, 2, 3));
    _mm256_maskstore_pd(p + 4, FN(half_mask)(cw, 1), (__m256d)__builtin_shufflevector(v, v, 4, 5, 6, 7));
#elif defined(BLK_MASKED_AVX2) && W == 16
    _mm256_maskstore_ps(p, FN(half_mask)(cw, 0), (__m256)__builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7));
    _mm256_maskstore_ps(p + 8, FN(half_mask)(cw, 1),
                        (__m256)__builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15));
#else
    for (int e = 0; e < cw; ++e) p[e] = v[e];
#endif
}

// y - x u in the lanes `live` (one FMA), y in the others. With AVX-512, one
// merge-masked FMA with the scalar broadcast from memory; written as a select
// after the FMA, it cost a blend per vector and column (C harness at -O2, one
// thread, in cache, min of 3 rounds: f64 64 x 32 0.146 -> 0.139 ms per 40,
// f32 64 x 32 0.098 -> 0.093 ms, f64 128 x 128 0.341 -> 0.332 ms per 8).
static inline __attribute__((always_inline)) V FN(fnma_live)(V y, V x, const T *u, VI live) {
#if defined(BLK_MASKED) && W == 8
    return (V)_mm512_mask3_fnmadd_pd((__m512d)x, _mm512_set1_pd(*u), (__m512d)y,
                                     _mm512_test_epi64_mask((__m512i)live, (__m512i)live));
#elif defined(BLK_MASKED) && W == 16
    return (V)_mm512_mask3_fnmadd_ps((__m512)x, _mm512_set1_ps(*u), (__m512)y,
                                     _mm512_test_epi32_mask((__m512i)live, (__m512i)live));
#else
    return FN(sel)(live, y - x * FN(splat)(*u), y);
#endif
}

// C[rows i .. i + mr) x [c, c + nv * W) -= (or, with `add`, +=) the sum over
// k in [k0, k1) of A(row, k) B[k][cols], in order of k, held in registers;
// A(i, k) = A[i * sai + k * sak] (so A may be read transposed), B and C
// row-major.
static inline __attribute__((always_inline)) void FN(gtile)(const T *A, int64_t sai, int64_t sak, const T *B,
                                                             int64_t ldb, T *C, int64_t ldc, int i, int c, int k0,
                                                             int k1, const int mr, const int nv, const int add) {
    V acc[BLK_MR][BLK_NR];
    for (int r = 0; r < mr; ++r)
        for (int q = 0; q < nv; ++q) acc[r][q] = FN(ldu)(C + (i + r) * ldc + c + q * W);
    for (int k = k0; k < k1; ++k) {
        V u[BLK_NR];
        for (int q = 0; q < nv; ++q) u[q] = FN(ldu)(B + k * ldb + c + q * W);
        for (int r = 0; r < mr; ++r) {
            const V l = FN(splat)(A[(i + r) * sai + k * sak]);
            for (int q = 0; q < nv; ++q) acc[r][q] = add ? acc[r][q] + l * u[q] : acc[r][q] - l * u[q];
        }
    }
    for (int r = 0; r < mr; ++r)
        for (int q = 0; q < nv; ++q) FN(stu)(C + (i + r) * ldc + c + q * W, acc[r][q]);
}

// Rows [i, i + mr) x columns [c, c + cw), cw < W, of C -= (+=) A(row, k)
// u[k - k0] for k in [k0, k1), in order of k, `u` holding the partial rows
// of B zero-padded to whole vectors; C's partial rows go through registers
// the same way.
static inline __attribute__((always_inline)) void FN(gtail)(const T *A, int64_t sai, int64_t sak, const V *u, T *C,
                                                             int64_t ldc, int i, int c, int cw, int k0, int k1,
                                                             const int mr, const int add) {
    V acc[BLK_MR];
    for (int r = 0; r < mr; ++r) acc[r] = FN(ldpart)(C + (i + r) * ldc + c, cw);
    for (int k = k0; k < k1; ++k)
        for (int r = 0; r < mr; ++r) {
            const V l = FN(splat)(A[(i + r) * sai + k * sak]);
            acc[r] = add ? acc[r] + l * u[k - k0] : acc[r] - l * u[k - k0];
        }
    for (int r = 0; r < mr; ++r) FN(stpart)(C + (i + r) * ldc + c, acc[r], cw);
}

// C[r0 .. r1) x [c0 .. c1) -= (+= with `add`) sum over k in [k0, k1) of
// A(row, k) B[k][col]: BLK_MR x BLK_NR-vector tiles, then narrower ones;
// the last c1 - c0 mod W columns as one zero-padded vector (B's partial rows
// copied once per 32 values of k, shared by all rows). C must not overlap
// the parts of A and B it reads.
static inline __attribute__((always_inline)) void FN(gupdate)(const T *A, int64_t sai, int64_t sak, const T *B,
                                                               int64_t ldb, T *C, int64_t ldc, int r0, int r1, int c0,
                                                               int c1, int k0, int k1, const int add) {
    if (k0 >= k1) return;
    const int cv = c0 + (c1 - c0) / W * W;  // whole vectors [c0, cv)
    int i = r0;
    for (; i + BLK_MR <= r1; i += BLK_MR) {
        int c = c0;
        for (; c + BLK_NR * W <= cv; c += BLK_NR * W)
            FN(gtile)(A, sai, sak, B, ldb, C, ldc, i, c, k0, k1, BLK_MR, BLK_NR, add);
        if (BLK_NR > 2 && c + 2 * W <= cv) FN(gtile)(A, sai, sak, B, ldb, C, ldc, i, c, k0, k1, BLK_MR, 2, add), c += 2 * W;
        for (; c < cv; c += W) FN(gtile)(A, sai, sak, B, ldb, C, ldc, i, c, k0, k1, BLK_MR, 1, add);
    }
    for (; i < r1; ++i) {
        int c = c0;
        for (; c + BLK_NR * W <= cv; c += BLK_NR * W)
            FN(gtile)(A, sai, sak, B, ldb, C, ldc, i, c, k0, k1, 1, BLK_NR, add);
        if (BLK_NR > 2 && c + 2 * W <= cv) FN(gtile)(A, sai, sak, B, ldb, C, ldc, i, c, k0, k1, 1, 2, add), c += 2 * W;
        for (; c < cv; c += W) FN(gtile)(A, sai, sak, B, ldb, C, ldc, i, c, k0, k1, 1, 1, add);
    }
    const int cw = c1 - cv;
    if (cw == 0) return;
    V u[32];
    for (int kc = k0; kc < k1; kc += 32) {
        const int ke = kc + 32 < k1 ? kc + 32 : k1;
        for (int k = kc; k < ke; ++k) u[k - kc] = FN(ldpart)(B + k * ldb + cv, cw);
        int r = r0;
        for (; r + BLK_MR <= r1; r += BLK_MR) FN(gtail)(A, sai, sak, u, C, ldc, r, cv, cw, kc, ke, BLK_MR, add);
        for (; r < r1; ++r) FN(gtail)(A, sai, sak, u, C, ldc, r, cv, cw, kc, ke, 1, add);
    }
}

// The factorization's trailing update: rows [r0, r1) x columns [c0, c1) of
// `a` -= a[rows, k0 .. k1) a[k0 .. k1, cols).
static void FN(rm_update)(T *a, int ld, int r0, int r1, int c0, int c1, int k0, int k1) {
    FN(gupdate)(a, ld, 1, a, ld, a, ld, r0, r1, c0, c1, k0, k1, 0);
}

// U12 = L11⁻¹ A12 for the panel rows [k0, k1) and columns [c0, c1): row i
// minus A[i, k] times row k for k0 <= k < i, in order of k, the rows in
// order (each uses the rows above it, already final).
// The last (c1 - c0) mod W columns go through registers zero-padded, each
// row's part kept for the rows below (at most 32 rows, else row by row).
static void FN(rm_trsm)(T *a, int ld, int k0, int k1, int c0, int c1) {
    const int cw = k1 - k0 <= 32 ? (c1 - c0) % W : 0, cv = c1 - cw;
    for (int i = k0 + 1; i < k1; ++i) FN(gupdate)(a, ld, 1, a, ld, a, ld, i, i + 1, c0, cv, k0, i, 0);
    if (cw == 0) return;
    V u[32];
    for (int i = k0; i < k1; ++i) {
        T *r = a + (int64_t)i * ld + cv;
        V x = FN(ldpart)(r, cw);
        for (int k = k0; k < i; ++k) x = x - FN(splat)(a[(int64_t)i * ld + k]) * u[k - k0];
        u[i - k0] = x;
        FN(stpart)(r, x, cw);
    }
}

// Whether the m x n block at `a` (leading dimension ld) is all finite;
// with `copy`, the block is also copied there (same leading dimension) in
// the same pass. A contiguous block (ld = n) is scanned as one row.
static inline __attribute__((always_inline)) int FN(rm_finite)(const T *a, int m, int n, int ld, T *copy) {
    const int64_t rows = ld == n ? 1 : m, len = ld == n ? (int64_t)m * n : n;
    VI bad = (VI)FN(splat)(0);
    int ok = 1;
    for (int64_t i = 0; i < rows; ++i) {
        const T *r = a + i * ld;
        T *d = copy ? copy + i * ld : NULL;
        int64_t e = 0;
        for (; e + W <= len; e += W) {
            const V x = FN(ldu)(r + e);
            if (d) FN(stu)(d + e, x);
            bad |= (VI)((x - x) != FN(splat)(0));  // Inf - Inf and NaN - NaN are NaN
        }
        for (; e < len; ++e) {
            if (d) d[e] = r[e];
            ok &= (r[e] - r[e]) == 0;
        }
    }
    return ok && !FN(any)(bad);
}

// Exchanges elements [c0, c1) of two rows.
static inline __attribute__((always_inline)) void FN(rm_swap)(T *x, T *y, int c0, int c1) {
    int c = c0;
    for (; c + W <= c1; c += W) {
        const V t = FN(ldu)(x + c);
        FN(stu)(x + c, FN(ldu)(y + c));
        FN(stu)(y + c, t);
    }
    for (; c < c1; ++c) {
        const T t = x[c];
        x[c] = y[c];
        y[c] = t;
    }
}

// Index of the first largest |col[i]| for i in [q, h), NaN never larger
// (LAPACK's i?amax scan: `if |x[i]| > best`, best starting at |col[q]|),
// over whole aligned vectors: lanes below q are masked, the rows from h to
// the next multiple of W are zero padding, which never wins. Each lane keeps
// its first largest value; then the lowest index among the lanes holding the
// overall largest.
static inline __attribute__((always_inline)) void FN(rm_iamax_step)(V v, int i, VI lane, V *mv, VI *iv) {
    const VI gt = (VI)(v > *mv);
    *mv = FN(sel)(gt, v, *mv);
    *iv = (gt & (lane + i)) | (~gt & *iv);
}
// The lanes' first largest values `mv` (no NaN) and their rows `iv`: the
// lowest row holding the overall largest, which goes to *mx.
static inline __attribute__((always_inline)) int FN(rm_iamax_reduce)(V mv, VI iv, VI lane, int h, T *mx) {
#if W == 16
    // One reduction instead of two: each lane's 64-bit key is the bits of
    // its value (a non-negative float orders as its bits) over the
    // complement of its row, so the largest key holds the largest value and,
    // among equal values, the lowest row; a masked lane (value -1) keys 0.
    (void)lane;
    (void)h;
    const VI live = (VI)(mv >= FN(splat)(0));
    const blk_vu32h *b = (const blk_vu32h *)&(VI){(VI)mv & live}, *r = (const blk_vu32h *)&(VI){~iv & live};
    const blk_vu64 lo = __builtin_convertvector(b[0], blk_vu64) << 32 | __builtin_convertvector(r[0], blk_vu64);
    const blk_vu64 hi = __builtin_convertvector(b[1], blk_vu64) << 32 | __builtin_convertvector(r[1], blk_vu64);
    const unsigned long long key = __builtin_reduce_max(__builtin_elementwise_max(lo, hi));
    const unsigned bits = (unsigned)(key >> 32);
    __builtin_memcpy(mx, &bits, sizeof bits);
    return (int)~(unsigned)key;
#else
    // The largest value by an integer reduction of the lanes' bits (a
    // non-negative double orders as its bits, a masked lane's -1 as a
    // negative integer): __builtin_reduce_max on doubles is a chain of
    // scalar maxima with NaN fix-ups, 18.6 % of this function's samples at
    // 64 x 32 (perf cpu-clock).
    const VI bits = (VI)mv;
    const long long top = __builtin_reduce_max(bits);
    __builtin_memcpy(mx, &top, sizeof top);
    const VI at = (VI)(bits == top);
    return (int)__builtin_reduce_min((at & iv) | (~at & (lane * 0 + h)));
#endif
}
static inline __attribute__((always_inline)) int FN(rm_iamax)(const T *col, int q, int h, VI lane, T *mx) {
    if (col[q] != col[q]) {  // NaN first: nothing is larger
        *mx = col[q];
        return q;
    }
    const int i0 = q / W * W;
    const V none = FN(splat)(-1);
    V mv = none;
    VI iv = lane * 0;
    for (int i = i0; i < h; i += W) {
        V v = FN(vabs)(*(const V *)(col + i));
        if (i == i0) v = FN(sel)((VI)(lane + i >= q), v, none);
        FN(rm_iamax_step)(v, i, lane, &mv, &iv);
    }
    return FN(rm_iamax_reduce)(mv, iv, lane, h, mx);
}

// Copies the h x w block at `a` (row-major, leading dimension ld) to `pc`
// (column-major, leading dimension ldp >= h, rows [h, ldp) set to zero)
// when `in`, back when not: W x W
// blocks transposed in registers, the edges one element at a time.
static void FN(rm_panel)(T *a, int ld, T *pc, int ldp, int h, int w, int in) {
    int q0 = 0;
    for (; q0 + W <= w; q0 += W) {
        int i0 = 0;
        for (; i0 + W <= h; i0 += W) {
            V r[W];
            if (in) {
                for (int k = 0; k < W; ++k) r[k] = FN(ldu)(a + (int64_t)(i0 + k) * ld + q0);
                FN(transpose)(r);
                for (int k = 0; k < W; ++k) FN(stu)(pc + (int64_t)(q0 + k) * ldp + i0, r[k]);
            } else {
                for (int k = 0; k < W; ++k) r[k] = FN(ldu)(pc + (int64_t)(q0 + k) * ldp + i0);
                FN(transpose)(r);
                for (int k = 0; k < W; ++k) FN(stu)(a + (int64_t)(i0 + k) * ld + q0, r[k]);
            }
        }
#pragma clang loop vectorize(disable)
        for (int i = i0; i < h; ++i)
            for (int q = q0; q < q0 + W; ++q) {
                if (in) pc[(int64_t)q * ldp + i] = a[(int64_t)i * ld + q];
                else a[(int64_t)i * ld + q] = pc[(int64_t)q * ldp + i];
            }
    }
    // The tests on q0 < w and h < ldp are explicit: at -O2 (SwiftPM's
    // release C flags) clang kept the row loop around an empty column loop,
    // h idle iterations per call, 40 % of this function's time at 64 x 32.
    if (q0 < w)
#pragma clang loop vectorize(disable)
        for (int i = 0; i < h; ++i)
            for (int q = q0; q < w; ++q) {
                if (in) pc[(int64_t)q * ldp + i] = a[(int64_t)i * ld + q];
                else a[(int64_t)i * ld + q] = pc[(int64_t)q * ldp + i];
            }
    if (in && h < ldp)  // padding rows [h, ldp): zero, so no update touches them
        for (int q = 0; q < w; ++q)
            for (int i = h; i < ldp; ++i) pc[(int64_t)q * ldp + i] = 0;
}

// One m x n row-major matrix in place (leading dimension ld >= n), `pc`
// scratch for n * (m rounded up to W) elements: getf2 semantics as blk_getrf (first largest |a|, zero
// pivot -> info, reciprocal scaling unless the pivot is subnormal, a zero
// multiplier leaves its row). Each panel is factored in `pc`, column-major,
// so that its pivot search, scaling and updates run down contiguous columns.
// `finite` says whether the matrix holds only finite numbers; if not, it is
// factored unblocked (one panel of all n columns).
// `cnt` (1 to BLK_STEP) matrices of the same shape at once: their panels
// are factored column by column in step, a column of each matrix in turn,
// so that one's chain of dependent steps (pivot search, interchange,
// scaling, update) overlaps the others'. Each matrix's arithmetic is that of
// factoring it alone. More than one must all be finite.
// `pf` (`pfn` elements; may be NULL): memory to prefetch for reading, a
// share per column; `pfo` (the same size; may be NULL): for writing.
#ifndef BLK_STEP
#define BLK_STEP 4
#endif
static inline __attribute__((always_inline)) void FN(rm_getrf_multi)(const int cnt, T *const *a, T *const *pc, int m,
                                                                      int n, int ld, int32_t *const *ipiv,
                                                                      int32_t *const *info, int pivot, int finite,
                                                                      const T *pf, int64_t pfn, T *pfo) {
    const int kmax = m < n ? m : n;
    const int nb = finite ? W : n;
    int32_t inf[BLK_STEP] = {0};
    VI lane;
    for (int l = 0; l < W; ++l) lane[l] = l;
    for (int k0 = 0; k0 < kmax; k0 += nb) {
        const int pe = k0 + nb < kmax ? k0 + nb : kmax;  // panel columns [k0, pe)
        const int w = nb == n ? n - k0 : pe - k0;         // columns the panel's own updates reach
        const int h = m - k0, ldp = (h + W - 1) / W * W;  // panel rows [k0, m), padded
        int nextp[BLK_STEP];  // the next column's pivot row, found by the update
        T nextmx[BLK_STEP];
        for (int t = 0; t < cnt; ++t) nextp[t] = -1, nextmx[t] = 0;
        for (int t = 0; t < cnt; ++t) FN(rm_panel)(a[t] + (int64_t)k0 * ld + k0, ld, pc[t], ldp, h, w, 1);
        for (int j = k0; j < pe; ++j)
            for (int t = 0; t < cnt; ++t) {
                if (pf && t == 0) FN(prefetch_part)(pf, pfn, j, kmax);
                if (pfo && t == (cnt > 1)) FN(prefetch_part_w)(pfo, pfn, j, kmax);
                const int q = j - k0;
                T *const p_c = pc[t], *col = p_c + q * ldp;
                int p = q;
                T mx = 0;  // |pivot| (NaN: the pivot)
                if (pivot) {
                    p = nextp[t] >= 0 ? nextp[t] : FN(rm_iamax)(col, q, h, lane, &mx);
                    if (nextp[t] >= 0) mx = nextmx[t];
                    if (p != q) {
                        for (int c = 0; c < w; ++c) {
                            const T x = p_c[c * ldp + q];
                            p_c[c * ldp + q] = p_c[c * ldp + p];
                            p_c[c * ldp + p] = x;
                        }
                        // The rest of the two rows, in place (contiguous).
                        FN(rm_swap)(a[t] + (int64_t)j * ld, a[t] + (int64_t)(k0 + p) * ld, 0, n);
                    }
                }
                ipiv[t][j] = k0 + p + 1;
                const T piv = col[q];
                if (piv == 0 && inf[t] == 0) inf[t] = j + 1;
                // Scaling of column j (by the reciprocal of the pivot, or by
                // division when it is subnormal) and the rank-1 update of the
                // panel's columns right of it, in one pass down the rows, W at a
                // time from the vector holding row j + 1 (lanes above it masked;
                // rows past h are zero padding). A zero multiplier leaves its
                // row (so 0 * Inf makes no NaN).
                const int i0 = (q + 1) / W * W, nc = w - q - 1;
                const VI first = (VI)(lane + i0 > q), all = (VI)(lane >= 0);
                const int scale = piv != 0, divide = scale && (piv < 0 ? -piv : piv) < TMIN;
                // With pivoting, 1 / |pivot| from the search's maximum, so that
                // the division need not wait for the pivot's row (the same bits:
                // division is symmetric in sign).
                const T r = scale ? (pivot && mx == mx ? __builtin_copysign((T)1 / mx, piv) : (T)1 / piv) : (T)1;
                const V rv = FN(splat)(r), pv = FN(splat)(piv);
                const T *us = p_c + (q + 1) * ldp + q;  // row j of the panel's columns right of j, ldp apart
                // The next column's pivot search, fused with its update here.
                const int track = pivot && j + 1 < pe;
                const V none = FN(splat)(-1);
                V mv = none;
                VI iv = lane * 0;
                for (int i = i0; i < ldp; i += W) {
                    const VI below = i == i0 ? first : all;
                    V x = *(const V *)(col + i);
                    if (scale) {
                        x = FN(sel)(below, divide ? x / pv : x * rv, x);
                        *(V *)(col + i) = x;
                    }
                    const VI live = below & (VI)(x != FN(splat)(0));
                    T *cc = p_c + (q + 1) * ldp + i;
                    int c = 0;
                    if (track) {
                        const V y = *(const V *)cc;
                        const V yn = FN(fnma_live)(y, x, us, live);
                        *(V *)cc = yn;
                        FN(rm_iamax_step)(FN(sel)(below, FN(vabs)(yn), none), i, lane, &mv, &iv);
                        ++c;
                        cc += ldp;
                    }
                    for (; c < nc; ++c, cc += ldp) {
                        const V y = *(const V *)cc;
                        *(V *)cc = FN(fnma_live)(y, x, us + c * ldp, live);
                    }
                }
                nextp[t] = -1;
                if (track) {
                    const T *nx = p_c + (q + 1) * ldp;
                    if (nx[q + 1] != nx[q + 1]) nextp[t] = q + 1, nextmx[t] = nx[q + 1];  // NaN first, as FN(rm_iamax)
                    else nextp[t] = FN(rm_iamax_reduce)(mv, iv, lane, h, &nextmx[t]);
                }
            }
        for (int t = 0; t < cnt; ++t) {
            FN(rm_panel)(a[t] + (int64_t)k0 * ld + k0, ld, pc[t], ldp, h, w, 0);
            if (pe < n && w == pe - k0) {
                // U12 = L11⁻¹ A12: row i of the panel minus its rows above.
                FN(rm_trsm)(a[t], ld, k0, pe, pe, n);
                FN(rm_update)(a[t], ld, pe, m, pe, n, k0, pe);  // A22 -= L21 U12
            }
        }
    }
    for (int t = 0; t < cnt; ++t) *info[t] = inf[t];
}

static void FN(rm_getrf_fin)(T *a, T *pc, int m, int n, int ld, int32_t *ipiv, int32_t *info, int pivot,
                             int finite) {
    FN(rm_getrf_multi)(1, &a, &pc, m, n, ld, &ipiv, &info, pivot, finite, NULL, 0, NULL);
}

// `cnt` finite matrices in step (FN(rm_getrf_multi)), each with its scratch:
// 2 to BLK_STEP, as one of two specialized copies.
static void FN(rm_getrf_step)(int cnt, T *const *a, T *const *pc, int m, int n, int ld, int32_t *const *ipiv,
                              int32_t *const *info, int pivot, const T *pf, int64_t pfn, T *pfo) {
    if (cnt == BLK_STEP) FN(rm_getrf_multi)(BLK_STEP, a, pc, m, n, ld, ipiv, info, pivot, 1, pf, pfn, pfo);
    else
        for (int t = 0; t < cnt; t += 2) {
            if (t + 1 < cnt) FN(rm_getrf_multi)(2, a + t, pc + t, m, n, ld, ipiv + t, info + t, pivot, 1, pf, pfn, pfo);
            else FN(rm_getrf_multi)(1, a + t, pc + t, m, n, ld, ipiv + t, info + t, pivot, 1, pf, pfn, pfo);
            pf = NULL, pfo = NULL;
        }
}

static void FN(rm_getrf_one)(T *a, T *pc, int m, int n, int ld, int32_t *ipiv, int32_t *info, int pivot) {
    FN(rm_getrf_fin)(a, pc, m, n, ld, ipiv, info, pivot, FN(rm_finite)(a, m, n, ld, NULL));
}

// Whether the m x n matrix at `src` (leading dimension n) is all finite
// (FN(rm_finite)); it is also copied to `dst` (leading dimension ld, row by
// row when ld != n) unless `dst` is NULL.
static inline __attribute__((always_inline)) int FN(rm_copy_in)(const T *src, T *dst, int m, int n, int ld) {
    if (ld == n || !dst) return FN(rm_finite)(src, m, n, n, dst);
    int ok = 1;
    for (int i = 0; i < m; ++i) ok &= FN(rm_finite)(src + (int64_t)i * n, 1, n, n, dst + (int64_t)i * ld);
    return ok;
}

// FN(rm_getrf) factors a matrix in an aligned working copy, rows padded to
// whole vectors, and copies it out, when factoring it in `out` would split
// cache lines at its vector accesses: rows of whole vectors from
// BLK_SPLIT_MIN_BYTES a matrix when `out` is not BLK_SPLIT_BYTES aligned
// (each row then sits at the same offset past a line as `out`); rows that
// are not whole vectors from BLK_WORK_MIN_BYTES. Both are the variant's
// (kernels_variants.h): the AVX-512 variant on AMD Zen 4, which moves each
// 32-byte half of a 64-byte access on its own, copies from 16 KiB when
// `out` is 16 or 48 bytes past a line, where one half of every access
// splits one; elsewhere it keeps the rule measured before (from 32 KiB,
// unless 64-byte aligned); the AVX2 and baseline variants copy from 32 KiB
// when their 32- or 16-byte vectors would split lines. A Swift array's
// elements start 32 bytes into a 16-byte aligned block: 48 bytes past a
// line for the mapped blocks of large outputs, any multiple of 16 for heap
// blocks. Zen 4, 2 threads:
// - 48 bytes past a line, through the API (copy from 32 KiB up), bench-gpu,
//   3 alternating rounds, min forward: f64 2000 x 64² 13.76 -> 12.98 ms,
//   500 x 128² 17.40 -> 16.10 ms, 100 x 256² 21.76 -> 20.29 ms, f32 500 x
//   128² 6.65 -> 6.38 ms, 100 x 256² 8.51 -> 8.21 ms. C harness, f64 500 x
//   128², fresh huge pages, min of 3 rounds: output aligned 14.6-15.2 ms,
//   48 bytes off 16.5-16.8 ms, with the copy 15.6-16.1 ms.
// - 16 or 48 bytes past a line, C harness, 1000 matrices into a reused
//   output, min of 61 calls: f64 64 x 32 2.18-2.20 -> 1.99-2.05 ms, 32 x
//   64 1.90-2.01 -> 1.74-1.80 ms (aligned 1.62-1.71 ms). At 4 and 8 KiB a
//   matrix (f64 32², f32 64 x 32 and 32²) the copy changed nothing or cost.
// - 32 bytes past a line the copy cost more than it saved, in the same
//   harness (min of 21 calls, 3 rounds): f64 64 x 32 1.98-2.01 -> 2.07-2.08
//   ms, 2000 x 64² 9.13-9.23 -> 9.47-9.72 ms, 500 x 128² 12.4-12.8 ->
//   12.9-13.2 ms (aligned 12.1-12.2 ms), f32 500 x 128² 6.49-6.56 ->
//   6.67-6.80 ms.
// Four matrices in step (FN(rm_getrf_multi)) instead of two, up to this
// size: the smaller a matrix, the less work each column of its panel has to
// overlap the chain of the next pivot. Zen 4, one thread, in cache, median of
// 401 calls, 3 rounds: f32 32² 0.125 -> 0.116 ms per 80. Larger ones gained
// less in cache (f64 32² 0.161 -> 0.154 ms per 80, f32 64 x 32 0.095 ->
// 0.093 ms per 40, f64 64 x 32 and 128² unchanged) and lost through the API
// (bench-gpu, 4 alternating rounds, median forward: f32 1000 x (64×32) 1.35
// -> 1.39 ms, 500 x 128² 6.70 -> 7.13 ms, f64 500 x 128² 17.5 -> 18.4 ms;
// f64 10000 x 32² unchanged), while f32 10000 x 32² went 12.19 -> 11.84 ms.
#ifndef BLK_STEP4_MAX_BYTES
#define BLK_STEP4_MAX_BYTES 4096
#endif
#ifndef BLK_WORK_MIN_BYTES
#define BLK_WORK_MIN_BYTES 32768
#endif

static int FN(rm_getrf)(const T *in, T *out, int32_t *ipiv, int32_t *info, int64_t count, int32_t m, int32_t n,
                        int32_t pivot) {
    const int64_t size = (int64_t)m * n, k = m < n ? m : n;
    const size_t pcs = (size_t)n * (size_t)((m + W - 1) / W * W);  // one matrix's panel scratch
    // Each matrix factored in an aligned working copy, or in `out` (see
    // BLK_SPLIT_MIN_BYTES).
    const int ldw = (n + W - 1) / W * W;
    const size_t bytes = (size_t)size * sizeof(T);
    const int work = ldw == n ? bytes >= BLK_SPLIT_MIN_BYTES && ((uintptr_t)out % BLK_SPLIT_BYTES) != 0
                              : bytes >= BLK_WORK_MIN_BYTES;
    const size_t wks = (size_t)m * (size_t)ldw;  // one matrix's working copy
    // Matrices `group` at a time (each copied into `out`, or into its
    // working copy, by its finiteness check): the finite ones factored in
    // step, the others alone. Four in step up to BLK_STEP4_MAX_BYTES a
    // matrix, two above (see there); scratch and working copies for `group`.
    const int group = bytes <= BLK_STEP4_MAX_BYTES ? BLK_STEP : 2;
    T *pc = aligned_alloc(64, sizeof(T) * (size_t)group * (pcs + (work ? wks : 0)));
    if (!pc) return -1;
    T *const wk = work ? pc + (size_t)group * pcs : NULL;
    const int ld = work ? ldw : n;
    const int64_t step = work ? (int64_t)wks : size;
    for (int64_t b = 0; b < count; b += group) {
        const int c = count - b < group ? (int)(count - b) : group;
        T *const dst = out + b * size, *const a = work ? wk : dst;
        const T *src = in + b * size;
        T *am[BLK_STEP], *pm[BLK_STEP];
        int32_t *im[BLK_STEP], *fm[BLK_STEP];
        int nf = 0;
        for (int t = 0; t < c; ++t) {
            T *const at = a + t * step;
            if (FN(rm_copy_in)(src + t * size, at != src + t * size ? at : NULL, m, n, ld)) {
                am[nf] = at, pm[nf] = pc + nf * pcs, im[nf] = ipiv + (b + t) * k, fm[nf] = info + b + t;
                ++nf;
            } else
                FN(rm_getrf_fin)(at, pc, m, n, ld, ipiv + (b + t) * k, info + b + t, pivot, 0);
        }
        // The next matrices' input (read) and output (write) are prefetched
        // during these matrices' columns. 2 threads, min of 3 rounds: the
        // input, f64 2000 x 64² 12.0-12.4 -> 11.5-11.8 ms into a reused
        // output, 500 x 128² 15.6 -> 14.6 ms, f32 unchanged; the output too,
        // into fresh huge pages: f64 1000 x 64 x 32 2.62-2.72 -> 2.23-2.32
        // ms, 2000 x 64² 14.2-14.6 -> 13.9-14.0 ms, f32 2000 x 64² 6.0-6.4 ->
        // 5.6-5.8 ms, 500 x 128² 7.45-7.49 -> 6.94-7.23 ms (two matrices in
        // step then).
        const int64_t nx = count - b - c < group ? count - b - c : group;
        if (nf > 0)
            FN(rm_getrf_step)(nf, am, pm, m, n, ld, im, fm, pivot, nx > 0 ? src + c * size : NULL, nx * size,
                              nx > 0 && dst != src ? dst + c * size : NULL);
        if (work)
            for (int t = 0; t < c; ++t)
                for (int i = 0; i < m; ++i)
                    __builtin_memcpy(dst + t * size + (int64_t)i * n, a + t * step + (int64_t)i * ld,
                                     sizeof(T) * (size_t)n);
    }
    free(pc);
    return 0;
}

#ifdef BLK_GEMM
// Large matrices: one m x n row-major matrix in place (leading dimension
// n), blocked right-looking with panels of `nb` columns. Each panel (all its
// rows) is factored by FN(rm_getrf_one) in a contiguous copy (FN(la_panel));
// every other column then gets the panel's interchanges (contiguous row
// swaps), U12 = L11⁻¹ A12 (by blocks of 32 rows: FN(rm_trsm), then GEMM for
// the rows below) and A22 -= L21 U12 (GEMM). With two threads the next
// panel is factored while the rest of the trailing matrix is updated (look-
// ahead): thread 0 updates the next panel's columns, factors that panel,
// then updates part of the rest; thread 1 updates the other part and swaps
// the columns left of the panel. The threads own disjoint columns. BLAS
// calls are expected to run single-threaded.

// Panel [k0, k1)'s interchanges (ipiv 1-based, global rows) on columns [c0, c1).
static void FN(la_swaps)(T *a, int ld, int k0, int k1, const int32_t *ipiv, int c0, int c1) {
    if (c0 >= c1) return;
    for (int j = k0; j < k1; ++j) {
        const int p = ipiv[j] - 1;
        if (p == j) continue;
        FN(rm_swap)(a + (int64_t)j * ld, a + (int64_t)p * ld, c0, c1);
    }
}

// Panel [k0, k1)'s interchanges, U12 and trailing update on columns [c0, c1).
static void FN(la_update)(T *a, int m, int ld, int k0, int k1, const int32_t *ipiv, int c0, int c1) {
    if (c0 >= c1) return;
    FN(la_swaps)(a, ld, k0, k1, ipiv, c0, c1);
    for (int s0 = k0; s0 < k1; s0 += 32) {
        const int s1 = s0 + 32 < k1 ? s0 + 32 : k1;
        FN(rm_trsm)(a, ld, s0, s1, c0, c1);
        if (s1 < k1)
            BLK_GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, k1 - s1, c1 - c0, s1 - s0, -1,
                     a + (int64_t)s1 * ld + s0, ld, a + (int64_t)s0 * ld + c0, ld, 1, a + (int64_t)s1 * ld + c0, ld);
    }
    if (k1 < m)
        BLK_GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, m - k1, c1 - c0, k1 - k0, -1, a + (int64_t)k1 * ld + k0, ld,
                 a + (int64_t)k0 * ld + c0, ld, 1, a + (int64_t)k1 * ld + c0, ld);
}

struct FN(la_job) {
    T *a;
    const int32_t *ipiv;
    int m, ld, k0, k1, c0, c1, left;  // update [c0, c1); swap columns [0, left)
};

static void *FN(la_worker)(void *arg) {
    const struct FN(la_job) *j = arg;
    FN(la_update)(j->a, j->m, j->ld, j->k0, j->k1, j->ipiv, j->c0, j->c1);
    FN(la_swaps)(j->a, j->ld, j->k0, j->k1, j->ipiv, 0, j->left);
    return NULL;
}

#define BLK_LA_MAX_THREADS 64
// What the next panel's update and factorization cost the thread that does
// them, in columns of trailing update per panel column (the rest is shared
// out so that every thread has the same work). Measured at n = 2048 f64 on
// the 2-core VM, median of 8 rounds: 1, 1.5, 2 and 3 gave 84.1, 82.4, 87.8
// and 89.6 ms (3 was best before the panel was factored in a copy).
#define BLK_LA_PANEL_COST 1.5

// One panel of the look-ahead getrf (m x n, n <= nb, leading dimension ld),
// in place, factored by FN(rm_getrf_one) in a contiguous copy `p` (m * n
// elements; `pc` as FN(rm_getrf_one)'s scratch), then copied back. In the
// matrix the panel's rows lie ld apart, for a power-of-two ld (n = 1024,
// 2048) all in the same few cache sets, and its W-column steps pass over the
// tall panel again and again. Measured, one thread, 1920 x 128 f64 at
// ld = 2048: 2.2-2.9 ms in place, 1.0-1.3 ms in the copy, copies included.
static void FN(la_panel)(T *a, T *p, T *pc, int m, int n, int ld, int32_t *ipiv, int32_t *info, int pivot) {
    FN(put_lanes)(p, n, a, ld, m, n, 0);
    FN(rm_getrf_one)(p, pc, m, n, n, ipiv, info, pivot);
    FN(put_lanes)(a, ld, p, n, m, n, 0);
}

// One matrix; returns its info (as blk_getrf). `pc`: scratch for nb * m
// (rounded up to W) elements; `pp`: nb * m for the panel's copy; `threads`
// (1 ... 64): this thread plus threads - 1 helpers per panel step.
static int32_t FN(rm_large_one)(T *a, T *pc, T *pp, int m, int n, int32_t *ipiv, int pivot, int nb, int threads) {
    const int kmax = m < n ? m : n, ld = n;
    // The next panel's share (BLK_LA_PANEL_COST), in columns.
    const int pcost = (int)(BLK_LA_PANEL_COST * nb);
    int32_t info = 0, pinfo = 0;
    int k0 = 0, k1 = nb < kmax ? nb : kmax;
    FN(la_panel)(a, pp, pc, m, k1, ld, ipiv, &pinfo, pivot);
    if (pinfo) info = pinfo;
    struct FN(la_job) jobs[BLK_LA_MAX_THREADS];
    blk_thread helper[BLK_LA_MAX_THREADS];
    while (k0 < kmax) {
        // The next panel [k1, k2) and the rest [k2, n), shared out so that
        // every thread has about the same work (BLK_LA_PANEL_COST).
        const int k2 = k1 + nb < kmax ? k1 + nb : kmax, rest = n - k2;
        int own = rest, helpers = 0;
        if (threads > 1 && rest > pcost) {
            const int share = (rest + pcost) / threads;
            own = share > pcost ? (share - pcost) / W * W : 0;
            helpers = threads - 1;
        }
        int c = k2 + own, h = 0;
        for (; h < helpers; ++h) {
            const int c1 = h == helpers - 1 ? n : c + (n - c) / (helpers - h) / W * W;
            jobs[h] = (struct FN(la_job)){a, ipiv, m, ld, k0, k1, c, c1, h == helpers - 1 ? k0 : 0};
            blk_start(&helper[h], FN(la_worker), &jobs[h]);
            c = c1;
        }
        FN(la_update)(a, m, ld, k0, k1, ipiv, k1, k2);
        if (k1 < kmax) {
            pinfo = 0;
            FN(la_panel)(a + (int64_t)k1 * ld + k1, pp, pc, m - k1, k2 - k1, ld, ipiv + k1, &pinfo, pivot);
            for (int j = k1; j < k2; ++j) ipiv[j] += k1;
            if (pinfo && !info) info = pinfo + k1;
        }
        FN(la_update)(a, m, ld, k0, k1, ipiv, k2, k2 + own);
        if (helpers == 0) FN(la_swaps)(a, ld, k0, k1, ipiv, 0, k0);
        for (h = 0; h < helpers; ++h) blk_join(&helper[h], FN(la_worker), &jobs[h]);
        k0 = k1;
        k1 = k2;
    }
    return info;
}

struct FN(copy_job) {
    const T *src;
    T *dst;
    size_t count;
};

static void *FN(copy_worker)(void *arg) {
    const struct FN(copy_job) *j = arg;
    __builtin_memcpy(j->dst, j->src, sizeof(T) * j->count);
    return NULL;
}

// dst = src (count elements), split over `threads` threads when large, so
// that the first-touch faults of a fresh destination are shared too.
static void FN(la_copy)(const T *src, T *dst, size_t count, int threads) {
    if (threads < 2 || sizeof(T) * count < ((size_t)1 << 21)) {
        __builtin_memcpy(dst, src, sizeof(T) * count);
        return;
    }
    struct FN(copy_job) jobs[BLK_LA_MAX_THREADS];
    blk_thread helper[BLK_LA_MAX_THREADS];
    for (int t = 1; t < threads; ++t) {
        const size_t lo = count * t / threads, hi = count * (t + 1) / threads;
        jobs[t] = (struct FN(copy_job)){src + lo, dst + lo, hi - lo};
        blk_start(&helper[t], FN(copy_worker), &jobs[t]);
    }
    __builtin_memcpy(dst, src, sizeof(T) * (count / threads));
    for (int t = 1; t < threads; ++t) blk_join(&helper[t], FN(copy_worker), &jobs[t]);
}

// `count` matrices from `in` into `out` (which may equal `in`), one after
// the other, with one scratch; 0, or -1 when the scratch fails.
static int FN(rm_getrf_large)(const T *in, T *out, int32_t *ipiv, int32_t *info, int64_t count, int32_t m, int32_t n,
                              int32_t pivot, int32_t nb, int32_t threads) {
    if (threads < 1) threads = 1;
    if (threads > BLK_LA_MAX_THREADS) threads = BLK_LA_MAX_THREADS;
    const size_t pcn = (size_t)nb * (size_t)((m + W - 1) / W * W), ppn = (size_t)nb * (size_t)m;
    T *pc = aligned_alloc(64, (sizeof(T) * (pcn + ppn) + 63) / 64 * 64);
    if (!pc) return -1;
    const int64_t size = (int64_t)m * n, k = m < n ? m : n;
    for (int64_t b = 0; b < count; ++b) {
        T *a = out + b * size;
        if (a != in + b * size) FN(la_copy)(in + b * size, a, (size_t)size, threads);
        info[b] = FN(rm_large_one)(a, pc, pc + pcn, m, n, ipiv + b * k, pivot, nb, threads);
    }
    free(pc);
    return 0;
}
#endif

// `c` rounded up to whole vectors, at most `n`.
static inline __attribute__((always_inline)) int FN(rm_whole)(int c, int n) {
    const int w = (c + W - 1) / W * W;
    return w < n ? w : n;
}

// x[0 .. len) *= r.
static inline __attribute__((always_inline)) void FN(rm_scale)(T *x, int len, T r) {
    const V rv = FN(splat)(r);
    int c = 0;
    for (; c + W <= len; c += W) FN(stu)(x + c, FN(ldu)(x + c) * rv);
    for (; c < len; ++c) x[c] *= r;
}

// X (rows x cols, leading dimension ldx) = the strictly lower part of G's
// first rows x cols block (leading dimension ldg), zero elsewhere.
static void FN(rm_strict_lower)(T *X, int64_t ldx, const T *G, int64_t ldg, int rows, int cols) {
    for (int i = 0; i < rows; ++i) {
        const int c = i < cols ? i : cols;
        __builtin_memcpy(X + i * ldx, G + i * ldg, sizeof(T) * (size_t)c);
        __builtin_memset(X + i * ldx + c, 0, sizeof(T) * (size_t)(cols - c));
    }
}

// Ā = P Z: row r of Z (m x n, contiguous) is row perm[r] of `out`, perm from
// the k interchanges in ipiv.
static void FN(rm_unpermute)(const int32_t *ipiv, int m, int k, int n, const T *Z, T *out, int *perm) {
    FN(permutation)(ipiv, m, k, perm);
    for (int r = 0; r < m; ++r)
        __builtin_memcpy(out + perm[r] * (int64_t)n, Z + r * (int64_t)n, sizeof(T) * (size_t)n);
}

// Lᵀ X = B in place, Lᵀ unit upper triangular (L: the unit lower triangle of
// lu's first k columns, leading dimension ld), X k rows (leading dimension
// ldx): rows from the bottom, a block of rows at a time (A(i, r) = L[r][i]:
// read transposed); columns [0, c1), or, with `tri` (B, and so X, upper
// triangular), from the whole vector that holds each block's first row on.
static void FN(rm_solve_lt)(const T *lu, int64_t ld, T *X, int64_t ldx, int k, int c1, int tri) {
    for (int i1 = k; i1 > 0; i1 -= BLK_MR) {
        const int i0 = i1 - BLK_MR > 0 ? i1 - BLK_MR : 0, c0 = tri ? i0 / W * W : 0;
        FN(gupdate)(lu, 1, ld, X, ldx, X, ldx, i0, i1, c0, c1, i1, k, 0);
        for (int i = i1 - 2; i >= i0; --i) FN(gupdate)(lu, 1, ld, X, ldx, X, ldx, i, i + 1, c0, c1, i + 1, i1, 0);
    }
}

// U X = B in place, U upper triangular (lu's first k rows, leading dimension
// ld), X k rows (leading dimension ldx): rows from the bottom, a block of
// rows at a time (A(j, r) = U[j][r]), each row divided by its pivot once
// final; columns [0, c1), or, with `tri` (B, and so X, upper triangular),
// from the whole vector that holds each block's first row on.
static void FN(rm_solve_u)(const T *lu, int64_t ld, T *X, int64_t ldx, int k, int c1, int tri) {
    for (int j1 = k; j1 > 0; j1 -= BLK_MR) {
        const int j0 = j1 - BLK_MR > 0 ? j1 - BLK_MR : 0, c0 = tri ? j0 / W * W : 0;
        FN(gupdate)(lu, ld, 1, X, ldx, X, ldx, j0, j1, c0, c1, j1, k, 0);
        for (int j = j1 - 1; j >= j0; --j) {
            FN(gupdate)(lu, ld, 1, X, ldx, X, ldx, j, j + 1, c0, c1, j + 1, j1, 0);
            FN(rm_scale)(X + j * ldx + c0, c1 - c0, (T)1 / lu[j * ld + j]);
        }
    }
}

// The gradient of one square factorization (as blk_getrf_backward), row-major:
//   Φ = tril₋₁(Lᵀ L̄) + triu(Ū Uᵀ);  Lᵀ Y = Φ;  U Zᵀ = Yᵀ;  Ā = P Z.
// Scratch: X, XT, UT (n * n each), perm (n).
static void FN(rm_backward_one)(const T *lu, const int32_t *ipiv, const T *g, T *out, T *X, T *XT, T *UT, int *perm,
                                int n) {
    const int64_t N = n;
    // UT = Uᵀ, zero above its diagonal (where L would be).
    FN(rm_panel)((T *)lu, n, UT, n, n, n, 1);
    for (int k = 0; k < n; ++k)
        for (int j = k + 1; j < n; ++j) UT[k * N + j] = 0;
    // Φ into X, by blocks of rows, in whole vectors. Lower part,
    //   X[i][j] = G[i][j] + sum over k > i of L[k][i] G[k][j],
    // for the columns up to the end of the vector that holds the block's
    // last diagonal element; upper part into XT,
    //   XT[i][j] = sum over k >= j of G[i][k] U[j][k],
    // for the columns from the start of the vector that holds the block's
    // first, then copied over X from each row's diagonal on.
    FN(rm_strict_lower)(X, N, g, N, n, n);
    for (int i0 = 0; i0 < n; i0 += BLK_MR) {
        const int i1 = i0 + BLK_MR < n ? i0 + BLK_MR : n, cp = FN(rm_whole)(i1, n), c0 = i0 / W * W;
        // Lower: k past the block for every row, then the rest of each row's
        // k > i (A(i, k) = L[k][i]: read transposed).
        FN(gupdate)(lu, 1, N, g, N, X, N, i0, i1, 0, cp, i1, n, 1);
        for (int i = i0; i < i1; ++i) FN(gupdate)(lu, 1, N, g, N, X, N, i, i + 1, 0, cp, i + 1, i1, 1);
        // Upper: a chunk of columns at a time, k from the chunk's first column
        // or past the block, whichever is later (UT's zeros cover k < j),
        // then, where the chunk reaches into the block, the rest of each
        // row's k >= i.
        for (int i = i0; i < i1; ++i) __builtin_memset(XT + i * N + c0, 0, sizeof(T) * (size_t)(n - c0));
        for (int c = c0; c < n; c += BLK_NR * W) {
            const int c1 = c + BLK_NR * W < n ? c + BLK_NR * W : n;
            FN(gupdate)(g, N, 1, UT, N, XT, N, i0, i1, c, c1, c > i1 ? c : i1, n, 1);
            if (c < i1)
                for (int i = i0; i < i1; ++i) FN(gupdate)(g, N, 1, UT, N, XT, N, i, i + 1, c, c1, i, i1, 1);
        }
        for (int i = i0; i < i1; ++i) __builtin_memcpy(X + i * N + i, XT + i * N + i, sizeof(T) * (size_t)(n - i));
    }
    // Lᵀ Y = Φ; Z Uᵀ = Y, as U Zᵀ = Yᵀ on XT = Xᵀ.
    FN(rm_solve_lt)(lu, N, X, N, n, n, 0);
    FN(rm_panel)(X, n, XT, n, n, n, 1);
    FN(rm_solve_u)(lu, N, XT, N, n, n, 0);
    // Ā = P Z with Z = XTᵀ.
    FN(rm_panel)(X, n, XT, n, n, n, 0);
    FN(rm_unpermute)(ipiv, n, n, n, X, out, perm);
}

// The gradient of one wide factorization (m < n; U = [U₁ | U₂]), row-major
// (MATH.md):
//   S = tril₋₁(Lᵀ L̄ − triu(Ū) Uᵀ);  T U₁ᵀ = S;  M = [T + triu(Ū₁) | Ū₂];
//   Lᵀ Y = M;  Ā = P Y.
// S is formed by blocks of rows (each row's ranges of r and c start at its
// own index), with Uᵀ copied (UT); T, as U₁ Tᵀ = Sᵀ on the transpose. S and
// T are strictly lower triangular: a block's columns run to the end of the
// vector that holds its diagonal (whole vectors, no partial loads), what
// lands on or past the diagonal is zeroed, and the solve skips the vectors
// left of a block. Scratch: X, XT (m * m each), UT, Y (m * n each), perm (m).
static void FN(rm_backward_wide_one)(const T *lu, const int32_t *ipiv, const T *g, T *out, T *X, T *XT, T *UT, T *Y,
                                     int *perm, int m, int n) {
    const int64_t N = n, M = m;
    // UT = Uᵀ, n x m (above its diagonal it holds L, which is never read).
    FN(rm_panel)((T *)lu, n, UT, m, m, n, 1);
    // S into X (m x m). Below the diagonal,
    //   X[i][j] = G[i][j] + sum over r in (i, m) of L[r][i] G[r][j]
    //                     - sum over c in [i, n) of G[i][c] U[j][c],
    // by blocks of rows; zero elsewhere.
    FN(rm_strict_lower)(X, M, g, N, m, m);
    for (int i0 = 0; i0 < m; i0 += BLK_MR) {
        const int i1 = i0 + BLK_MR < m ? i0 + BLK_MR : m, cp = FN(rm_whole)(i1, m);
        // Columns [0, cp), the block's own included: r and c past the block
        // for every row, then the rest of each row's range (A(i, r) = L[r][i]:
        // read transposed); what lands on and past the diagonal is zeroed.
        FN(gupdate)(lu, 1, N, g, N, X, M, i0, i1, 0, cp, i1, m, 1);
        for (int i = i0; i < i1; ++i) FN(gupdate)(lu, 1, N, g, N, X, M, i, i + 1, 0, cp, i + 1, i1, 1);
        FN(gupdate)(g, N, 1, UT, M, X, M, i0, i1, 0, cp, i1, n, 0);
        for (int i = i0; i < i1; ++i) FN(gupdate)(g, N, 1, UT, M, X, M, i, i + 1, 0, cp, i, i1, 0);
        for (int i = i0; i < i1; ++i)
            for (int j = i; j < cp; ++j) X[i * M + j] = 0;
    }
    // T U₁ᵀ = S, as U₁ Tᵀ = Sᵀ on XT = Xᵀ (Tᵀ strictly upper triangular).
    FN(rm_panel)(X, m, XT, m, m, m, 1);
    FN(rm_solve_u)(lu, N, XT, M, m, m, 1);
    FN(rm_panel)(X, m, XT, m, m, m, 0);
    // M into Y (m x n): T below the diagonal, G elsewhere.
    for (int i = 0; i < m; ++i) {
        __builtin_memcpy(Y + i * N, X + i * M, sizeof(T) * (size_t)i);
        __builtin_memcpy(Y + i * N + i, g + i * N + i, sizeof(T) * (size_t)(n - i));
    }
    // Lᵀ Y = M.
    FN(rm_solve_lt)(lu, N, Y, N, m, n, 0);
    // Ā = P Y.
    FN(rm_unpermute)(ipiv, m, m, n, Y, out, perm);
}

// The gradient of one tall factorization (m > n; L = [L₁ ; L₂]), row-major
// (MATH.md):
//   S = triu(Ū Uᵀ − Lᵀ tril₋₁(L̄));  L₁ᵀ T = S;  M = [T + tril₋₁(L̄₁) ; L̄₂];
//   Z Uᵀ = M;  Ā = P Z.
// Sᵀ is formed by blocks of rows (each row's ranges of c and r start at its
// own index), with G's top n x n block copied transposed (GT). S and T are
// upper triangular: as in the wide case, a block's columns run to the end
// of the vector that holds its diagonal, what lands past it is zeroed, and
// the solve skips the vectors left of a block. Z Uᵀ = M is solved as
// U Zᵀ = Mᵀ on the transpose. Scratch: XT, X, GT (n * n each), MT, Z
// (m * n each), perm (m).
static void FN(rm_backward_tall_one)(const T *lu, const int32_t *ipiv, const T *g, T *out, T *XT, T *X, T *GT, T *MT,
                                     T *Z, int *perm, int m, int n) {
    const int64_t N = n, M = m;
    // GT = the transpose of G's first n rows.
    FN(rm_panel)((T *)g, n, GT, n, n, n, 1);
    // Sᵀ into XT (n x n). On and below the diagonal,
    //   XT[j][i] = sum over c in [j, n) of U[j][c] G[i][c]
    //            - sum over r in (j, m) of G[r][j] L[r][i],
    // by blocks of rows; zero elsewhere.
    __builtin_memset(XT, 0, sizeof(T) * (size_t)(N * N));
    for (int j0 = 0; j0 < n; j0 += BLK_MR) {
        const int j1 = j0 + BLK_MR < n ? j0 + BLK_MR : n, cp = FN(rm_whole)(j1, n);
        // Columns [0, cp), the block's own included: c and r past the block
        // for every row, then the rest of each row's range (A(j, r) = G[r][j]:
        // read transposed); what lands past the diagonal is zeroed.
        FN(gupdate)(lu, N, 1, GT, N, XT, N, j0, j1, 0, cp, j1, n, 1);
        for (int j = j0; j < j1; ++j) FN(gupdate)(lu, N, 1, GT, N, XT, N, j, j + 1, 0, cp, j, j1, 1);
        FN(gupdate)(g, 1, N, lu, N, XT, N, j0, j1, 0, cp, j1, m, 0);
        for (int j = j0; j < j1; ++j) FN(gupdate)(g, 1, N, lu, N, XT, N, j, j + 1, 0, cp, j + 1, j1, 0);
        for (int j = j0; j < j1; ++j)
            for (int i = j + 1; i < cp; ++i) XT[j * N + i] = 0;
    }
    // L₁ᵀ T = S on X = XTᵀ (S and T upper triangular).
    FN(rm_panel)(X, n, XT, n, n, n, 0);
    FN(rm_solve_lt)(lu, N, X, N, n, n, 1);
    // Mᵀ into MT (n x m): Gᵀ, with Tᵀ's lower part (from XT = Xᵀ) over its
    // first n columns.
    FN(rm_panel)((T *)g, n, MT, m, m, n, 1);
    FN(rm_panel)(X, n, XT, n, n, n, 1);
    for (int j = 0; j < n; ++j) __builtin_memcpy(MT + j * M, XT + j * N, sizeof(T) * (size_t)(j + 1));
    // U Zᵀ = Mᵀ.
    FN(rm_solve_u)(lu, N, MT, M, n, m, 0);
    // Ā = P Z with Z = MTᵀ.
    FN(rm_panel)(Z, n, MT, m, m, n, 0);
    FN(rm_unpermute)(ipiv, m, n, n, Z, out, perm);
}

static int FN(rm_backward)(const T *lu, const int32_t *ipiv, const T *g, T *out, int64_t count, int32_t m,
                           int32_t n) {
    const int k = m < n ? m : n;
    const size_t kk = (size_t)k * (size_t)k, mn = (size_t)m * (size_t)n;
    T *X = aligned_alloc(64, (sizeof(T) * (3 * kk + 2 * mn) + 63) / 64 * 64);
    int *perm = malloc(sizeof(int) * (size_t)m);
    if (!X || !perm) {
        free(X);
        free(perm);
        return -1;
    }
    for (int64_t b = 0; b < count; ++b) {
        const T *l = lu + b * (int64_t)mn, *gb = g + b * (int64_t)mn;
        T *o = out + b * (int64_t)mn;
        const int32_t *p = ipiv + b * k;
        if (m == n) FN(rm_backward_one)(l, p, gb, o, X, X + kk, X + 2 * kk, perm, n);
        else if (m < n) FN(rm_backward_wide_one)(l, p, gb, o, X, X + kk, X + 2 * kk, X + 2 * kk + mn, perm, m, n);
        else FN(rm_backward_tall_one)(l, p, gb, o, X, X + kk, X + 2 * kk, X + 3 * kk, X + 3 * kk + mn, perm, m, n);
    }
    free(perm);
    free(X);
    return 0;
}
