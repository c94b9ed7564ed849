#include "batchkernels.h"
#include <cblas.h>
#include <pthread.h>
#include <float.h>
#include <stdlib.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

// The helpers pass 64-byte vectors by value; they are always inlined, so the
// ABI note for the AVX2 and baseline variants does not apply.
#pragma clang diagnostic ignored "-Wpsabi"

#define BLK_MAX_N 64
// The interleaved kernels prefetch the next group's input for n in
// [BLK_PREFETCH_MIN_N, BLK_PREFETCH_MAX_N] (forward) and
// [BLK_PREFETCH_BWD_MIN_N, BLK_PREFETCH_BWD_MAX_N] (backward). 2-core AVX-512
// EPYC, C harness, 2 threads, from memory, input 48 bytes past a line (as a
// large Swift array's) into a reused output, medians of 5-7 alternating
// rounds, without -> with the prefetch. Forward: f32 700000 x 3^2 5.38 ->
// 4.38 ms, 400000 x 4^2 2.92 -> 2.62 ms, 177777 x 6^2 3.54 -> 2.93 ms, 11111
// x 24^2 5.51 -> 4.95 ms; f64 4^2 6.00 -> 4.95 ms (100000 x 4^2 streamed 2.40
// -> 1.97 ms), 6^2 6.45 -> 5.85 ms, 24^2 11.5 -> 9.5 ms; n = 2 unchanged.
// n = 3 and 4 are left out of the forward despite those gains from memory:
// in the caches the prefetch's own instructions cost more than it saves
// (one thread, f32 4096 x 4^2: 0.030 -> 0.034 ms), and bench-gpu's 100000 x
// 4^2 (inputs of 6.4 and 12.8 MB, half in the last-level cache) measured
// f32 0.495 -> 0.526 ms and f64 1.11 -> 1.03 ms in one set of 6 alternating
// rounds and 1.14 -> 1.14 ms in another.
// Backward: f64 400000 x 4^2 9.67 -> 7.19 ms, 177777 x 6^2 11.2 -> 7.7 ms,
// 11111 x 24^2 12.9 -> 11.7 ms, 10000 x 32^2 24.5 -> 23.4 ms; f32 4^2 5.23
// -> 3.97 ms, 6^2 6.78 -> 4.72 ms, 24^2 6.70 -> 5.85 ms, 32^2 unchanged; n =
// 2 slower (f64 1000000 x 2^2 5.07 -> 6.38 ms), n = 3 (f32 6 %) and 48
// unchanged or slower. Measured first (on an aligned input, before the
// prefetch covered a group's last line), n 8 to 16: backward f32 20000 x
// 16^2 4.8-5.0 -> 4.4-4.5 ms, 100000 x 8^2 7.2-7.4 -> 6.1-6.4 ms; f64
// 20000 x 16^2 8.4-8.8 -> 7.8-8.1 ms, 100000 x 8^2 11.8-12.3 -> 9.2-9.8 ms;
// forward f32 20000 x 16^2 4.0-4.2 -> 3.8-3.9 ms, 100000 x 8^2 3.6-4.1 ->
// 3.3-3.6 ms; f64 20000 x 16^2 6.4-6.5 -> 5.8-5.9 ms, 100000 x 8^2 5.5-6.4
// -> 5.2-5.5 ms.
// An output they do not stream is prefetched for writing the same way
// (prefetchw; it does nothing on pages not yet faulted in, so it helps only
// when the output's memory is already mapped: bench-gpu f64 with glibc's
// mmap off, 3 alternating rounds, forward 100000 x 8^2 7.1-7.7 -> 6.3-6.9
// ms, 20000 x 16^2 7.0-7.4 -> 6.0-6.4 ms, backward 100000 x 8^2 9.8-10.5 ->
// 8.6-9.0 ms; within noise with fresh pages).
#define BLK_PREFETCH_MIN_N 5
#define BLK_PREFETCH_MAX_N 31
#define BLK_PREFETCH_BWD_MIN_N 4
#define BLK_PREFETCH_BWD_MAX_N 32
// A group of matrices of up to this many bytes each is transposed straight
// from the input and into the output; larger ones go through a staging copy
// (FN(load)). C harness built at -O3; 2 threads, from memory into a reused
// output, min of 11, the staging copy always -> up to 1 KiB -> up to 4 KiB:
// forward f32 20000 x 16^2 2.94 -> 2.66 -> 2.56 ms, 10000 x 24^2 4.92 -> 4.99
// -> 4.50 ms, 10000 x 28^2 7.26 -> 7.26 -> 6.67 ms; f64 20000 x 16^2 5.46 ->
// 5.56 -> 4.98 ms; f64 24^2 and 28^2 (over 4 KiB) unchanged.
#define BLK_DIRECT_MAX_BYTES 4096
// Up to this n the interleaved forward factors two groups in step. C harness
// built at -O3; one thread, in cache, min of 15 (per 16 K matrices of n = 4,
// 29 K of n = 3, 4 K of n = 8): f32 n = 4 0.141 -> 0.122 ms, f64 0.278 ->
// 0.216 ms; f32 n = 2 0.269 -> 0.170 ms (per 64 K), f64 0.351 -> 0.260 ms; n =
// 3 f32 0.285 -> 0.297 ms, f64 0.310 -> 0.303 ms; n = 5 to 8 and 16 as fast or
// slower (f32 n = 5 0.188 -> 0.227 ms).
#define BLK_PAIR_MAX_N 4
// The n for which the interleaved forward and backward are compiled with n
// a constant (FN(getrf), FN(backward)); X(k) for each.
#define BLK_SPECIALISED_N(X) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(16)

#if defined(__x86_64__) && defined(__clang__)
#define BLK_X86 1
#include <immintrin.h>
#endif

typedef double blk_vf64 __attribute__((vector_size(64), aligned(64)));
typedef long long blk_vi64 __attribute__((vector_size(64), aligned(64)));
typedef float blk_vf32 __attribute__((vector_size(64), aligned(64)));
typedef int blk_vi32 __attribute__((vector_size(64), aligned(64)));
typedef unsigned blk_vu32h __attribute__((vector_size(32)));
typedef double blk_vf64h __attribute__((vector_size(32)));
typedef float blk_vf32h __attribute__((vector_size(32)));
typedef unsigned long long blk_vu64 __attribute__((vector_size(64)));

// A helper thread running fn(arg); when none can be started, blk_join runs
// fn(arg) on the caller's thread instead.
typedef struct {
    pthread_t id;
    int started;
} blk_thread;
static void blk_start(blk_thread *t, void *(*fn)(void *), void *arg) {
    t->started = pthread_create(&t->id, NULL, fn, arg) == 0;
}
static void blk_join(blk_thread *t, void *(*fn)(void *), void *arg) {
    if (t->started) pthread_join(t->id, NULL);
    else fn(arg);
}

#ifdef BLK_X86
// Whether the CPU is an AMD family 19h (Zen 3 and Zen 4; of these only Zen 4
// runs the AVX-512 variant), whose AVX-512 loads and stores move each 32-byte
// half of a vector on its own, so that a vector 32 bytes past a cache line
// splits none (see BLK_SPLIT_BYTES in kernels_variants.h).
static int blk_amd_19h(void) {
    __builtin_cpu_init();
    return __builtin_cpu_is("amdfam19h");
}
#endif

// Each element type: kernels_variants.h compiles kernels_impl.h once per
// instruction set, under a different target attribute.
#define T double
#define V blk_vf64
#define VI blk_vi64
#define W 8
#define TMIN DBL_MIN
#define TNAME f64
#define BLK_GEMM cblas_dgemm
#include "kernels_variants.h"
#undef BLK_GEMM

#define T float
#define V blk_vf32
#define VI blk_vi32
#define W 16
#define TMIN FLT_MIN
#define TNAME f32
#define BLK_GEMM cblas_sgemm
#include "kernels_variants.h"
#undef BLK_GEMM

enum { ISA_BASE = BLK_ISA_BASELINE, ISA_AVX2 = BLK_ISA_AVX2, ISA_AVX512 = BLK_ISA_AVX512 };

static int blk_detect(void) {
#ifdef BLK_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
        return ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return ISA_AVX2;
#endif
    return ISA_BASE;
}

int blk_isa_detected(void) {
    static int level = -1;  // benign race: every thread computes the same value
    int l = __atomic_load_n(&level, __ATOMIC_RELAXED);
    if (l < 0) {
        l = blk_detect();
        __atomic_store_n(&level, l, __ATOMIC_RELAXED);
    }
    return l;
}

const char *blk_isa_name(int isa) {
    switch (isa) {
    case ISA_AVX512: return "avx512";
    case ISA_AVX2: return "avx2";
    default: return "baseline";
    }
}

int blk_isa_supported(int isa) { return isa >= BLK_ISA_BASELINE && isa <= blk_isa_detected(); }

#ifdef BLK_X86
#define DISPATCH(isa, name, suffix, ...)                                                               \
    switch (isa) {                                                                                     \
    case ISA_AVX512: return name##_##suffix##_avx512(__VA_ARGS__);                                    \
    case ISA_AVX2: return name##_##suffix##_avx2(__VA_ARGS__);                                        \
    default: return name##_##suffix##_base(__VA_ARGS__);                                              \
    }
#else
#define DISPATCH(isa, name, suffix, ...) return name##_##suffix##_base(__VA_ARGS__);
#endif

// An unsupported `isa` falls back to the detected one.
#define CHOOSE(isa) (blk_isa_supported(isa) ? (isa) : blk_isa_detected())

int blk_getrf_f64(int isa, const double *in, double *out, int32_t *ipiv, int32_t *info, int64_t count,
                       int32_t n, int32_t pivot, int32_t stream) {
    if (count <= 0) return 0;
    if (n <= 0 || n > BLK_MAX_N) return -2;
    DISPATCH(CHOOSE(isa), getrf, f64, in, out, ipiv, info, count, n, pivot, stream)
}
int blk_getrf_f32(int isa, const float *in, float *out, int32_t *ipiv, int32_t *info, int64_t count,
                       int32_t n, int32_t pivot, int32_t stream) {
    if (count <= 0) return 0;
    if (n <= 0 || n > BLK_MAX_N) return -2;
    DISPATCH(CHOOSE(isa), getrf, f32, in, out, ipiv, info, count, n, pivot, stream)
}
int blk_getrf_backward_f64(int isa, const double *lu, const int32_t *ipiv, const double *g, double *out,
                                int64_t count, int32_t n, int32_t stream) {
    if (count <= 0) return 0;
    if (n <= 0 || n > BLK_MAX_N) return -2;
    DISPATCH(CHOOSE(isa), backward, f64, lu, ipiv, g, out, count, n, stream)
}
int blk_getrf_backward_f32(int isa, const float *lu, const int32_t *ipiv, const float *g, float *out,
                                int64_t count, int32_t n, int32_t stream) {
    if (count <= 0) return 0;
    if (n <= 0 || n > BLK_MAX_N) return -2;
    DISPATCH(CHOOSE(isa), backward, f32, lu, ipiv, g, out, count, n, stream)
}

int blk_getrf_rm_f64(int isa, const double *in, double *out, int32_t *ipiv, int32_t *info, int64_t count, int32_t m,
                     int32_t n, int32_t pivot) {
    if (count <= 0) return 0;
    if (m <= 0 || n <= 0) return -2;
    DISPATCH(CHOOSE(isa), rm_getrf, f64, in, out, ipiv, info, count, m, n, pivot)
}
int blk_getrf_rm_f32(int isa, const float *in, float *out, int32_t *ipiv, int32_t *info, int64_t count, int32_t m,
                     int32_t n, int32_t pivot) {
    if (count <= 0) return 0;
    if (m <= 0 || n <= 0) return -2;
    DISPATCH(CHOOSE(isa), rm_getrf, f32, in, out, ipiv, info, count, m, n, pivot)
}

int blk_getrf_backward_rm_f64(int isa, const double *lu, const int32_t *ipiv, const double *g, double *out,
                              int64_t count, int32_t m, int32_t n) {
    if (count <= 0) return 0;
    if (m <= 0 || n <= 0) return -2;
    DISPATCH(CHOOSE(isa), rm_backward, f64, lu, ipiv, g, out, count, m, n)
}
int blk_getrf_backward_rm_f32(int isa, const float *lu, const int32_t *ipiv, const float *g, float *out,
                              int64_t count, int32_t m, int32_t n) {
    if (count <= 0) return 0;
    if (m <= 0 || n <= 0) return -2;
    DISPATCH(CHOOSE(isa), rm_backward, f32, lu, ipiv, g, out, count, m, n)
}

int blk_getrf_rm_large_f64(int isa, const double *in, double *out, int32_t *ipiv, int32_t *info, int64_t count, int32_t m,
                           int32_t n, int32_t pivot, int32_t nb, int32_t threads) {
    if (count <= 0) return 0;
    if (m <= 0 || n <= 0 || nb <= 0) return -2;
    DISPATCH(CHOOSE(isa), rm_getrf_large, f64, in, out, ipiv, info, count, m, n, pivot, nb, threads)
}
int blk_getrf_rm_large_f32(int isa, const float *in, float *out, int32_t *ipiv, int32_t *info, int64_t count, int32_t m,
                           int32_t n, int32_t pivot, int32_t nb, int32_t threads) {
    if (count <= 0) return 0;
    if (m <= 0 || n <= 0 || nb <= 0) return -2;
    DISPATCH(CHOOSE(isa), rm_getrf_large, f32, in, out, ipiv, info, count, m, n, pivot, nb, threads)
}

void blk_advise_huge_pages(void *p, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    const uintptr_t huge = (uintptr_t)1 << 21;
    uintptr_t lo = ((uintptr_t)p + huge - 1) & ~(huge - 1), hi = ((uintptr_t)p + bytes) & ~(huge - 1);
    if (hi > lo) (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
#else
    (void)p;
    (void)bytes;
#endif
}
