// Determinants from packed factors, one work-item per n x n matrix:
// det = sign(P) * prod diag(U); slogdet = (sign or phase, sum log|U_ii|).
// Matrix b of the outputs reads factors number `first + b`.
__kernel void det_batched(__global const scalar_t* LU, __global const int* ipiv, int n, long first, long count,
                          __global scalar_t* det, __global scalar_t* sign, __global real_t* logabs) {
    const long b = get_global_id(0);
    if (b >= count) return;
    __global const scalar_t* a = LU + (first + b) * (long)n * n;
    __global const int* p = ipiv + (first + b) * n;
    bool odd = false;
    for (int i = 0; i < n; ++i) if (p[i] != i + 1) odd = !odd;
    scalar_t d = odd ? -ONE : ONE;
    scalar_t s = d;
    real_t l = 0;
    bool zero = false;
    for (int i = 0; i < n; ++i) {
        scalar_t u = a[i * n + i];
        d = S_MUL(d, u);
#if IS_COMPLEX
        real_t mod = hypot(u.x, u.y);
        if (mod == 0) zero = true; else { s = S_MUL(s, (scalar_t)(u.x / mod, u.y / mod)); l += log(mod); }
#else
        real_t mod = fabs(u);
        if (mod == 0) zero = true; else { s = s * (u / mod); l += log(mod); }
#endif
    }
    det[b] = d;
    sign[b] = zero ? ZERO : s;
    logabs[b] = zero ? -INFINITY : l;
}
