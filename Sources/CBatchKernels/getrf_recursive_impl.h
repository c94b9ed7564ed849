/*
 * getrf_recursive_impl.h - type-generic body of the LU factorization.
 *
 * Not a public header: included twice by getrf_recursive.c, once for double and
 * once for float, with these macros defined:
 *   REAL        element type
 *   FN(x)       name mangler (x##_f64 / x##_f32)
 *   IAMAX, TRSM, TRMM, GEMM   the matching CBLAS routines
 *   SFMIN       smallest normal number (LAPACK xLAMCH('S'))
 * and the tuning constants and LU_PREFETCH from getrf_recursive.c.
 *
 * Algorithm (LAPACK xGETRF2-style recursion on columns):
 *
 *   [A11 A12]   factor [A11;A21] recursively        -> L11, L21, U11
 *   [A21 A22]   apply its row interchanges to [A12;A22]
 *               A12 := L11^-1 A12                   (triangular solve)
 *               A22 := A22 - A21 A12                (GEMM)
 *               factor A22 recursively, apply its interchanges to A21.
 *
 * Nodes with min(m,n) > ib split at multiples of ib ("big" nodes), so the
 * unit lower triangle of L is tiled by ib x ib diagonal blocks (ib = 16 or
 * 32 depending on the matrix size, see getrf_recursive.c).  The inverse of each
 * diagonal block is formed once, right after the block is factored, and
 * kept in a workspace.  The triangular solves then recurse
 * into GEMM down to ib rows, where they become a TRMM with the cached
 * inverse; OpenBLAS's TRMM is 3-4x faster than its TRSM at these sizes and
 * TRSM is otherwise a large part of the run time.  Nodes with
 * min(m,n) <= ib ("small" nodes) use the plain recursion down to an
 * unblocked kernel for <= LU_LEAF columns.
 *
 * Numerics: everything is LAPACK's algorithm except that solves with the
 * ib x ib diagonal blocks of L multiply by a computed inverse instead of
 * substituting.  With partial pivoting |l_ij| <= 1 and the blocks are small,
 * so this is as accurate as substitution in practice (MAGMA-style TRSM),
 * but for adversarial L the inverse can grow like 2^(ib-1).
 */

/* ------------------------------------------------------------------------
 * Row interchanges
 * ---------------------------------------------------------------------- */

/* Apply the interchanges k1..k2-1 (ipiv holds 0-based row numbers relative
 * to row 0 of a) to ncols columns of a, in order, like xLASWP with incx=1.
 * Column by column, so a column is L1-resident during its swaps; two
 * columns at a time (more independent work per pivot) while two columns fit
 * comfortably in L1.  The randomly placed rows ipiv[i] of the next
 * column(s) are prefetched; this matters once the matrix no longer fits in
 * cache (n >= ~1000), where the swaps are latency-bound. */
static void FN(laswp)(int ncols, REAL *a, int lda, int k1, int k2,
                      const int *ipiv)
{
    int c = 0;
    if ((size_t)lda * sizeof(REAL) <= 8192) {
        for (; c + 2 <= ncols; c += 2) {
            REAL *c0 = a + (size_t)c * lda, *c1 = c0 + lda;
            const REAL *next = c + 3 < ncols ? c1 + lda : c0;
            for (int i = k1; i < k2; i++) {
                int p = ipiv[i];
                LU_PREFETCH(next + p);
                LU_PREFETCH(next + lda + p);
                REAL t0 = c0[i], t1 = c1[i];
                c0[i] = c0[p]; c1[i] = c1[p];
                c0[p] = t0;    c1[p] = t1;
            }
        }
    }
    for (; c < ncols; c++) {
        REAL *col = a + (size_t)c * lda;
        const REAL *next = c + 1 < ncols ? col + lda : col;
        for (int i = k1; i < k2; i++) {
            int p = ipiv[i];
            LU_PREFETCH(next + p);
            REAL t = col[i];
            col[i] = col[p];
            col[p] = t;
        }
    }
}

/* ------------------------------------------------------------------------
 * Small nodes
 * ---------------------------------------------------------------------- */

/* Unblocked right-looking LU (xGETF2) of the m x n block a; n is small
 * (<= LU_LEAF) or m is small.  ipiv is 0-based and local to the block;
 * returns the LAPACK info value relative to the block. */
static int FN(leaf)(int m, int n, REAL *a, int lda, int *ipiv)
{
    int info = 0;
    int mn = m < n ? m : n;
    for (int k = 0; k < mn; k++) {
        REAL *ck = a + (size_t)k * lda;
        /* pivot: first row with the largest |a_ik|, i >= k (IxAMAX) */
        int p = k + (int)IAMAX(m - k, ck + k, 1);
        ipiv[k] = p;
        REAL piv = ck[p];
        if (piv != 0) {
            if (p != k) {
                for (int j = 0; j < n; j++) {
                    REAL *cj = a + (size_t)j * lda;
                    REAL t = cj[k]; cj[k] = cj[p]; cj[p] = t;
                }
            }
            /* scale as LAPACK does: multiply by the reciprocal unless the
             * pivot is tiny enough for the reciprocal to overflow */
            if ((piv < 0 ? -piv : piv) >= SFMIN) {
                REAL r = (REAL)1 / piv;
                for (int i = k + 1; i < m; i++) ck[i] *= r;
            } else {
                for (int i = k + 1; i < m; i++) ck[i] /= piv;
            }
        } else if (info == 0) {
            info = k + 1;           /* zero pivot column: no swap, no scale */
        }
        /* rank-1 update of the remaining columns of the block */
        for (int j = k + 1; j < n; j++) {
            REAL *cj = a + (size_t)j * lda;
            REAL t = cj[k];
            for (int i = k + 1; i < m; i++) cj[i] -= ck[i] * t;
        }
    }
    return info;
}

/* Solve L X = B in place by forward substitution; L is unit lower b x b
 * with b small, B is b x nc. */
static void FN(trsm_small)(int b, int nc, const REAL *l, int ldl, REAL *x,
                           int ldx)
{
    for (int j = 0; j < nc; j++) {
        REAL *xj = x + (size_t)j * ldx;
        for (int k = 0; k + 1 < b; k++) {
            REAL t = xj[k];
            const REAL *lk = l + (size_t)k * ldl;
            for (int i = k + 1; i < b; i++) xj[i] -= lk[i] * t;
        }
    }
}

/* Recursive LU of a small node (min(m,n) <= ib).  ipiv is 0-based local. */
static int FN(rec_small)(int m, int n, REAL *a, int lda, int *ipiv)
{
    int mn = m < n ? m : n;
    if (mn == 0) return 0;
    if (n <= LU_LEAF || mn <= LU_LEAF) return FN(leaf)(m, n, a, lda, ipiv);

    int n1 = mn / 2;
    int n2 = n - n1;
    REAL *a12 = a + (size_t)n1 * lda;

    int info = FN(rec_small)(m, n1, a, lda, ipiv);
    FN(laswp)(n2, a12, lda, 0, n1, ipiv);
    FN(trsm_small)(n1, n2, a, lda, a12, lda);
    if (m > n1) {
        REAL *a21 = a + n1, *a22 = a12 + n1;
        GEMM(CblasColMajor, CblasNoTrans, CblasNoTrans, m - n1, n2, n1,
             (REAL)-1, a21, lda, a12, lda, (REAL)1, a22, lda);
        int info2 = FN(rec_small)(m - n1, n2, a22, lda, ipiv + n1);
        if (info == 0 && info2 > 0) info = info2 + n1;
        for (int i = n1; i < mn; i++) ipiv[i] += n1;
        FN(laswp)(n1, a, lda, n1, mn, ipiv);
    }
    return info;
}

/* ------------------------------------------------------------------------
 * Big nodes
 * ---------------------------------------------------------------------- */

/* w := inverse of the k x k (k <= ib) unit lower triangle of l; only the
 * strictly lower part of w (leading dimension ib) is written, the unit
 * diagonal is implicit as for TRMM with CblasUnit. */
static void FN(inv_unit_lower)(int k, const REAL *l, int ldl, REAL *w, int ib)
{
    for (int j = 0; j < k; j++) {
        REAL *wj = w + (size_t)j * ib;
        for (int i = j + 1; i < k; i++) wj[i] = -l[i + (size_t)j * ldl];
        for (int c = j + 1; c + 1 < k; c++) {
            REAL t = wj[c];
            const REAL *lc = l + (size_t)c * ldl;
            for (int i = c + 1; i < k; i++) wj[i] -= lc[i] * t;
        }
    }
}

/* Solve L X = B in place; L is unit lower b x b, b a multiple of ib, and
 * winv holds the inverses of its diagonal blocks (ib*ib per block); B is
 * b x nc.  Recursion into GEMM; TRMM with the cached inverse at the bottom.
 * Without a workspace (winv == NULL) fall back to TRSM. */
static void FN(trsm_inv)(int b, int nc, const REAL *l, int ldl, REAL *x,
                         int ldx, const REAL *winv, int ib)
{
    if (winv == NULL) {
        TRSM(CblasColMajor, CblasLeft, CblasLower, CblasNoTrans, CblasUnit,
             b, nc, (REAL)1, l, ldl, x, ldx);
        return;
    }
    if (b <= ib) {
        TRMM(CblasColMajor, CblasLeft, CblasLower, CblasNoTrans, CblasUnit,
             b, nc, (REAL)1, winv, ib, x, ldx);
        return;
    }
    int b1 = b > 2 * ib ? (b / 2) / ib * ib : ib;
    FN(trsm_inv)(b1, nc, l, ldl, x, ldx, winv, ib);
    GEMM(CblasColMajor, CblasNoTrans, CblasNoTrans, b - b1, nc, b1, (REAL)-1,
         l + b1, ldl, x, ldx, (REAL)1, x + b1, ldx);
    FN(trsm_inv)(b - b1, nc, l + b1 + (size_t)b1 * ldl, ldl, x + b1, ldx,
                 winv + (size_t)(b1 / ib) * ib * ib, ib);
}

static int FN(rec_big)(int m, int n, REAL *a, int lda, int *ipiv,
                       REAL *winv, int ib);

/* Factor a child node starting on an ib boundary.  A node that is a
 * single diagonal block gets its inverse cached in winv[0]. */
static int FN(rec_node)(int m, int n, REAL *a, int lda, int *ipiv,
                        REAL *winv, int ib)
{
    int mn = m < n ? m : n;
    if (mn > ib) return FN(rec_big)(m, n, a, lda, ipiv, winv, ib);
    int info = FN(rec_small)(m, n, a, lda, ipiv);
    if (winv) FN(inv_unit_lower)(mn, a, lda, winv, ib);
    return info;
}

/* Recursive LU of a big node (min(m,n) > ib); the split is a multiple of
 * ib.  winv points at the workspace slot of the node's first diagonal
 * block (may be NULL). */
static int FN(rec_big)(int m, int n, REAL *a, int lda, int *ipiv,
                       REAL *winv, int ib)
{
    int mn = m < n ? m : n;
    int n1 = mn > 2 * ib ? (mn / 2) / ib * ib : ib;
    int n2 = n - n1;
    REAL *a12 = a + (size_t)n1 * lda;
    REAL *winv2 = winv ? winv + (size_t)(n1 / ib) * ib * ib : NULL;

    int info = FN(rec_node)(m, n1, a, lda, ipiv, winv, ib);
    FN(laswp)(n2, a12, lda, 0, n1, ipiv);
    FN(trsm_inv)(n1, n2, a, lda, a12, lda, winv, ib);
    if (m > n1) {
        REAL *a21 = a + n1, *a22 = a12 + n1;
        GEMM(CblasColMajor, CblasNoTrans, CblasNoTrans, m - n1, n2, n1,
             (REAL)-1, a21, lda, a12, lda, (REAL)1, a22, lda);
        int info2 = FN(rec_node)(m - n1, n2, a22, lda, ipiv + n1, winv2, ib);
        if (info == 0 && info2 > 0) info = info2 + n1;
        for (int i = n1; i < mn; i++) ipiv[i] += n1;
        FN(laswp)(n1, a, lda, n1, mn, ipiv);
    }
    return info;
}

/* ------------------------------------------------------------------------
 * Entry point
 * ---------------------------------------------------------------------- */

int FN(blk_getrf_cm)(int m, int n, REAL *a, int lda, int *ipiv)
{
    if (m < 0) return -1;
    if (n < 0) return -2;
    if (lda < (m > 1 ? m : 1)) return -4;
    int mn = m < n ? m : n;
    if (mn == 0) return 0;

    int info;
    int ib = mn >= LU_IB_LARGE_FROM ? LU_IB_LARGE : LU_IB_SMALL;
    if (mn <= ib) {
        info = FN(rec_small)(m, n, a, lda, ipiv);
    } else {
        /* one ib x ib inverse per diagonal block; on allocation failure the
         * solves fall back to TRSM (slower, same result up to rounding) */
        size_t nblk = (size_t)(mn + ib - 1) / ib;
        REAL *winv = malloc(nblk * ib * ib * sizeof(REAL));
        info = FN(rec_big)(m, n, a, lda, ipiv, winv, ib);
        free(winv);
    }
    for (int i = 0; i < mn; i++) ipiv[i] += 1;     /* 0-based -> 1-based */
    return info;
}

#undef REAL
#undef FN
#undef IAMAX
#undef TRSM
#undef TRMM
#undef GEMM
#undef SFMIN
