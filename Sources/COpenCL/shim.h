// OpenCL 1.2 API through the ICD loader (ocl-icd).
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
