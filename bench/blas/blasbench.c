/*
 * blasbench: single-precision GEMM throughput for the shapes used by the
 * training engine (MLP batch 50, FedAvg CNN batch 50), against any CBLAS
 * shared library loaded at run time with dlopen().
 *
 *   blasbench --lib /usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0 \
 *             --threads 1 [--coretype Haswell] [--min-time 0.2] [--reps 5]
 *             [--shapes REGEX-FREE-SUBSTRING] [--csv LABEL]
 *
 * All GEMMs are row-major cblas_sgemm, C = op(A) * op(B), alpha=1, beta=0.
 * For each shape: warm up, calibrate an iteration count so that one repeat
 * takes >= --min-time seconds, run --reps repeats, report the median (and
 * min/max) GFLOP/s = 2*M*N*K*iters / seconds / 1e9.  A sampled check against
 * a double-precision reference guards against a wrong transpose or kernel.
 *
 * --coretype X   setenv("OPENBLAS_CORETYPE", X) *before* dlopen(): shows
 *                whether an in-process setenv is honoured (it is, as long as
 *                the library is not already loaded in the process).
 * --threads N    N>0: set via openblas_set_num_threads / bli_thread_set_num_threads.
 *                N=0: do not touch, leave it to environment variables
 *                (OPENBLAS_NUM_THREADS, OMP_NUM_THREADS, BLIS_NUM_THREADS).
 *
 * Build: cc -O2 -o blasbench blasbench.c -ldl -lm
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { RowMajor = 101, NoTrans = 111, Trans = 112 };
typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int,
                         const float *, int, float, float *, int);

typedef struct {
  const char *name;
  int m, n, k;
  int ta, tb; /* 0 = NoTrans, 1 = Trans */
} shape_t;

/* op(A) is MxK, op(B) is KxN, C is MxN. */
static const shape_t SHAPES[] = {
    /* MLP 784-200-200-10, batch 50: Y = X W^T (W stored out x in) */
    {"mlp.fc1.fwd", 50, 200, 784, 0, 1},
    {"mlp.fc2.fwd", 50, 200, 200, 0, 1},
    {"mlp.fc3.fwd", 50, 10, 200, 0, 1},
    {"mlp.fc1.wgrad", 200, 784, 50, 1, 0},  /* dW = dY^T X */
    {"mlp.fc1.igrad", 50, 784, 200, 0, 0},  /* dX = dY W   */
    /* FedAvg CNN, batch 50, im2col */
    {"cnn.conv1.fwd.img", 32, 784, 25, 0, 0},       /* W[32x25] col[25x784] */
    {"cnn.conv1.fwd.batch", 32, 784 * 50, 25, 0, 0},
    {"cnn.conv2.fwd.img", 64, 196, 800, 0, 0},      /* W[64x800] col[800x196] */
    {"cnn.conv2.fwd.batch", 64, 196 * 50, 800, 0, 0},
    {"cnn.conv2.wgrad.batch", 64, 800, 196 * 50, 0, 1}, /* dY[64x9800] col^T */
    {"cnn.conv2.igrad.batch", 800, 196 * 50, 64, 1, 0}, /* W^T dY -> dcol */
    {"cnn.fc1.fwd", 50, 512, 3136, 0, 1},
    {"cnn.fc1.wgrad", 512, 3136, 50, 1, 0},
    {"cnn.fc1.igrad", 50, 3136, 512, 0, 0},
};
#define NSHAPES (int)(sizeof SHAPES / sizeof SHAPES[0])

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static float *alloc_rand(size_t n, uint32_t *seed) {
  float *p = aligned_alloc(64, ((n * sizeof(float) + 63) / 64) * 64);
  if (!p) { perror("alloc"); exit(1); }
  for (size_t i = 0; i < n; i++) {
    *seed = *seed * 1664525u + 1013904223u;
    p[i] = (float)((*seed >> 8) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
  }
  return p;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void usage(void) {
  fprintf(stderr, "usage: blasbench --lib PATH [--threads N] [--coretype NAME] "
                  "[--min-time S] [--reps R] [--shapes SUBSTR] [--csv LABEL]\n");
  exit(2);
}

int main(int argc, char **argv) {
  const char *lib = NULL, *coretype = NULL, *filter = NULL, *csv = NULL;
  int threads = 1, reps = 5;
  double min_time = 0.2;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (i + 1 >= argc) usage();
    if (!strcmp(a, "--lib")) lib = argv[++i];
    else if (!strcmp(a, "--threads")) threads = atoi(argv[++i]);
    else if (!strcmp(a, "--coretype")) coretype = argv[++i];
    else if (!strcmp(a, "--min-time")) min_time = atof(argv[++i]);
    else if (!strcmp(a, "--reps")) reps = atoi(argv[++i]);
    else if (!strcmp(a, "--shapes")) filter = argv[++i];
    else if (!strcmp(a, "--csv")) csv = argv[++i];
    else usage();
  }
  if (!lib || reps < 1) usage();

  if (coretype) setenv("OPENBLAS_CORETYPE", coretype, 1);
  void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
  if (!h) { fprintf(stderr, "dlopen: %s\n", dlerror()); return 1; }
  sgemm_fn sgemm = (sgemm_fn)dlsym(h, "cblas_sgemm");
  if (!sgemm) { fprintf(stderr, "no cblas_sgemm in %s\n", lib); return 1; }

  /* Optional library-specific hooks. */
  void (*ob_set)(int) = (void (*)(int))dlsym(h, "openblas_set_num_threads");
  int (*ob_get)(void) = (int (*)(void))dlsym(h, "openblas_get_num_threads");
  char *(*ob_core)(void) = (char *(*)(void))dlsym(h, "openblas_get_corename");
  char *(*ob_cfg)(void) = (char *(*)(void))dlsym(h, "openblas_get_config");
  int (*ob_par)(void) = (int (*)(void))dlsym(h, "openblas_get_parallel");
  void (*bl_set)(long) = (void (*)(long))dlsym(h, "bli_thread_set_num_threads");
  long (*bl_get)(void) = (long (*)(void))dlsym(h, "bli_thread_get_num_threads");
  int (*bl_arch)(void) = (int (*)(void))dlsym(h, "bli_arch_query_id");
  const char *(*bl_archs)(int) = (const char *(*)(int))dlsym(h, "bli_arch_string");
  const char *(*bl_ver)(void) = (const char *(*)(void))dlsym(h, "bli_info_get_version_str");
  long (*bl_omp)(void) = (long (*)(void))dlsym(h, "bli_info_get_enable_openmp");
  long (*bl_pth)(void) = (long (*)(void))dlsym(h, "bli_info_get_enable_pthreads");

  if (threads > 0) {
    if (ob_set) ob_set(threads);
    if (bl_set) bl_set(threads);
  }

  char info[256] = "";
  if (ob_core) {
    snprintf(info, sizeof info, "openblas core=%s parallel=%d threads=%d config=[%s]",
             ob_core(), ob_par ? ob_par() : -1, ob_get ? ob_get() : -1,
             ob_cfg ? ob_cfg() : "?");
  } else if (bl_arch && bl_archs) {
    snprintf(info, sizeof info, "blis %s arch=%s threading=%s threads=%ld",
             bl_ver ? bl_ver() : "?", bl_archs(bl_arch()), bl_omp && bl_omp() ? "openmp" : bl_pth && bl_pth() ? "pthreads" : "none",
             bl_get ? bl_get() : -1L);
  } else {
    snprintf(info, sizeof info, "generic cblas (no thread control)");
  }
  if (!csv) printf("# lib=%s requested_threads=%d coretype_env=%s\n# %s\n", lib, threads,
                   getenv("OPENBLAS_CORETYPE") ? getenv("OPENBLAS_CORETYPE") : "-", info);
  else fprintf(stderr, "# %s: %s\n", csv, info);

  if (!csv) printf("%-24s %5s %6s %6s %2s %9s %9s %9s %7s %8s\n", "shape", "M", "N", "K",
                   "op", "GF/s med", "min", "max", "iters", "relerr");
  uint32_t seed = 12345;
  for (int s = 0; s < NSHAPES; s++) {
    const shape_t *sh = &SHAPES[s];
    if (filter && !strstr(sh->name, filter)) continue;
    int M = sh->m, N = sh->n, K = sh->k;
    /* storage of A: NoTrans MxK (lda=K), Trans KxM (lda=M); same for B */
    int lda = sh->ta ? M : K, ldb = sh->tb ? K : N, ldc = N;
    float *A = alloc_rand((size_t)M * K, &seed);
    float *B = alloc_rand((size_t)K * N, &seed);
    float *C = alloc_rand((size_t)M * N, &seed);
    int ta = sh->ta ? Trans : NoTrans, tb = sh->tb ? Trans : NoTrans;
#define RUN() sgemm(RowMajor, ta, tb, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C, ldc)

    /* correctness: sample entries against a double reference */
    RUN();
    double maxrel = 0;
    for (int t = 0; t < 32; t++) {
      seed = seed * 1664525u + 1013904223u;
      int i = (int)(seed % (uint32_t)M);
      seed = seed * 1664525u + 1013904223u;
      int j = (int)(seed % (uint32_t)N);
      double ref = 0, mag = 0;
      for (int p = 0; p < K; p++) {
        double a = sh->ta ? A[(size_t)p * lda + i] : A[(size_t)i * lda + p];
        double b = sh->tb ? B[(size_t)j * ldb + p] : B[(size_t)p * ldb + j];
        ref += a * b;
        mag += fabs(a * b);
      }
      double rel = fabs(C[(size_t)i * ldc + j] - ref) / (mag > 0 ? mag : 1);
      if (rel > maxrel) maxrel = rel;
    }

    /* warm up + calibrate */
    long iters = 1;
    for (;;) {
      double t0 = now();
      for (long r = 0; r < iters; r++) RUN();
      double dt = now() - t0;
      if (dt >= min_time * 0.5) {
        iters = (long)ceil(iters * min_time / dt * 1.05);
        break;
      }
      iters *= (dt < min_time * 0.05) ? 10 : 2;
    }
    double *gf = malloc(sizeof(double) * reps);
    double flops = 2.0 * M * N * K * iters;
    for (int r = 0; r < reps; r++) {
      double t0 = now();
      for (long q = 0; q < iters; q++) RUN();
      gf[r] = flops / (now() - t0) / 1e9;
    }
    qsort(gf, reps, sizeof(double), cmp_d);
    double med = (reps & 1) ? gf[reps / 2] : 0.5 * (gf[reps / 2 - 1] + gf[reps / 2]);
    char op[3] = {sh->ta ? 'T' : 'N', sh->tb ? 'T' : 'N', 0};
    if (csv)
      printf("%s,%s,%d,%d,%d,%s,%.2f,%.2f,%.2f,%ld,%.1e\n", csv, sh->name, M, N, K, op, med,
             gf[0], gf[reps - 1], iters, maxrel);
    else
      printf("%-24s %5d %6d %6d %2s %9.2f %9.2f %9.2f %7ld %8.1e\n", sh->name, M, N, K, op,
             med, gf[0], gf[reps - 1], iters, maxrel);
    fflush(stdout);
    if (maxrel > 1e-4) fprintf(stderr, "WARNING: %s relerr %.2e\n", sh->name, maxrel);
    free(gf);
    free(A);
    free(B);
    free(C);
  }
  return 0;
}
