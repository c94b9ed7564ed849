// CLBlast's C API (tuned OpenCL BLAS): BatchLU uses its strided-batched GEMM.
#define CL_TARGET_OPENCL_VERSION 120
#include <clblast_c.h>
