/*
 * linkcheck: compile/link-time check of a CBLAS (what a Swift systemLibrary
 * module would do: #include <cblas.h>, link -lNAME), and a demonstration that
 * OPENBLAS_CORETYPE set with setenv() inside main() is too late for a library
 * linked at build time (OpenBLAS picks its kernels in its ELF constructor).
 *
 *   OpenBLAS: cc linkcheck.c $(pkg-config --cflags --libs openblas) -DUSE_OPENBLAS
 *   BLIS:     cc linkcheck.c -I/usr/include/x86_64-linux-gnu/blis-openmp -lblis -lm
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef USE_OPENBLAS
/* declared in OpenBLAS's cblas.h; repeated for clarity */
char *openblas_get_corename(void);
#endif

int main(void) {
  float a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8}, c[4] = {0};
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 2, 2, 2, 1.0f, a, 2, b, 2, 0.0f, c, 2);
  int ok = c[0] == 19 && c[1] == 22 && c[2] == 43 && c[3] == 50;
  printf("sgemm %s: [%g %g; %g %g]\n", ok ? "ok" : "WRONG", c[0], c[1], c[2], c[3]);
#ifdef USE_OPENBLAS
  const char *env = getenv("OPENBLAS_CORETYPE");
  printf("OPENBLAS_CORETYPE at process start=%s -> core=%s\n", env ? env : "-",
         openblas_get_corename());
  setenv("OPENBLAS_CORETYPE", "Sandybridge", 1);
  printf("after setenv(OPENBLAS_CORETYPE=Sandybridge) in main -> core=%s (unchanged: too late)\n",
         openblas_get_corename());
#endif
  return ok ? 0 : 1;
}
