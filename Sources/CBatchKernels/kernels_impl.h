// One variant of the interleaved kernels; included by batchkernels.c once per
// (element type, instruction set). Expects:
//   T   scalar type          V   64-byte vector of T       VI  same-width signed integer vector
//   W   lanes (64 / sizeof T) TMIN smallest normal T        FN(x) the variant's name for x
// Element (i, j) of the group's matrices is buf[i * n + j], one V.

static inline __attribute__((always_inline)) V FN(splat)(T s) {
    V v;
    for (int l = 0; l < W; ++l) v[l] = s;
    return v;
}
static inline __attribute__((always_inline)) V FN(sel)(VI m, V a, V b) { return (V)(((VI)a & m) | ((VI)b & ~m)); }
static inline __attribute__((always_inline)) V FN(vabs)(V x) { return (V)((VI)x & ~(VI)FN(splat)(-0.0)); }
static inline __attribute__((always_inline)) int FN(any)(VI m) { return __builtin_reduce_or(m) != 0; }
// Unaligned vector load and store.
static inline __attribute__((always_inline)) V FN(ldu)(const T *p) {
    V v;
    __builtin_memcpy(&v, p, sizeof(V));
    return v;
}
static inline __attribute__((always_inline)) void FN(stu)(T *p, V v) { __builtin_memcpy(p, &v, sizeof(V)); }

// Copies `count` elements from `src` to `dst`; with `stream`, the 64-byte
// aligned part by non-temporal stores, which write to memory without first
// reading the destination's lines into the caches (for outputs larger than
// the caches; the caller fences before the data is handed on).
static inline __attribute__((always_inline)) void FN(put)(T *dst, const T *src, int64_t count, int stream) {
    if (!stream) {
        __builtin_memcpy(dst, src, sizeof(T) * (size_t)count);
        return;
    }
    int64_t e = 0;
    for (; e < count && ((uintptr_t)(dst + e) & 63); ++e) dst[e] = src[e];
    for (; e + W <= count; e += W) __builtin_nontemporal_store(FN(ldu)(src + e), (V *)(dst + e));
    for (; e < count; ++e) dst[e] = src[e];
}

// Copies `valid` matrices of nn elements from `src` (ls apart) to `dst` (ld
// apart) with FN(put); in one call when both sides are contiguous.
static inline __attribute__((always_inline)) void FN(put_lanes)(T *dst, int64_t ld, const T *src, int64_t ls,
                                                                int valid, int nn, int stream) {
    if (ld == nn && ls == nn) {
        FN(put)(dst, src, (int64_t)nn * valid, stream);
        return;
    }
    for (int l = 0; l < valid; ++l) FN(put)(dst + l * ld, src + l * ls, nn, stream);
}

// Makes streamed stores visible to other threads (non-temporal stores are
// not ordered by the release of a lock on x86).
static inline __attribute__((always_inline)) void FN(fence)(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_sfence();
#else
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

// Lines [*q0, *q1) of the 64-byte lines that `count` elements at `p` touch,
// counted from the line holding p[0] (whose address it returns): part
// `part` of `parts` equal shares.
// From p's line, not from p: a Swift array's elements start 32 bytes into
// a 16-byte aligned block, so a group's span of whole lines counted from p
// (48 bytes past a line for large arrays) ended one line short, and the
// group's last line came from memory on demand, one miss per group. C
// harness, input 48 bytes past a line, 6-8 alternating rounds: forward f32
// 100000 x 8^2 (output 1968 bytes into a page, as bench-gpu's calls get it)
// 5.62 -> 4.73 ms on one thread, 2.80 -> 2.49 ms on two; f64 (output 48
// bytes into a page) 6.00 -> 5.25 ms on two.
static inline __attribute__((always_inline)) uintptr_t FN(part_lines)(const T *p, int64_t count, int part, int parts,
                                                                      int64_t *q0, int64_t *q1) {
    const uintptr_t first = (uintptr_t)p & ~(uintptr_t)63, end = (uintptr_t)(p + count);
    const int64_t lines = (int64_t)((end - first + 63) / 64), per = (lines + parts - 1) / parts;
    *q0 = part * per;
    *q1 = (part + 1) * per < lines ? (part + 1) * per : lines;
    return first;
}
// Prefetches that share of the lines at `p` into the outer caches
// (prefetcht2), so that a group's input is on its way while the group
// before it is being computed; FN(prefetch_part_w) for lines about to be
// written (prefetchw; two functions, as __builtin_prefetch takes its
// read/write argument as a constant). A prefetch never faults, so the line
// holding p[0] may start before the array.
static inline __attribute__((always_inline)) void FN(prefetch_part)(const T *p, int64_t count, int part, int parts) {
    int64_t q0, q1;
    const char *first = (const char *)FN(part_lines)(p, count, part, parts, &q0, &q1);
    for (int64_t q = q0; q < q1; ++q) __builtin_prefetch(first + q * 64, 0, 1);
}
static inline __attribute__((always_inline)) void FN(prefetch_part_w)(T *p, int64_t count, int part, int parts) {
    int64_t q0, q1;
    char *first = (char *)FN(part_lines)(p, count, part, parts, &q0, &q1);
    for (int64_t q = q0; q < q1; ++q) __builtin_prefetch(first + q * 64, 1, 1);
}
// The number of matrices in the `span` (W, or W per group factored in step)
// after the one at g0, which the span at g0 prefetches: n from lo to hi only
// (BLK_PREFETCH_* in batchkernels.c: above, a group's own work is long
// enough for the hardware prefetcher; below, too short for one group's lead
// to help).
static inline __attribute__((always_inline)) int64_t FN(next_group)(int64_t count, int64_t g0, int n, int span, int lo,
                                                                     int hi) {
    if (n < lo || n > hi || count - g0 <= span) return 0;
    return count - g0 - span < span ? count - g0 - span : span;
}

// In-register transpose of a W x W block (r[i][k] becomes r[k][i]): log2(W)
// stages, each interleaving blocks of b lanes of rows i and i + b. Each
// stage's loop is unrolled by request: SwiftPM compiles C at -O2, whose
// unrolling threshold left some stages rolled, `r` in memory and every
// kernel that transposes slower than at -O3 (one thread, in cache, -O2 ->
// -O2 with the request; -O3 gave the latter figures too): interleaved f32
// n = 8 0.245 -> 0.149 ms per 4 K matrices, n = 4 0.201 -> 0.120 ms per 16
// K; blocked f32 32 x 32 0.123 -> 0.107 ms per 64, 64 x 64 0.098 -> 0.085
// ms per 16, f64 64 x 32 0.168 -> 0.159 ms per 40).
static inline __attribute__((always_inline)) void FN(transpose)(V *r) {
#if W == 16 && defined(BLK_MASKED)
    // AVX-512, 16 x 16 floats: the same transpose in the instructions each
    // step maps to (32-bit and 64-bit unpacks within 128-bit lanes, then
    // 128-bit lane shuffles), where the lane-interleaving masks below made
    // clang emit two-source permutes and pairs of shuffles (microbenchmark,
    // one thread: 42.4 -> 19.5 ns a transpose with its loads and stores).
    __m512 t[16], u[16];
    for (int k = 0; k < 8; ++k) {
        t[2 * k] = _mm512_unpacklo_ps((__m512)r[2 * k], (__m512)r[2 * k + 1]);
        t[2 * k + 1] = _mm512_unpackhi_ps((__m512)r[2 * k], (__m512)r[2 * k + 1]);
    }
    // u[4m + c], lane j: column 4j + c of rows 4m .. 4m + 3.
    for (int m = 0; m < 4; ++m) {
        u[4 * m] = (__m512)_mm512_unpacklo_pd((__m512d)t[4 * m], (__m512d)t[4 * m + 2]);
        u[4 * m + 1] = (__m512)_mm512_unpackhi_pd((__m512d)t[4 * m], (__m512d)t[4 * m + 2]);
        u[4 * m + 2] = (__m512)_mm512_unpacklo_pd((__m512d)t[4 * m + 1], (__m512d)t[4 * m + 3]);
        u[4 * m + 3] = (__m512)_mm512_unpackhi_pd((__m512d)t[4 * m + 1], (__m512d)t[4 * m + 3]);
    }
    // Row 4j + c: lane j of u[c], u[4 + c], u[8 + c], u[12 + c].
    for (int c = 0; c < 4; ++c) {
        const __m512 v = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x44), v2 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xEE);
        const __m512 w = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x44),
                     w2 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xEE);
        r[c] = (V)_mm512_shuffle_f32x4(v, w, 0x88);
        r[c + 4] = (V)_mm512_shuffle_f32x4(v, w, 0xDD);
        r[c + 8] = (V)_mm512_shuffle_f32x4(v2, w2, 0x88);
        r[c + 12] = (V)_mm512_shuffle_f32x4(v2, w2, 0xDD);
    }
#else
// Stage b: rows i and i + b (i without bit b) exchange blocks of b lanes;
// LO and HI are the shuffle masks of the two results, in parentheses.
#define BLK_UNPAREN(...) __VA_ARGS__
#define BLK_STAGE(b, LO, HI)                                        \
    _Pragma("clang loop unroll(full)")                              \
    for (int i = 0; i < W; ++i) {                                   \
        if (i & (b)) continue;                                      \
        V x = r[i], y = r[i + (b)];                                 \
        r[i] = __builtin_shufflevector(x, y, BLK_UNPAREN LO);       \
        r[i + (b)] = __builtin_shufflevector(x, y, BLK_UNPAREN HI); \
    }
#if W == 8
    BLK_STAGE(1, (0, 8, 2, 10, 4, 12, 6, 14), (1, 9, 3, 11, 5, 13, 7, 15))
    BLK_STAGE(2, (0, 1, 8, 9, 4, 5, 12, 13), (2, 3, 10, 11, 6, 7, 14, 15))
    BLK_STAGE(4, (0, 1, 2, 3, 8, 9, 10, 11), (4, 5, 6, 7, 12, 13, 14, 15))
#elif W == 16
    BLK_STAGE(1, (0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30),
              (1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31))
    BLK_STAGE(2, (0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29),
              (2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31))
    BLK_STAGE(4, (0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27),
              (4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31))
    BLK_STAGE(8, (0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23),
              (8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31))
#else
#error "W must be 8 or 16"
#endif
#undef BLK_STAGE
#undef BLK_UNPAREN
#endif
}

// Elements per lane in a stage: nn, unless more than four lanes would then
// start in the same cache set (lanes 4 KiB apart, as for n = 32 in f32, all
// compete for one set); then nn rounded up to an odd number of 64-byte
// lines, which puts the lanes' lines at the same offset into different sets.
static inline __attribute__((always_inline)) int FN(lanes)(int nn) {
    const size_t b = sizeof(T) * (size_t)nn;
    int same = 0;
    for (int l = 1; l < W; ++l) same += (l * b) % 4096 == 0;
    if (same < 4) return nn;
    return (int)(((b + 63) / 64) | 1) * W;
}

// Whether a group of matrices of nn elements is transposed straight from
// the input and into the output, without the copy through `stage`
// (BLK_DIRECT_MAX_BYTES).
static inline __attribute__((always_inline)) int FN(direct)(int nn) {
    return nn * (int)sizeof(T) <= BLK_DIRECT_MAX_BYTES;
}
// Gathers matrices g0 .. g0 + W - 1 (lanes past `valid` repeat the last
// one) into the interleaved buf, transposed W elements at a time, the rest
// one by one. The group's matrices are contiguous; up to
// BLK_DIRECT_MAX_BYTES each they are read where they are, larger ones are
// first copied in one sequential pass into `stage` (lanes ls apart, ls =
// FN(lanes)(nn), so that the hardware prefetcher sees a plain stream).
static inline __attribute__((always_inline)) void FN(load)(V *buf, T *stage, int ls, const T *src, int64_t g0,
                                                           int valid, int nn) {
    const T *s[W];
    if (FN(direct)(nn)) {
        for (int l = 0; l < W; ++l) s[l] = src + (g0 + (l < valid ? l : valid - 1)) * (int64_t)nn;
    } else {
        FN(put_lanes)(stage, ls, src + g0 * (int64_t)nn, nn, valid, nn, 0);
        for (int l = 0; l < W; ++l) s[l] = stage + (l < valid ? l : valid - 1) * (int64_t)ls;
    }
    int e0 = 0;
    for (; e0 + W <= nn; e0 += W) {
        V r[W];
        for (int l = 0; l < W; ++l) r[l] = FN(ldu)(s[l] + e0);
        FN(transpose)(r);
        for (int k = 0; k < W; ++k) buf[e0 + k] = r[k];
    }
    T *b = (T *)buf;
    for (int l = 0; l < W; ++l)
        for (int e = e0; e < nn; ++e) b[e * W + l] = s[l][e];
}

// De-interleaves lanes 0 .. valid - 1 of buf into `stage` (lanes ls apart).
// The stores go over all W lanes with a test, not up to `valid`, so that every
// index into `r` is a constant and `r` stays in registers (with a variable
// bound, clang kept `r` in memory and filled it by a call to memcpy: C harness
// built at -O3, one thread, in cache, f32 n = 4 0.189 -> 0.139 ms per 16 K
// matrices, n = 8 0.198 -> 0.150 ms per 4 K).
static inline __attribute__((always_inline)) void FN(unstage)(const V *buf, T *stage, int ls, int valid, int nn) {
    int e0 = 0;
    for (; e0 + W <= nn; e0 += W) {
        V r[W];
        for (int k = 0; k < W; ++k) r[k] = buf[e0 + k];
        FN(transpose)(r);
        for (int l = 0; l < W; ++l)
            if (l < valid) FN(stu)(stage + l * (int64_t)ls + e0, r[l]);
    }
    const T *b = (const T *)buf;
    for (int l = 0; l < valid; ++l)
        for (int e = e0; e < nn; ++e) stage[l * (int64_t)ls + e] = b[e * W + l];
}

// Row j (`rj`) takes, in columns [c0, n), each lane's value from that
// lane's pivot row (rows crow[t] in the lanes cmask[t], t < nc; the masks
// are disjoint), four columns at a time in registers. With `old`, row j's
// previous values are kept there (the pivot rows take them later);
// without, the pivot rows take them here: one store per pivot row and
// column, where a two-way exchange per pivot row stores two (one thread,
// 256 K elements in cache, per call: f32 n = 16 0.319 -> 0.295 ms, n = 28
// 0.420 -> 0.378 ms; f64 n = 12 0.401 -> 0.372 ms; n <= 8 unchanged).
static inline __attribute__((always_inline)) void FN(take_pivot_rows)(V *buf, int n, V *rj, int c0,
                                                                      const int *crow, const VI *cmask, int nc,
                                                                      V *old) {
    int c = c0;
    for (; c + 4 <= n; c += 4) {
        const V o0 = rj[c], o1 = rj[c + 1], o2 = rj[c + 2], o3 = rj[c + 3];
        V a0 = o0, a1 = o1, a2 = o2, a3 = o3;
        if (old) old[c] = o0, old[c + 1] = o1, old[c + 2] = o2, old[c + 3] = o3;
        for (int t = 0; t < nc; ++t) {
            V *s = buf + crow[t] * n + c;
            const VI m = cmask[t];
            const V s0 = s[0], s1 = s[1], s2 = s[2], s3 = s[3];
            a0 = FN(sel)(m, s0, a0); a1 = FN(sel)(m, s1, a1);
            a2 = FN(sel)(m, s2, a2); a3 = FN(sel)(m, s3, a3);
            if (!old) {
                s[0] = FN(sel)(m, o0, s0); s[1] = FN(sel)(m, o1, s1);
                s[2] = FN(sel)(m, o2, s2); s[3] = FN(sel)(m, o3, s3);
            }
        }
        rj[c] = a0; rj[c + 1] = a1; rj[c + 2] = a2; rj[c + 3] = a3;
    }
    for (; c < n; ++c) {
        const V o = rj[c];
        V a = o;
        if (old) old[c] = o;
        for (int t = 0; t < nc; ++t) {
            V *s = buf + crow[t] * n + c;
            const V x = *s;
            a = FN(sel)(cmask[t], x, a);
            if (!old) *s = FN(sel)(cmask[t], o, x);
        }
        rj[c] = a;
    }
}

// Column j of one interleaved group (`buf`, n x n vectors): pivot search,
// interchange, multipliers and rank-1 update; the pivot rows go to pv[j],
// the first zero pivot's column to *inf. `old`: n vectors of scratch for
// `defer` (see FN(getrf_n)).
static inline __attribute__((always_inline)) void FN(getrf_col)(V *buf, V *pv, V *old, V *inf, const int n, int j,
                                                                int pivot, int defer) {
    int crow[W];  // rows that some lane takes as its pivot row, and those lanes
    VI cmask[W];
    V idx = FN(splat)((T)j);
    V *const rj = buf + j * n;
    int nc = 0;
    if (pivot) {
        V best = FN(vabs)(rj[j]);
        for (int i = j + 1; i < n; ++i) {
            V v = FN(vabs)(buf[i * n + j]);
            VI m = (VI)(v > best);
            best = FN(sel)(m, v, best);
            idx = FN(sel)(m, FN(splat)((T)i), idx);
        }
        // Interchange rows j and idx, lane by lane. Without `defer`: whole
        // rows, here. With it: in columns j ... n - 1, row j gathers its
        // lanes from the pivot rows here, and a pivot row takes the old row
        // j (kept in `old`) in the update below, which reads and writes it
        // anyway; columns 0 ... j - 1 after the factorization.
        if (FN(any)((VI)(idx != FN(splat)((T)j)))) {
            for (int r = j + 1; r < n; ++r) {
                VI m = (VI)(idx == FN(splat)((T)r));
                if (!FN(any)(m)) continue;
                crow[nc] = r;
                cmask[nc++] = m;
            }
            if (nc) FN(take_pivot_rows)(buf, n, rj, defer ? j : 0, crow, cmask, nc, defer ? old : NULL);
            if (!defer) nc = 0;  // nothing left for the update
        }
    }
    pv[j] = idx;
    const V piv = rj[j];
    const VI nz = (VI)(piv != FN(splat)(0));
    *inf = FN(sel)(~nz & (VI)(*inf == FN(splat)(0)), FN(splat)((T)(j + 1)), *inf);
    const VI small = nz & (VI)(FN(vabs)(piv) < FN(splat)(TMIN));
    const int any_small = FN(any)(small);
    const V r = FN(splat)(1) / FN(sel)(nz, piv, FN(splat)(1));
    // Multipliers, then the rank-1 update; a zero multiplier leaves its row
    // as it is (as the scalar kernels do, so 0 * Inf makes no NaN). A pivot
    // row first takes the old row j in its lanes.
    for (int i = j + 1; i < n; ++i) {
        V *ri = buf + i * n;
        VI sw = (VI)FN(splat)(0);
        if (nc) sw = (VI)(idx == FN(splat)((T)i));
        const int swapped = nc && FN(any)(sw);
        V x = swapped ? FN(sel)(sw, old[j], ri[j]) : ri[j], y = x * r;
        if (any_small) y = FN(sel)(small, x / piv, y);
        const V l = FN(sel)(nz, y, x);
        ri[j] = l;
        const VI lz = (VI)(l == FN(splat)(0));
        if (swapped) {
            for (int c = j + 1; c < n; ++c) {
                const V a = FN(sel)(sw, old[c], ri[c]);
                ri[c] = FN(sel)(lz, a, a - l * rj[c]);
            }
        } else if (FN(any)(lz)) {
            for (int c = j + 1; c < n; ++c) ri[c] = FN(sel)(lz, ri[c], ri[c] - l * rj[c]);
        } else {
            for (int c = j + 1; c < n; ++c) ri[c] = ri[c] - l * rj[c];
        }
    }
}

// One factored group (lanes 0 ... valid - 1 of `buf`, matrices g0 ...) to
// `out`, `ipiv` and `info`: de-interleaved (straight into `out`, or through
// `stage` when the matrices are large or the output streamed) and, with
// `defer`, the rows' parts left of each pivot interchanged (in LAPACK's
// order: column j's interchange applies to columns 0 ... j - 1 of the rows
// as they are after the earlier ones).
static inline __attribute__((always_inline)) void FN(getrf_put)(const V *buf, const V *pv, V inf, T *out,
                                                                int32_t *ipiv, int32_t *info, int64_t g0, int valid,
                                                                const int n, int defer, int stream, T *stage, int ls) {
    const int nn = n * n;
    const int direct = FN(direct)(nn) && !stream;
    T *const st = direct ? out + g0 * (int64_t)nn : stage;
    const int lst = direct ? nn : ls;
    FN(unstage)(buf, st, lst, valid, nn);
    const T *p = (const T *)pv, *fi = (const T *)&inf;
    for (int l = 0; l < valid && defer; ++l) {
        T *a = st + l * (int64_t)lst;
        for (int j = 1; j < n; ++j) {
            const int q = (int)p[j * W + l];
            if (q == j) continue;
            T *restrict x = a + j * n, *restrict y = a + q * n;
            for (int e = 0; e < j; ++e) {
                const T t = x[e];
                x[e] = y[e];
                y[e] = t;
            }
        }
    }
    if (!direct) FN(put_lanes)(out + g0 * (int64_t)nn, nn, stage, ls, valid, nn, stream);
    for (int l = 0; l < valid; ++l) {
        int32_t *ip = ipiv + (g0 + l) * (int64_t)n;
        for (int j = 0; j < n; ++j) ip[j] = (int32_t)p[j * W + l] + 1;
        info[g0 + l] = (int32_t)fi[l];
    }
}

static inline __attribute__((always_inline)) int FN(getrf_n)(const T *in, T *out, int32_t *ipiv, int32_t *info,
                                                             int64_t count, const int n, int32_t pivot,
                                                             int32_t stream) {
    const int nn = n * n;
    const int ls = FN(lanes)(nn);
    // Groups factored in step (BLK_PAIR_MAX_N), column by column, so that
    // one's chain of dependent steps overlaps the other's.
    const int G = n <= BLK_PAIR_MAX_N ? 2 : 1;
    // Per group: the group, its pivot rows (as T) and one row (`old`); then
    // a stage (W lanes ls apart: ls vectors).
    V *buf = aligned_alloc(64, sizeof(V) * (size_t)(G * (nn + 2 * n) + ls));
    if (!buf) return -1;
    V *bufs[2], *pvs[2], *olds[2];
    for (int g = 0; g < G; ++g) {
        bufs[g] = buf + g * (nn + 2 * n);
        pvs[g] = bufs[g] + nn;
        olds[g] = pvs[g] + n;
    }
    T *stage = (T *)(buf + G * (nn + 2 * n));
    // From n = 32 on, interchanges move only the columns from the pivot on
    // during the factorization (see FN(getrf_col)) and the columns left of
    // it after it, row by row in the de-interleaved matrices. Below n = 32
    // whole rows are exchanged lane by lane at once, which measured as fast
    // or faster (one thread, f32, ns per matrix: 256 matrices in cache, n =
    // 8 60 vs 67, n = 32 1930 vs 1530; 20000 of n = 16 from memory 420 vs
    // 510; measured before FN(take_pivot_rows), which made whole rows
    // cheaper).
    const int defer = n >= 32;
    for (int64_t g0 = 0; g0 < count; g0 += G * W) {
        int valid[2], groups = 0;  // matrices in each group, groups with any
        for (; groups < G && g0 + groups * W < count; ++groups) {
            const int64_t left = count - g0 - groups * W;
            valid[groups] = left < W ? (int)left : W;
            FN(load)(bufs[groups], stage, ls, in, g0 + groups * W, valid[groups], nn);
        }
        const int64_t next = FN(next_group)(count, g0, n, G * W, BLK_PREFETCH_MIN_N, BLK_PREFETCH_MAX_N);
        V inf[2] = {FN(splat)(0), FN(splat)(0)};
        for (int j = 0; j < n; ++j) {
            if (next) FN(prefetch_part)(in + (g0 + G * W) * (int64_t)nn, next * nn, j, n);
            if (next && !stream) FN(prefetch_part_w)(out + (g0 + G * W) * (int64_t)nn, next * nn, j, n);
            FN(getrf_col)(bufs[0], pvs[0], olds[0], &inf[0], n, j, pivot, defer);
            if (groups == 2) FN(getrf_col)(bufs[1], pvs[1], olds[1], &inf[1], n, j, pivot, defer);
        }
        for (int g = 0; g < groups; ++g)
            FN(getrf_put)(bufs[g], pvs[g], inf[g], out, ipiv, info, g0 + g * W, valid[g], n, defer, stream, stage, ls);
    }
    if (stream) FN(fence)();
    free(buf);
    return 0;
}

// The n of BLK_SPECIALISED_N (the benchmark's grid and those below 8) get code
// of their own, compiled for that n: loops unrolled, offsets constant (C
// harness built at -O3, one thread, in cache, min of 15, with the stage's copy
// still in place: f32 n = 4 0.258 -> 0.203 ms per 16 K matrices, n = 8 0.247
// -> 0.228 ms per 4 K; f64 n = 4 0.358 -> 0.310 ms, n = 8 0.351 -> 0.302 ms; n
// = 16 0.306 -> 0.285 ms f32, 0.505 -> 0.414 ms f64 per 1 K).
static int FN(getrf)(const T *in, T *out, int32_t *ipiv, int32_t *info, int64_t count, int32_t n, int32_t pivot,
                     int32_t stream) {
    switch (n) {
#define BLK_CASE(k) \
    case k: return FN(getrf_n)(in, out, ipiv, info, count, k, pivot, stream);
        BLK_SPECIALISED_N(BLK_CASE)
#undef BLK_CASE
    default: return FN(getrf_n)(in, out, ipiv, info, count, n, pivot, stream);
    }
}

// perm[r]: the row of P A that row r of A (m rows) becomes, from k 1-based
// LAPACK interchanges (an entry outside 1 ... m is no interchange).
static inline __attribute__((always_inline)) void FN(permutation)(const int32_t *ipiv, int m, int k, int *perm) {
    for (int r = 0; r < m; ++r) perm[r] = r;
    for (int r = 0; r < k; ++r) {
        int p = ipiv[r] - 1, t = perm[r];
        if (p < 0 || p >= m) p = r;
        perm[r] = perm[p];
        perm[p] = t;
    }
}

// The same for m = k = n <= 16 in one vector register (perm must have room
// for 16 entries): each interchange is a lane permutation, so the steps do
// not wait on each other's stores and loads as the scalar swaps do (C
// harness, one thread, in cache, 3 alternating rounds, the interleaved
// backward: f32 n = 4 0.065-0.067 -> 0.059-0.060 ms per 4096 matrices, n = 8
// 0.139-0.141 -> 0.125-0.126 ms per 2048, f64 n = 8 0.082-0.085 ->
// 0.079-0.084 ms per 1024, n = 16 unchanged; with no permutation at all the
// first two take 0.050 and 0.105-0.110 ms).
#if defined(BLK_MASKED)
static inline __attribute__((always_inline)) void FN(permutation16)(const int32_t *ipiv, int n, int *perm) {
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    __m512i v = iota;
    for (int r = 0; r < n; ++r) {
        int p = ipiv[r] - 1;
        if (p < 0 || p >= n) p = r;
        __m512i idx = _mm512_mask_mov_epi32(iota, (__mmask16)(1u << r), _mm512_set1_epi32(p));
        idx = _mm512_mask_mov_epi32(idx, (__mmask16)(1u << p), _mm512_set1_epi32(r));
        v = _mm512_permutexvar_epi32(idx, v);
    }
    _mm512_storeu_si512(perm, v);
}
#endif

static inline __attribute__((always_inline)) int FN(backward_n)(const T *lu, const int32_t *ipiv, const T *g,
                                                                T *out, int64_t count, const int n, int32_t stream) {
    const int nn = n * n;
    V *L = aligned_alloc(64, sizeof(V) * (size_t)(3 * nn + n));
    const int ls = FN(lanes)(nn);
    // W matrices de-interleaved (lanes ls apart), then permuted (nn apart)
    T *stage = aligned_alloc(64, sizeof(V) * (size_t)(ls + nn));
    if (!L || !stage) {
        free(L);
        free(stage);
        return -1;
    }
    V *G = L + nn, *X = G + nn, *rinv = X + nn;
    int perms[W][BLK_MAX_N];
    const V zero = FN(splat)(0);
    for (int64_t g0 = 0; g0 < count; g0 += W) {
        const int valid = count - g0 < W ? (int)(count - g0) : W;
        FN(load)(L, stage, ls, lu, g0, valid, nn);
        FN(load)(G, stage, ls, g, g0, valid, nn);
        // The next group's inputs are fetched during Φ, a share per row.
        const int64_t next = FN(next_group)(count, g0, n, W, BLK_PREFETCH_BWD_MIN_N, BLK_PREFETCH_BWD_MAX_N);
        // Φ: strictly lower part Lᵀ tril₋₁(Ḡ), upper part triu(Ḡ) Uᵀ. Four
        // outputs at a time, so that four independent FMA chains run.
        for (int i = 0; i < n; ++i) {
            V *x = X + i * n;
            int j = 0;
            if (next) {
                FN(prefetch_part)(lu + (g0 + W) * (int64_t)nn, next * nn, i, n);
                FN(prefetch_part)(g + (g0 + W) * (int64_t)nn, next * nn, i, n);
                if (!stream) FN(prefetch_part_w)(out + (g0 + W) * (int64_t)nn, next * nn, i, n);
            }
            for (; j + 4 <= i; j += 4) {
                V s0 = G[i * n + j], s1 = G[i * n + j + 1], s2 = G[i * n + j + 2], s3 = G[i * n + j + 3];
                for (int k = i + 1; k < n; ++k) {
                    const V l = L[k * n + i], *gk = G + k * n + j;
                    s0 += l * gk[0]; s1 += l * gk[1]; s2 += l * gk[2]; s3 += l * gk[3];
                }
                x[j] = s0; x[j + 1] = s1; x[j + 2] = s2; x[j + 3] = s3;
            }
            for (; j < i; ++j) {
                V s = G[i * n + j];
                for (int k = i + 1; k < n; ++k) s += L[k * n + i] * G[k * n + j];
                x[j] = s;
            }
            // j >= i: x[j] = sum over k >= j of G[i][k] U[j][k].
            const V *gi = G + i * n;
            for (; j + 4 <= n; j += 4) {
                const V *u0 = L + j * n, *u1 = u0 + n, *u2 = u1 + n, *u3 = u2 + n;
                V s0 = gi[j] * u0[j];
                s0 += gi[j + 1] * u0[j + 1];
                V s1 = gi[j + 1] * u1[j + 1];
                s0 += gi[j + 2] * u0[j + 2]; s1 += gi[j + 2] * u1[j + 2];
                V s2 = gi[j + 2] * u2[j + 2];
                V s3 = zero;
                for (int k = j + 3; k < n; ++k) {
                    const V gk = gi[k];
                    s0 += gk * u0[k]; s1 += gk * u1[k]; s2 += gk * u2[k]; s3 += gk * u3[k];
                }
                x[j] = s0; x[j + 1] = s1; x[j + 2] = s2; x[j + 3] = s3;
            }
            for (; j < n; ++j) {
                V s = zero;
                for (int k = j; k < n; ++k) s += gi[k] * L[j * n + k];
                x[j] = s;
            }
        }
        // Lᵀ Y = Φ (unit upper triangular Lᵀ): rows from the bottom, four
        // columns at a time, two rows (i and i - 1) at a time so that each
        // X[k] load serves both (row i - 1 takes row i's term last). In
        // cache, one thread, AVX-512, f32, with the same pairing in Z Uᵀ = Y
        // below: n = 16 360 -> 325 ns, n = 32 2.2 -> 1.9 µs per matrix.
        int ib = n - 2;
        for (; ib >= 1; ib -= 2) {
            const int i = ib;
            V *x = X + i * n, *w = x - n;
            const V lii = L[i * n + i - 1];
            int c = 0;
            for (; c + 4 <= n; c += 4) {
                V s0 = x[c], s1 = x[c + 1], s2 = x[c + 2], s3 = x[c + 3];
                V t0 = w[c], t1 = w[c + 1], t2 = w[c + 2], t3 = w[c + 3];
                for (int k = i + 1; k < n; ++k) {
                    const V l = L[k * n + i], m = L[k * n + i - 1], *xk = X + k * n + c;
                    const V y0 = xk[0], y1 = xk[1], y2 = xk[2], y3 = xk[3];
                    s0 -= l * y0; s1 -= l * y1; s2 -= l * y2; s3 -= l * y3;
                    t0 -= m * y0; t1 -= m * y1; t2 -= m * y2; t3 -= m * y3;
                }
                x[c] = s0; x[c + 1] = s1; x[c + 2] = s2; x[c + 3] = s3;
                w[c] = t0 - lii * s0; w[c + 1] = t1 - lii * s1; w[c + 2] = t2 - lii * s2; w[c + 3] = t3 - lii * s3;
            }
            for (; c < n; ++c) {
                V s = x[c], t = w[c];
                for (int k = i + 1; k < n; ++k) {
                    s -= L[k * n + i] * X[k * n + c];
                    t -= L[k * n + i - 1] * X[k * n + c];
                }
                x[c] = s;
                w[c] = t - lii * s;
            }
        }
        for (int i = ib; i >= 0; --i) {
            V *x = X + i * n;
            int c = 0;
            for (; c + 4 <= n; c += 4) {
                V s0 = x[c], s1 = x[c + 1], s2 = x[c + 2], s3 = x[c + 3];
                for (int k = i + 1; k < n; ++k) {
                    const V l = L[k * n + i], *xk = X + k * n + c;
                    s0 -= l * xk[0]; s1 -= l * xk[1]; s2 -= l * xk[2]; s3 -= l * xk[3];
                }
                x[c] = s0; x[c + 1] = s1; x[c + 2] = s2; x[c + 3] = s3;
            }
            for (; c < n; ++c) {
                V s = x[c];
                for (int k = i + 1; k < n; ++k) s -= L[k * n + i] * X[k * n + c];
                x[c] = s;
            }
        }
        // Z Uᵀ = Y, columns from the right:
        // Z[i][j] = (Y[i][j] - sum over k > j of Z[i][k] U[j][k]) / U[j][j],
        // four rows at a time.
        for (int j = 0; j < n; ++j) rinv[j] = FN(splat)(1) / L[j * n + j];
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            V *x0 = X + i * n, *x1 = x0 + n, *x2 = x1 + n, *x3 = x2 + n;
            int jb = n - 1;
            // Two columns at a time (j and j - 1): each x[k] load serves both
            // (column j - 1 takes column j's term last).
            for (; jb >= 1; jb -= 2) {
                const int j = jb;
                const V *u = L + j * n, *v = u - n;
                V s0 = x0[j], s1 = x1[j], s2 = x2[j], s3 = x3[j];
                V t0 = x0[j - 1], t1 = x1[j - 1], t2 = x2[j - 1], t3 = x3[j - 1];
                for (int k = j + 1; k < n; ++k) {
                    const V uk = u[k], vk = v[k], a0 = x0[k], a1 = x1[k], a2 = x2[k], a3 = x3[k];
                    s0 -= a0 * uk; s1 -= a1 * uk; s2 -= a2 * uk; s3 -= a3 * uk;
                    t0 -= a0 * vk; t1 -= a1 * vk; t2 -= a2 * vk; t3 -= a3 * vk;
                }
                const V rj = rinv[j], vj = v[j], rj1 = rinv[j - 1];
                s0 *= rj; s1 *= rj; s2 *= rj; s3 *= rj;
                x0[j] = s0; x1[j] = s1; x2[j] = s2; x3[j] = s3;
                x0[j - 1] = (t0 - s0 * vj) * rj1; x1[j - 1] = (t1 - s1 * vj) * rj1;
                x2[j - 1] = (t2 - s2 * vj) * rj1; x3[j - 1] = (t3 - s3 * vj) * rj1;
            }
            for (int j = jb; j >= 0; --j) {
                const V *u = L + j * n;
                V s0 = x0[j], s1 = x1[j], s2 = x2[j], s3 = x3[j];
                for (int k = j + 1; k < n; ++k) {
                    const V uk = u[k];
                    s0 -= x0[k] * uk; s1 -= x1[k] * uk; s2 -= x2[k] * uk; s3 -= x3[k] * uk;
                }
                x0[j] = s0 * rinv[j]; x1[j] = s1 * rinv[j]; x2[j] = s2 * rinv[j]; x3[j] = s3 * rinv[j];
            }
        }
        for (; i < n; ++i) {
            V *x = X + i * n;
            for (int j = n - 1; j >= 0; --j) {
                V s = x[j];
                for (int k = j + 1; k < n; ++k) s -= x[k] * L[j * n + k];
                x[j] = s * rinv[j];
            }
        }
        // Ā = P Z: row i of Z is row perm[i] of Ā.
        // Streamed: permuted into the second half of `stage`, then copied out.
        T *const dst = stream ? stage + (int64_t)W * ls : out + g0 * (int64_t)nn;
#if defined(BLK_MASKED)
        if (n <= 16)
            for (int l = 0; l < valid; ++l) FN(permutation16)(ipiv + (g0 + l) * (int64_t)n, n, perms[l]);
        else
#endif
            for (int l = 0; l < valid; ++l) FN(permutation)(ipiv + (g0 + l) * (int64_t)n, n, n, perms[l]);
        if (n % W == 0) {
            // Each W x W block of the interleaved Z holds W elements of one
            // row of every lane: de-interleaved straight into their rows of Ā.
            for (int e0 = 0; e0 < nn; e0 += W) {
                V r[W];
                for (int k = 0; k < W; ++k) r[k] = X[e0 + k];
                FN(transpose)(r);
                const int row = e0 / n, c0 = e0 - row * n;
                for (int l = 0; l < W; ++l)  // constant indices into r (see FN(unstage))
                    if (l < valid) FN(stu)(dst + l * (int64_t)nn + perms[l][row] * n + c0, r[l]);
            }
        } else {
            FN(unstage)(X, stage, ls, valid, nn);
            for (int l = 0; l < valid; ++l) {
                T *d = dst + l * (int64_t)nn;
                const T *z = stage + l * (int64_t)ls;
                for (int r = 0; r < n; ++r) {
                    T *dr = d + perms[l][r] * n;
                    const T *zr = z + r * n;
                    for (int c = 0; c < n; ++c) dr[c] = zr[c];
                }
            }
        }
        if (stream) FN(put)(out + g0 * (int64_t)nn, dst, (int64_t)nn * valid, 1);
    }
    if (stream) FN(fence)();
    free(stage);
    free(L);
    return 0;
}

// As FN(getrf): code compiled for the grid's n and those below 8 (C harness
// built at -O3, one thread, in cache, min of 15: f32 n = 4 0.351 -> 0.212 ms
// per 16 K matrices, n = 8 0.265 -> 0.242 ms per 4 K, n = 16 0.275 -> 0.213 ms
// per 1 K; f64 n = 4 0.470 -> 0.280 ms, n = 8 0.350 -> 0.303 ms, n = 16
// unchanged).
static int FN(backward)(const T *lu, const int32_t *ipiv, const T *g, T *out, int64_t count, int32_t n,
                        int32_t stream) {
    switch (n) {
#define BLK_CASE(k) \
    case k: return FN(backward_n)(lu, ipiv, g, out, count, k, stream);
        BLK_SPECIALISED_N(BLK_CASE)
#undef BLK_CASE
    default: return FN(backward_n)(lu, ipiv, g, out, count, n, stream);
    }
}
