// Batched dense kernels on row-major matrices: triangular solve and multiply
// in every variant, general product, row interchanges, and the elementwise
// triangle combinations of the LU backward. Matrix b of X is at
// X + offX + b * strideX; `amap` (when use_map) maps an output matrix to the
// index of the triangular / A matrix it uses (broadcast solves).

// op(A)(i, j) for trans = 0 (none), 1 (transpose), 2 (conjugate transpose).
inline scalar_t op_at(__global const scalar_t* a, int lda, int i, int j, int trans) {
    if (trans == 0) return a[i * lda + j];
    scalar_t v = a[j * lda + i];
    return trans == 2 ? S_CONJ(v) : v;
}

// Left (side = 0): op(A) X = B, A is m x m, one work-item per column of B.
// Right (side = 1): X op(A) = B, A is n x n, one work-item per row of B.
// uplo: 0 upper, 1 lower; diag: 0 non-unit, 1 unit. B is m x n (ld ldb).
// global = (lanes padded, batch)
__kernel void trsm_batched(__global const scalar_t* A, long offA, long strideA, int lda,
                           __global scalar_t* B, long offB, long strideB, int ldb,
                           int m, int n, int side, int uplo, int trans, int diag,
                           __global const int* amap, int use_map) {
    const int lane = get_global_id(0);
    const long b = get_global_id(1);
    const long ai = use_map ? amap[b] : b;
    __global const scalar_t* a = A + offA + ai * strideA;
    __global scalar_t* x = B + offB + b * strideB;
    const bool lower = (uplo == 1) == (trans == 0);
    if (side == 0) {
        if (lane >= n) return;
        const int c = lane;
        for (int s = 0; s < m; ++s) {
            const int i = lower ? s : m - 1 - s;
            scalar_t v = x[i * ldb + c];
            if (lower) { for (int p = 0; p < i; ++p) v = S_SUB(v, S_MUL(op_at(a, lda, i, p, trans), x[p * ldb + c])); }
            else { for (int p = i + 1; p < m; ++p) v = S_SUB(v, S_MUL(op_at(a, lda, i, p, trans), x[p * ldb + c])); }
            x[i * ldb + c] = diag ? v : S_DIV(v, op_at(a, lda, i, i, trans));
        }
    } else {
        if (lane >= m) return;
        __global scalar_t* row = x + lane * ldb;
        for (int s = 0; s < n; ++s) {
            const int j = lower ? n - 1 - s : s;
            scalar_t v = row[j];
            if (lower) { for (int p = j + 1; p < n; ++p) v = S_SUB(v, S_MUL(row[p], op_at(a, lda, p, j, trans))); }
            else { for (int p = 0; p < j; ++p) v = S_SUB(v, S_MUL(row[p], op_at(a, lda, p, j, trans))); }
            row[j] = diag ? v : S_DIV(v, op_at(a, lda, j, j, trans));
        }
    }
}

// In-place triangular multiply: B := op(A) B (left) or B := B op(A) (right).
__kernel void trmm_batched(__global const scalar_t* A, long offA, long strideA, int lda,
                           __global scalar_t* B, long offB, long strideB, int ldb,
                           int m, int n, int side, int uplo, int trans, int diag) {
    const int lane = get_global_id(0);
    const long b = get_global_id(1);
    __global const scalar_t* a = A + offA + b * strideA;
    __global scalar_t* x = B + offB + b * strideB;
    const bool lower = (uplo == 1) == (trans == 0);
    if (side == 0) {
        if (lane >= n) return;
        const int c = lane;
        // Row i of the result reads rows >= i (upper) or <= i (lower) of B.
        for (int s = 0; s < m; ++s) {
            const int i = lower ? m - 1 - s : s;
            scalar_t v = diag ? x[i * ldb + c] : S_MUL(op_at(a, lda, i, i, trans), x[i * ldb + c]);
            if (lower) { for (int p = 0; p < i; ++p) v = S_ADD(v, S_MUL(op_at(a, lda, i, p, trans), x[p * ldb + c])); }
            else { for (int p = i + 1; p < m; ++p) v = S_ADD(v, S_MUL(op_at(a, lda, i, p, trans), x[p * ldb + c])); }
            x[i * ldb + c] = v;
        }
    } else {
        if (lane >= m) return;
        __global scalar_t* row = x + lane * ldb;
        for (int s = 0; s < n; ++s) {
            const int j = lower ? s : n - 1 - s;
            scalar_t v = diag ? row[j] : S_MUL(row[j], op_at(a, lda, j, j, trans));
            if (lower) { for (int p = j + 1; p < n; ++p) v = S_ADD(v, S_MUL(row[p], op_at(a, lda, p, j, trans))); }
            else { for (int p = 0; p < j; ++p) v = S_ADD(v, S_MUL(row[p], op_at(a, lda, p, j, trans))); }
            row[j] = v;
        }
    }
}

// C = alpha op(A) op(B) + beta C; C is m x n, inner dimension k. One
// work-item per element of C. global = (n padded, m, batch).
__kernel void gemm_batched(__global const scalar_t* A, long offA, long strideA, int lda, int transA,
                           __global const scalar_t* B, long offB, long strideB, int ldb, int transB,
                           __global scalar_t* C, long offC, long strideC, int ldc,
                           int m, int n, int k, scalar_t alpha, scalar_t beta,
                           __global const int* cmap, int use_map) {
    const int j = get_global_id(0), i = get_global_id(1);
    const long b = get_global_id(2);
    if (j >= n || i >= m) return;
    __global const scalar_t* a = A + offA + b * strideA;
    __global const scalar_t* bb = B + offB + b * strideB;
    const long ci = use_map ? cmap[b] : b;
    __global scalar_t* c = C + offC + ci * strideC;
    scalar_t acc = ZERO;
    for (int p = 0; p < k; ++p) acc = S_ADD(acc, S_MUL(op_at(a, lda, i, p, transA), op_at(bb, ldb, p, j, transB)));
    scalar_t old = c[i * ldc + j];
    c[i * ldc + j] = S_ADD(S_MUL(alpha, acc), S_ISZERO(beta) ? ZERO : S_MUL(beta, old));
}

// Applies the interchanges ipiv[0..k) (1-based) to the rows of each m x n
// matrix, forward (P^T X) or reverse (P X). One work-item per column.
__kernel void swap_rows(__global scalar_t* X, long strideX, int n,
                        __global const int* ipiv, int k, int reverse,
                        __global const int* pmap, int use_map) {
    const int c = get_global_id(0);
    const long b = get_global_id(1);
    if (c >= n) return;
    const long pi = use_map ? pmap[b] : b;
    __global const int* p = ipiv + pi * k;
    __global scalar_t* x = X + b * strideX;
    for (int s = 0; s < k; ++s) {
        const int i = reverse ? k - 1 - s : s;
        const int r = p[i] - 1;
        if (r != i) { scalar_t t = x[i * n + c]; x[i * n + c] = x[r * n + c]; x[r * n + c] = t; }
    }
}

// dst(i, j) for i < rows, j < cols from x and y (each with its own offset,
// batch stride and leading dimension):
//   0: tril-1(x)     1: triu(x)        2: i > j ? y : x
//   3: i > j ? x - y : 0               4: i <= j ? x - y : 0
//   5: x + (i <= j ? y : 0)            6: x + (i > j ? y : 0)     7: x
// global = (cols padded, rows, batch)
__kernel void tri_combine(__global scalar_t* D, long offD, long strideD, int ldd,
                          __global const scalar_t* X, long offX, long strideX, int ldx,
                          __global const scalar_t* Y, long offY, long strideY, int ldy,
                          int rows, int cols, int mode) {
    const int j = get_global_id(0), i = get_global_id(1);
    const long b = get_global_id(2);
    if (j >= cols || i >= rows) return;
    const scalar_t x = X[offX + b * strideX + i * ldx + j];
    const scalar_t y = (mode >= 2 && mode <= 6) ? Y[offY + b * strideY + i * ldy + j] : ZERO;
    scalar_t r;
    switch (mode) {
    case 0: r = i > j ? x : ZERO; break;
    case 1: r = i <= j ? x : ZERO; break;
    case 2: r = i > j ? y : x; break;
    case 3: r = i > j ? S_SUB(x, y) : ZERO; break;
    case 4: r = i <= j ? S_SUB(x, y) : ZERO; break;
    case 5: r = i <= j ? S_ADD(x, y) : x; break;
    case 6: r = i > j ? S_ADD(x, y) : x; break;
    default: r = x; break;
    }
    D[offD + b * strideD + i * ldd + j] = r;
}
