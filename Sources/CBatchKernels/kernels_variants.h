// Compiles kernels_impl.h and rowmajor_impl.h for one element type once per
// instruction set, with BLK_MR x BLK_NR (rows x vectors) the register tile of
// the row-major kernel's trailing update, sized to the variant's registers,
// and BLK_MASKED (AVX-512) or BLK_MASKED_AVX2 set where masked loads and
// stores can move partial vectors, and BLK_SPLIT_BYTES and
// BLK_SPLIT_MIN_BYTES when the row-major kernel factors in an aligned working
// copy (see rowmajor_impl.h); included by batchkernels.c with T, V, VI,
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
// Zen 4 moves each 32-byte half of a 64-byte access on its own (measured
// there, see rowmajor_impl.h); elsewhere a 64-byte access splits a line
// unless 64-byte aligned, and the rule measured before (from 32 KiB) stays.
#define BLK_SPLIT_BYTES (blk_amd_19h() ? 32 : 64)
#define BLK_SPLIT_MIN_BYTES (blk_amd_19h() ? 16384 : 32768)
#include "kernels_impl.h"
#include "rowmajor_impl.h"
#undef FN
#undef BLK_MR
#undef BLK_NR
#undef BLK_MASKED
#undef BLK_SPLIT_BYTES
#undef BLK_SPLIT_MIN_BYTES
#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define FN(x) BLK_CAT(x, TNAME, avx2)
#define BLK_MR 2
#define BLK_NR 2
#define BLK_MASKED_AVX2 1
// 32-byte vectors: none splits a line when the output is 32-byte aligned.
#define BLK_SPLIT_BYTES 32
#define BLK_SPLIT_MIN_BYTES 32768
#include "kernels_impl.h"
#include "rowmajor_impl.h"
#undef FN
#undef BLK_MR
#undef BLK_NR
#undef BLK_MASKED_AVX2
#undef BLK_SPLIT_BYTES
#undef BLK_SPLIT_MIN_BYTES
#pragma clang attribute pop
#endif

#define FN(x) BLK_CAT(x, TNAME, base)
#define BLK_MR 1
#define BLK_NR 2
// 16-byte accesses: none splits a line in a Swift array (16-byte aligned).
#define BLK_SPLIT_BYTES 16
#define BLK_SPLIT_MIN_BYTES 32768
#include "kernels_impl.h"
#include "rowmajor_impl.h"
#undef FN
#undef BLK_MR
#undef BLK_NR
#undef BLK_SPLIT_BYTES
#undef BLK_SPLIT_MIN_BYTES

#undef BLK_CAT
#undef BLK_CAT_
#undef T
#undef V
#undef VI
#undef W
#undef TMIN
#undef TNAME
