// Unpacking packed factors into P (m x m), L (m x k, unit lower) and U
// (k x n, upper), and the permutation as indices: row i of P^T A is row
// perm[i] of A, so P[perm[i], i] = 1.

// One work-item per matrix: perm from the interchanges, applied in order.
// Output b reads the pivots of factors number `first + b`.
__kernel void perm_from_pivots(__global const int* ipiv, __global int* perm, int m, int k, long first, long count) {
    const long b = get_global_id(0);
    if (b >= count) return;
    __global int* p = perm + b * m;
    __global const int* v = ipiv + (first + b) * k;
    for (int i = 0; i < m; ++i) p[i] = i;
    for (int i = 0; i < k; ++i) {
        const int r = v[i] - 1;
        const int t = p[i]; p[i] = p[r]; p[r] = t;
    }
}

// global = (max(m, n) padded, max(m, k) padded, batch): each work-item writes
// the entries (i, j) it owns of P, L and U.
__kernel void unpack(__global const scalar_t* LU, __global const int* perm,
                     __global scalar_t* P, __global scalar_t* L, __global scalar_t* U, int m, int n, long first) {
    const int j = get_global_id(0), i = get_global_id(1);
    const long b = get_global_id(2);
    const int k = min(m, n);
    __global const scalar_t* a = LU + (first + b) * (long)m * n;
    if (i < m && j < m) P[b * (long)m * m + i * m + j] = (perm[b * m + j] == i) ? ONE : ZERO;
    if (i < m && j < k) L[b * (long)m * k + i * k + j] = i > j ? a[i * n + j] : (i == j ? ONE : ZERO);
    if (i < k && j < n) U[b * (long)k * n + i * n + j] = i <= j ? a[i * n + j] : ZERO;
}
