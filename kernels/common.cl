// Scalar macros shared by every BatchLU kernel. The host prepends exactly
// one of -DPRECISION=32 / 64 (real) or 3232 / 6464 (complex) and never edits
// kernel text. Complex values are float2 / double2 (real, imaginary).
#ifndef BATCHLU_COMMON_CL
#define BATCHLU_COMMON_CL

#if PRECISION == 64 || PRECISION == 6464
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
typedef double real_t;
#else
typedef float real_t;
#endif

#if PRECISION == 3232
typedef float2 scalar_t;
#define IS_COMPLEX 1
#elif PRECISION == 6464
typedef double2 scalar_t;
#define IS_COMPLEX 1
#else
typedef real_t scalar_t;
#define IS_COMPLEX 0
#endif

#if IS_COMPLEX
#define ZERO ((scalar_t)(0, 0))
#define ONE ((scalar_t)(1, 0))
#define S_ADD(a, b) ((a) + (b))
#define S_SUB(a, b) ((a) - (b))
#define S_MUL(a, b) ((scalar_t)((a).x * (b).x - (a).y * (b).y, (a).x * (b).y + (a).y * (b).x))
#define S_CONJ(a) ((scalar_t)((a).x, -(a).y))
// |Re| + |Im|, LAPACK's i?amax magnitude for complex pivots.
#define S_PIVMAG(a) (fabs((a).x) + fabs((a).y))
#define S_ISZERO(a) ((a).x == 0 && (a).y == 0)
inline scalar_t s_div(scalar_t a, scalar_t b) {
    // Smith's algorithm: avoids overflow of |b|^2.
    if (fabs(b.x) >= fabs(b.y)) {
        real_t r = b.y / b.x, d = b.x + b.y * r;
        return (scalar_t)((a.x + a.y * r) / d, (a.y - a.x * r) / d);
    } else {
        real_t r = b.x / b.y, d = b.y + b.x * r;
        return (scalar_t)((a.x * r + a.y) / d, (a.y * r - a.x) / d);
    }
}
#define S_DIV(a, b) s_div((a), (b))
#else
#define ZERO ((scalar_t)0)
#define ONE ((scalar_t)1)
#define S_ADD(a, b) ((a) + (b))
#define S_SUB(a, b) ((a) - (b))
#define S_MUL(a, b) ((a) * (b))
#define S_CONJ(a) (a)
#define S_PIVMAG(a) fabs(a)
#define S_ISZERO(a) ((a) == 0)
#define S_DIV(a, b) ((a) / (b))
#endif

#endif // BATCHLU_COMMON_CL
