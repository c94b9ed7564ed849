#!/usr/bin/env python3
"""Writes the .npy fixtures of Tests/BatchLUTests/Fixtures (run from anywhere).

    python3 scripts/make_fixtures.py

Deterministic: a fixed seed, and every file is rewritten from scratch. Needs
numpy and scipy. Two groups of files:

1. ``npy_*.npy``: arrays written by NumPy itself (``np.save`` and
   ``np.lib.format.write_array``), read by NPYTests: one per dtype with
   special shapes and values, format versions 2.0 and 3.0, and files BatchLU
   must reject (Fortran order, big-endian, object, int64).

2. ``{f4,f8,c8,c16}_{case}_*.npy``: LU factorizations by SciPy's LAPACK
   wrappers (``?getrf``) in BatchLU's conventions, and NumPy's det, slogdet
   and solve, read by FixtureTests. For each dtype and each case:

   - ``_A``     the input batch
   - ``_lu``    packed L\\U, row-major, same dtype as A
   - ``_piv``   int32, 1-based LAPACK pivots (SciPy's are 0-based: +1), shape [..., min(m, n)]
   - ``_info``  int32, first j with U[j-1, j-1] == 0 (LAPACK's info), else 0, shape [...]

   Cases: ``square`` [3,5,5], ``tall`` [2,6,4], ``wide`` [2,4,6] and
   ``singular`` [2,5,5] (matrix 0 has an exactly zero column 2, so info = 3;
   matrix 1 is rank 4, built as P L U from small dyadic numbers with
   U[3,3] = 0, so that elimination is exact in every precision and every
   LAPACK/BLAS implementation and info = 4 exactly). For ``square`` and
   ``singular`` also ``_det``, ``_sign``, ``_logabsdet`` (numpy.linalg.det,
   slogdet), and for ``square`` ``_B`` [3,5,2] and ``_X`` = numpy.linalg.solve(A, B).

   The random matrices are redrawn (deterministically) until the comparison
   the Swift tests make is robust, checked here against an independent
   elimination in extended precision (np.longdouble):
   - at every elimination step the chosen pivot beats the runner-up by at
     least PIVOT_MARGIN relative (so rounding cannot change the pivots);
   - SciPy's pivots and info equal the extended-precision ones;
   - SciPy's packed LU is within LU_SLACK * n * eps * ||A||_F of the
     extended-precision one (the Swift tests allow 50 * n * eps);
   - square matrices have a 2-norm condition number <= MAX_COND (the Swift
     tests scale their det/slogdet/solve tolerances by it).
"""

from pathlib import Path

import numpy as np
import scipy.linalg.lapack as lapack

SEED = 20240917
PIVOT_MARGIN = 0.02
LU_SLACK = 5.0
MAX_COND = 30.0

OUT = Path(__file__).resolve().parent.parent / "Tests" / "BatchLUTests" / "Fixtures"

DTYPES = {
    "f4": (np.float32, lapack.sgetrf),
    "f8": (np.float64, lapack.dgetrf),
    "c8": (np.complex64, lapack.cgetrf),
    "c16": (np.complex128, lapack.zgetrf),
}

SHAPES = {"square": (3, 5, 5), "tall": (2, 6, 4), "wide": (2, 4, 6)}


def save(name, array):
    array = np.asarray(array, order="C")  # not ascontiguousarray: it turns shape () into (1,)
    np.save(OUT / f"{name}.npy", array, allow_pickle=False)


def pivot_magnitude(x):
    """What LAPACK's i?amax compares: |a| for real, |Re a| + |Im a| for complex."""
    return np.abs(x.real) + np.abs(x.imag) if np.iscomplexobj(x) else np.abs(x)


def reference_getrf(a):
    """Right-looking partial-pivoting LU in extended precision.

    Returns (packed lu, 0-based pivots, info, smallest relative pivot margin
    over the steps that had a choice).
    """
    ext = np.clongdouble if np.iscomplexobj(a) else np.longdouble
    lu = np.array(a, dtype=ext)
    m, n = lu.shape
    piv, info, margin = [], 0, np.inf
    for j in range(min(m, n)):
        mags = pivot_magnitude(lu[j:, j])
        p = int(np.argmax(mags))  # first maximum, as LAPACK
        best = mags[p]
        if len(mags) > 1 and best > 0:
            runner_up = np.max(np.delete(mags, p))
            margin = min(margin, float((best - runner_up) / best))
        piv.append(j + p)
        if p != 0:
            lu[[j, j + p], :] = lu[[j + p, j], :]
        if lu[j, j] != 0:
            lu[j + 1:, j] /= lu[j, j]
        elif info == 0:
            info = j + 1
        lu[j + 1:, j + 1:] -= np.outer(lu[j + 1:, j], lu[j, j + 1:])
    return lu, np.array(piv), info, margin


def scipy_getrf(getrf, a):
    """SciPy's LAPACK ?getrf on one matrix, in BatchLU's conventions."""
    lu, piv, info = getrf(a, overwrite_a=False)
    assert info >= 0, info
    return np.ascontiguousarray(lu, dtype=a.dtype), np.asarray(piv, dtype=np.int32) + 1, np.int32(info)


def robust(a, getrf, eps, square):
    """Whether the fixture comparison on `a` is insensitive to rounding."""
    ref_lu, ref_piv, ref_info, margin = reference_getrf(a)
    if margin < PIVOT_MARGIN:
        return False
    lu, piv, info = scipy_getrf(getrf, a)
    if not np.array_equal(piv, ref_piv + 1) or info != ref_info:
        return False
    n = max(a.shape)
    err = np.linalg.norm((lu.astype(ref_lu.dtype) - ref_lu).astype(np.complex128).ravel())
    if err > LU_SLACK * n * eps * np.linalg.norm(a.astype(np.complex128).ravel()):
        return False
    if square and np.linalg.cond(a.astype(np.complex128)) > MAX_COND:
        return False
    return True


def draw(rng, shape, dtype):
    x = rng.uniform(-1, 1, shape)
    if np.issubdtype(dtype, np.complexfloating):
        x = x + 1j * rng.uniform(-1, 1, shape)
    return x.astype(dtype)


def draw_robust(rng, m, n, dtype, getrf, eps, zero_column=None):
    for _ in range(10_000):
        a = draw(rng, (m, n), dtype)
        if zero_column is not None:
            a[:, zero_column] = 0
        if robust(a, getrf, eps, square=(m == n and zero_column is None)):
            return a
    raise RuntimeError("no robust matrix found")


def exact_rank_deficient(rng, dtype):
    """5x5, rank 4: P L U with |L| <= 1/2 below the unit diagonal and U's
    diagonal powers of two except U[3,3] = 0. Every entry is a small dyadic
    rational, so LAPACK's elimination (multipliers by the reciprocal of a
    power of two) is exact in single precision and picks P's pivots."""
    n = 5
    complex_ = np.issubdtype(dtype, np.complexfloating)

    def dyadic(shape, choices):
        v = rng.choice(choices, shape)
        if complex_:
            v = v + 1j * rng.choice(choices, shape)
        return v

    L = np.tril(dyadic((n, n), [-0.25, -0.125, 0.0, 0.125, 0.25]), -1) + np.eye(n)
    U = np.triu(dyadic((n, n), [-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]), 1)
    np.fill_diagonal(U, [2.0, -4.0, 1.0, 0.0, 2.0])
    perm = rng.permutation(n)
    P = np.eye(n)[:, perm]
    a = (P @ L @ U).astype(dtype)
    assert np.array_equal(a.astype(np.clongdouble), (P @ L @ U).astype(np.clongdouble)), "not exact"
    return a


def factor_batch(getrf, a):
    batch = a.shape[:-2]
    m, n = a.shape[-2:]
    lu = np.empty_like(a)
    piv = np.empty(batch + (min(m, n),), dtype=np.int32)
    info = np.empty(batch, dtype=np.int32)
    for idx in np.ndindex(*batch):
        lu[idx], piv[idx], info[idx] = scipy_getrf(getrf, a[idx])
    return lu, piv, info


def lu_fixtures(rng):
    for tag, (dtype, getrf) in DTYPES.items():
        eps = np.finfo(dtype).eps
        cases = {}
        for case, shape in SHAPES.items():
            cases[case] = np.stack([draw_robust(rng, shape[1], shape[2], dtype, getrf, eps)
                                    for _ in range(shape[0])])
        zero_col = draw_robust(rng, 5, 5, dtype, getrf, eps, zero_column=2)
        cases["singular"] = np.stack([zero_col, exact_rank_deficient(rng, dtype)])

        for case, a in cases.items():
            lu, piv, info = factor_batch(getrf, a)
            if case == "singular":
                assert info.tolist() == [3, 4], info
            else:
                assert not info.any(), info
            save(f"{tag}_{case}_A", a)
            save(f"{tag}_{case}_lu", lu)
            save(f"{tag}_{case}_piv", piv)
            save(f"{tag}_{case}_info", info)
            if case in ("square", "singular"):
                sign, logabsdet = np.linalg.slogdet(a)
                save(f"{tag}_{case}_det", np.linalg.det(a))
                save(f"{tag}_{case}_sign", sign)
                save(f"{tag}_{case}_logabsdet", logabsdet)
            if case == "square":
                b = draw(rng, (3, 5, 2), dtype)
                x = np.linalg.solve(a, b)
                assert x.dtype == dtype
                save(f"{tag}_{case}_B", b)
                save(f"{tag}_{case}_X", x)


def npy_fixtures():
    # Readable, with shapes and values the tests check element by element.
    save("npy_f4_scalar", np.array(1.5, dtype=np.float32))
    idx = np.indices((2, 3, 4))
    save("npy_f8_2x3x4", (100 * idx[0] + 10 * idx[1] + idx[2]).astype(np.float64))
    save("npy_c8_2x0x3", np.zeros((2, 0, 3), dtype=np.complex64))
    save("npy_c16_5", np.array([k + (k - 10) * 1j for k in range(5)], dtype=np.complex128))
    save("npy_i4_0", np.zeros((0,), dtype=np.int32))
    save("npy_i4_2x2", np.array([[-2147483648, -1], [0, 2147483647]], dtype=np.int32))
    save("npy_f8_special", np.array([np.nan, np.inf, -np.inf, -0.0, 5e-324, np.finfo(np.float64).max]))
    # Format versions 2.0 and 3.0.
    with open(OUT / "npy_v2_f4.npy", "wb") as f:
        np.lib.format.write_array(f, np.arange(6, dtype=np.float32).reshape(2, 3), version=(2, 0))
    with open(OUT / "npy_v3_i4.npy", "wb") as f:
        np.lib.format.write_array(f, np.arange(4, dtype=np.int32), version=(3, 0))
    # Rejected.
    np.save(OUT / "npy_err_fortran.npy", np.asfortranarray(np.arange(6.0).reshape(2, 3)))
    np.save(OUT / "npy_err_bigendian.npy", np.arange(3.0).astype(">f8"))
    np.save(OUT / "npy_err_object.npy", np.array([1, "a", None], dtype=object), allow_pickle=True)
    np.save(OUT / "npy_err_i8.npy", np.arange(3, dtype=np.int64))


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.npy"):
        old.unlink()
    rng = np.random.default_rng(SEED)
    npy_fixtures()
    lu_fixtures(rng)
    files = sorted(OUT.glob("*.npy"))
    total = sum(f.stat().st_size for f in files)
    print(f"wrote {len(files)} files, {total} bytes, to {OUT}")


if __name__ == "__main__":
    main()
