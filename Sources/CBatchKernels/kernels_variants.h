// Compiles kernels_impl.h and rowmajor_impl.h for one element type once per
// instruction set, with BLK_MR x BLK_NR (rows x vectors) the register tile of
// the row-major kernel's trailing update, sized to the variant's registers,
// and BLK_MASKED (AVX-512) or BLK_MASKED_AVX2 set where masked loads and
// stores can move partial vectors, and BLK_SPLIT_BYTES the alignment below
// which the row-major kernel's vector accesses split cache lines (see
// rowmajor_impl.h); included by batchkernels.c with T, V, VI,
// W, TMIN and TNAME (f64 / f32) defined, which it undefines at the end. Function names end in
// _TNAME_avx512, _TNAME_avx2 and _TNAME_base.
#define BLK_CAT_(a, b, c) a##_##b##_##c
#define BLK_CAT(a, b, c) BLK_CAT_(a, b, c)

#ifdef BLK_X86
#pragma clang attribute push(__attribute__((target("avx512f,avx512dq,avx512vl,avx2,fma"))), apply_to = function)
#define FN(x) BLK_CAT(x, TNAME, avx512)
#define BLK_MR 4
#define BLK_NR 4
#define BLK_MASKED 1
#define BLK_SPLIT_BYTES 32
#include "kernels_impl.h"
#include "rowmajor_impl.h"
#undef FN
#undef BLK_MR
#undef BLK_NR
#undef BLK_MASKED
#undef BLK_SPLIT_BYTES
#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define FN(x) BLK_CAT(x, TNAME, avx2)
#define BLK_MR 2
#define BLK_NR 2
#define BLK_MASKED_AVX2 1
#define BLK_SPLIT_BYTES 32
#include "kernels_impl.h"
#include "rowmajor_impl.h"
#undef FN
#undef BLK_MR
#undef BLK_NR
#undef BLK_MASKED_AVX2
#undef BLK_SPLIT_BYTES
#pragma clang attribute pop
#endif

#define FN(x) BLK_CAT(x, TNAME, base)
#define BLK_MR 1
#define BLK_NR 2
#define BLK_SPLIT_BYTES 16
#include "kernels_impl.h"
#include "rowmajor_impl.h"
#undef FN
#undef BLK_MR
#undef BLK_NR
#undef BLK_SPLIT_BYTES

#undef BLK_CAT
#undef BLK_CAT_
#undef T
#undef V
#undef VI
#undef W
#undef TMIN
#undef TNAME
