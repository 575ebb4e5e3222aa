/// y = x·Wᵀ + b, with W as [out, in] (PyTorch's `nn.Linear`).
final class Linear: Layer {
    let inputSize: Int
    let outputSize: Int
    var parameterShapes: [(name: String, shape: [Int])] { [("weight", [outputSize, inputSize]), ("bias", [outputSize])] }

    init(_ inputs: Int, _ outputs: Int) {
        inputSize = inputs
        outputSize = outputs
    }

    func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, batch: Int, parameters w: UnsafePointer<Float>) {
        let bias = w + inputSize * outputSize
        for row in 0..<batch { (y + row * outputSize).update(from: bias, count: outputSize) }
        BLAS.gemm(transposeB: true, m: batch, n: outputSize, k: inputSize,
                  a: x, lda: inputSize, b: w, ldb: inputSize, beta: 1, c: y, ldc: outputSize)
    }

    func backward(x: UnsafePointer<Float>, y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                  batch: Int, parameters w: UnsafePointer<Float>, gradient dw: UnsafeMutablePointer<Float>) {
        // dW = dyᵀ·x, db = Σ_rows dy, dx = dy·W.
        BLAS.gemm(transposeA: true, m: outputSize, n: inputSize, k: batch,
                  a: dy, lda: outputSize, b: x, ldb: inputSize, c: dw, ldc: inputSize)
        // db = dyᵀ·1: the column sums.
        precondition(batch <= 1 << 16, "BLAS.ones is shorter than the batch")
        BLAS.gemv(transpose: true, m: batch, n: outputSize, a: dy, lda: outputSize, x: BLAS.ones, y: dw + inputSize * outputSize)
        if let dx {
            BLAS.gemm(m: batch, n: inputSize, k: outputSize, a: dy, lda: outputSize, b: w, ldb: inputSize, c: dx, ldc: inputSize)
        }
    }
}
