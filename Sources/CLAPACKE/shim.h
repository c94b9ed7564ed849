// LAPACKE, the C interface to LAPACK (getrf and friends); backed by
// OpenBLAS's LAPACK through Debian's alternatives. Complex values cross
// the boundary as {real, imag} structs, layout-compatible with
// swift-numerics' Complex.
#define LAPACK_COMPLEX_STRUCTURE 1
#include <lapacke.h>
