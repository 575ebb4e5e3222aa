#pragma once
// Debian's OpenBLAS (libopenblas-dev): cblas.h plus openblas_set_num_threads.
#include <cblas.h>
