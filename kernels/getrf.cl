// LU factorization with partial pivoting (LAPACK getf2/getrf semantics),
// batched. Matrices are row-major, matrix b at A + b * strideA. Pivot
// choice: the first row holding the largest S_PIVMAG in the column, found
// by one work-item (a serial scan gives LAPACK's exact tie-breaking); a
// zero pivot leaves the column unscaled and records info = j + 1.
// Every work-item of a group reaches every barrier.

// Sets ipiv/info for matrix `b`, reading column j of a (ld lda) from row j.
inline int pick_pivot(__local const scalar_t* a, int lda, int j, int m) {
    int p = j;
    real_t best = S_PIVMAG(a[j * lda + j]);
    for (int i = j + 1; i < m; ++i) {
        real_t v = S_PIVMAG(a[i * lda + j]);
        if (v > best) { best = v; p = i; }
    }
    return p;
}

inline scalar_t reciprocal_or_zero(scalar_t piv, int* use_div) {
#if IS_COMPLEX
    real_t mod = hypot(piv.x, piv.y);
#else
    real_t mod = fabs(piv);
#endif
#if PRECISION == 64 || PRECISION == 6464
    *use_div = mod < DBL_MIN;
#else
    *use_div = mod < FLT_MIN;
#endif
    return S_DIV(ONE, piv);
}

// Tiny path: the whole m x n matrix in local memory, `per_group` matrices
// per work-group. The group's items form per_group teams of
// tsize = lsize / per_group items; team s owns matrix base + group * per_group + s
// and local slice a + s * m * n. Teams share the group's barriers only: every
// item reaches every barrier, whether or not its matrix exists.
// Launch: global = (groups * lsize), local = (lsize), lsize % per_group == 0.
__kernel void getrf_tiny(__global scalar_t* A, __global int* ipiv, __global int* info,
                         int m, int n, int pivot, long base, long count, int per_group,
                         __local scalar_t* a_all, __local int* shared_all) {
    const int ls = get_local_size(0);
    const int tsize = ls / per_group;
    const int team = get_local_id(0) / tsize, lid = get_local_id(0) % tsize;
    const long b = base + (long)get_group_id(0) * per_group + team;
    const int k = min(m, n), size = m * n;
    const bool active = b < count;
    __local scalar_t* a = a_all + team * size;
    __local int* shared = shared_all + 2 * team;
    __global scalar_t* g = A + (active ? b : 0) * (long)size;
    for (int e = lid; e < size; e += tsize) a[e] = active ? g[e] : ZERO;
    if (lid == 0) shared[1] = 0;
    barrier(CLK_LOCAL_MEM_FENCE);
    // No private value lives across a barrier (each phase re-reads what it
    // needs from local memory): the teams' values stay apart even where a
    // compiler's uniformity analysis merges the items of a group.
    for (int j = 0; j < k; ++j) {
        if (lid == 0) {
            int p = pivot ? pick_pivot(a, n, j, m) : j;
            shared[0] = p;
            if (active) ipiv[b * k + j] = p + 1;
            if (S_ISZERO(a[p * n + j]) && shared[1] == 0) shared[1] = j + 1;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        {
            const int p = shared[0];
            if (p != j) {
                for (int c = lid; c < n; c += tsize) { scalar_t t = a[p * n + c]; a[p * n + c] = a[j * n + c]; a[j * n + c] = t; }
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        {
            const scalar_t piv = a[j * n + j];
            if (!S_ISZERO(piv)) {
                int use_div;
                scalar_t r = reciprocal_or_zero(piv, &use_div);
                for (int i = j + 1 + lid; i < m; i += tsize)
                    a[i * n + j] = use_div ? S_DIV(a[i * n + j], piv) : S_MUL(a[i * n + j], r);
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        // Rank-1 update of the trailing block.
        const int rows = m - j - 1, cols = n - j - 1;
        for (int e = lid; e < rows * cols; e += tsize) {
            int i = j + 1 + e / cols, c = j + 1 + e % cols;
            a[i * n + c] = S_SUB(a[i * n + c], S_MUL(a[i * n + j], a[j * n + c]));
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (active) {
        for (int e = lid; e < size; e += tsize) g[e] = a[e];
        if (lid == 0) info[b] = shared[1];
    }
}

// Blocked path, panel step: factors columns j0 .. j0+jb-1 of each matrix in
// global memory (rows j0 .. m-1), swapping whole rows (all n columns, as
// LAPACK's getrf applies each interchange to the left and right blocks too).
// One work-group per matrix. info accumulates across panels.
__kernel void getrf_panel(__global scalar_t* A, __global int* ipiv, __global int* info,
                          int m, int n, int j0, int jb, int pivot, long base, long count,
                          __local int* shared) {
    const long b = base + get_group_id(0);
    const int lid = get_local_id(0), ls = get_local_size(0);
    const int k = min(m, n);
    const bool active = b < count;
    __global scalar_t* a = A + (active ? b : 0) * (long)m * n;
    if (lid == 0) shared[1] = active ? info[b] : 0;
    barrier(CLK_GLOBAL_MEM_FENCE | CLK_LOCAL_MEM_FENCE);
    for (int j = j0; j < j0 + jb; ++j) {
        if (lid == 0) {
            int p = j;
            if (pivot && active) {
                real_t best = S_PIVMAG(a[j * n + j]);
                for (int i = j + 1; i < m; ++i) {
                    real_t v = S_PIVMAG(a[i * n + j]);
                    if (v > best) { best = v; p = i; }
                }
            }
            shared[0] = p;
            if (active) ipiv[b * k + j] = p + 1;
        }
        barrier(CLK_GLOBAL_MEM_FENCE | CLK_LOCAL_MEM_FENCE);
        const int p = shared[0];
        const scalar_t piv = active ? a[p * n + j] : ONE;
        const bool nonzero = !S_ISZERO(piv);
        // Everyone has read the pivot before anyone swaps it away.
        barrier(CLK_GLOBAL_MEM_FENCE);
        if (active && nonzero && p != j) {
            for (int c = lid; c < n; c += ls) { scalar_t t = a[p * n + c]; a[p * n + c] = a[j * n + c]; a[j * n + c] = t; }
        }
        if (!nonzero && lid == 0 && shared[1] == 0) shared[1] = j + 1;
        barrier(CLK_GLOBAL_MEM_FENCE | CLK_LOCAL_MEM_FENCE);
        if (active && nonzero) {
            int use_div;
            scalar_t r = reciprocal_or_zero(piv, &use_div);
            for (int i = j + 1 + lid; i < m; i += ls)
                a[i * n + j] = use_div ? S_DIV(a[i * n + j], piv) : S_MUL(a[i * n + j], r);
        }
        barrier(CLK_GLOBAL_MEM_FENCE);
        // Rank-1 update inside the panel only; the trailing matrix gets trsm + gemm.
        const int rows = m - j - 1, cols = j0 + jb - j - 1;
        if (active) {
            for (int e = lid; e < rows * cols; e += ls) {
                int i = j + 1 + e / cols, c = j + 1 + e % cols;
                a[i * n + c] = S_SUB(a[i * n + c], S_MUL(a[i * n + j], a[j * n + c]));
            }
        }
        barrier(CLK_GLOBAL_MEM_FENCE);
    }
    if (active && lid == 0) info[b] = shared[1];
}
