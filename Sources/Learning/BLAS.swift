import CBLAS

/// The one place the engine calls BLAS: row-major single-precision GEMM and the thread count.
/// Every matrix here is row-major and dense; `lda`, `ldb`, `ldc` are the row strides.
enum BLAS {
    /// C ← α·op(A)·op(B) + β·C, with op(A) M×K, op(B) K×N, C M×N.
    @inline(__always)
    static func gemm(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int,
                     alpha: Float = 1, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                     beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}

extension BLAS {
    /// y ← α·op(A)·x + β·y for a row-major M×N matrix A.
    @inline(__always)
    static func gemv(transpose: Bool = false, m: Int, n: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                     x: UnsafePointer<Float>, beta: Float = 0, y: UnsafeMutablePointer<Float>) {
        cblas_sgemv(CblasRowMajor, transpose ? CblasTrans : CblasNoTrans, Int32(m), Int32(n), alpha, a, Int32(lda), x, 1, beta, y, 1)
    }

    /// A vector of 2^16 ones, for sums as matrix-vector products (rows or columns of a matrix).
    // nonisolated(unsafe): written once here, only ever read afterwards (never freed).
    nonisolated(unsafe) static let ones: UnsafePointer<Float> = {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: 1 << 16)
        p.initialize(repeating: 1, count: 1 << 16)
        return UnsafePointer(p)
    }()
}

/// The number of threads BLAS may use for one GEMM (process-wide; the library's own pool).
public enum GEMMThreads {
    public static func set(_ count: Int) {
        openblas_set_num_threads(Int32(max(1, count)))
    }
}
