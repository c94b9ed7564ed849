// OpenBLAS's CBLAS interface and its thread / core-name controls.
#include <cblas.h>
