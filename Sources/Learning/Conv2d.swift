/// A 2-D convolution with stride 1 and zero padding (PyTorch's `nn.Conv2d(..., padding=p)`),
/// weights OIHW. Each image is lowered to columns (im2col) and multiplied by the weights as
/// one GEMM, whose [out, H·W] result is already that image's NCHW output. Output size is
/// H + 2p − k + 1 (so padding up to k − 1).
final class Conv2d: Layer {
    let inChannels: Int, outChannels: Int, kernel: Int, padding: Int
    let height: Int, width: Int
    let outHeight: Int, outWidth: Int
    var inputSize: Int { inChannels * height * width }
    var outputSize: Int { outChannels * outHeight * outWidth }
    var parameterShapes: [(name: String, shape: [Int])] {
        [("weight", [outChannels, inChannels, kernel, kernel]), ("bias", [outChannels])]
    }
    /// Rows of the lowered matrix (C·k·k) and its columns (output pixels).
    private var patch: Int { inChannels * kernel * kernel }
    private var pixels: Int { outHeight * outWidth }
    /// One image's columns, reused for every image (and its gradient in the backward pass).
    private let columns: UnsafeMutablePointer<Float>
    /// One image with a zero border of `padding`, and the same for its gradient.
    private let padded: UnsafeMutablePointer<Float>
    private let paddedGradient: UnsafeMutablePointer<Float>

    init(inChannels: Int, outChannels: Int, kernel: Int, padding: Int, height: Int, width: Int) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.padding = padding
        self.height = height
        self.width = width
        outHeight = height + 2 * padding - kernel + 1
        outWidth = width + 2 * padding - kernel + 1
        precondition(outHeight > 0 && outWidth > 0, "kernel larger than the padded image")
        precondition(outHeight * outWidth <= 1 << 16, "BLAS.ones is shorter than an output plane")
        columns = .allocate(capacity: inChannels * kernel * kernel * outHeight * outWidth)
        let paddedCount = inChannels * (height + 2 * padding) * (width + 2 * padding)
        padded = .allocate(capacity: paddedCount)
        padded.initialize(repeating: 0, count: paddedCount)
        paddedGradient = .allocate(capacity: paddedCount)
        paddedGradient.initialize(repeating: 0, count: paddedCount)
    }

    deinit {
        columns.deallocate()
        padded.deallocate()
        paddedGradient.deallocate()
    }

    func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, batch: Int, parameters w: UnsafePointer<Float>) {
        let bias = w + outChannels * patch
        for image in 0..<batch {
            let out = y + image * outputSize
            for o in 0..<outChannels { (out + o * pixels).initialize(repeating: bias[o], count: pixels) }
            lower(x + image * inputSize)
            BLAS.gemm(m: outChannels, n: pixels, k: patch, a: w, lda: patch, b: columns, ldb: pixels, beta: 1, c: out, ldc: pixels)
        }
    }

    func backward(x: UnsafePointer<Float>, y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                  batch: Int, parameters w: UnsafePointer<Float>, gradient dw: UnsafeMutablePointer<Float>) {
        // One image at a time: its columns stay in L2 between lowering and the GEMMs. (Chunks of
        // 2 to 8 images per dW GEMM measured slower here, although such GEMMs alone are faster.)
        let db = dw + outChannels * patch
        for image in 0..<batch {
            let g = dy + image * outputSize
            // dW += dy·colsᵀ; db += dy·1 (a row sum per channel, by BLAS rather than a serial loop).
            lower(x + image * inputSize)
            BLAS.gemm(transposeB: true, m: outChannels, n: patch, k: pixels, a: g, lda: pixels, b: columns, ldb: pixels,
                      beta: image == 0 ? 0 : 1, c: dw, ldc: patch)
            BLAS.gemv(m: outChannels, n: pixels, a: g, lda: pixels, x: BLAS.ones, beta: image == 0 ? 0 : 1, y: db)
            // dx = col2im(Wᵀ·dy).
            if let dx {
                BLAS.gemm(transposeA: true, m: patch, n: pixels, k: outChannels, a: w, lda: patch, b: g, ldb: pixels,
                          c: columns, ldc: pixels)
                raise(into: dx + image * inputSize)
            }
        }
        if batch == 0 { dw.initialize(repeating: 0, count: outChannels * patch + outChannels) }
    }

    /// Lowers one image: row (c, ki, kj) of the columns holds, for every output pixel, the input
    /// pixel under kernel tap (ki, kj), 0 in the padding. The image is first copied into a
    /// zero-bordered plane so every run of an output row is one straight copy.
    private func lower(_ image: UnsafePointer<Float>) {
        let (paddedWidth, paddedHeight) = (width + 2 * padding, height + 2 * padding)
        for c in 0..<inChannels {
            for row in 0..<height {
                (padded + (c * paddedHeight + row + padding) * paddedWidth + padding).update(from: image + (c * height + row) * width,
                                                                                          count: width)
            }
        }
        for c in 0..<inChannels {
            for ki in 0..<kernel {
                for kj in 0..<kernel {
                    var destination = columns + ((c * kernel + ki) * kernel + kj) * pixels
                    var source = UnsafePointer(padded + (c * paddedHeight + ki) * paddedWidth + kj)
                    for _ in 0..<outHeight {
                        destination.update(from: source, count: outWidth)
                        destination += outWidth
                        source += paddedWidth
                    }
                }
            }
        }
    }

    /// The adjoint of `lower`: adds each column entry back onto the input pixel it came from.
    private func raise(into image: UnsafeMutablePointer<Float>) {
        let (paddedWidth, paddedHeight) = (width + 2 * padding, height + 2 * padding)
        paddedGradient.update(repeating: 0, count: inChannels * paddedHeight * paddedWidth)
        var source = UnsafePointer(columns)
        for c in 0..<inChannels {
            for ki in 0..<kernel {
                for kj in 0..<kernel {
                    var destination = paddedGradient + (c * paddedHeight + ki) * paddedWidth + kj
                    for _ in 0..<outHeight {
                        for i in 0..<outWidth { destination[i] += source[i] }
                        source += outWidth
                        destination += paddedWidth
                    }
                }
            }
        }
        for c in 0..<inChannels {
            for row in 0..<height {
                (image + (c * height + row) * width).update(from: paddedGradient + (c * paddedHeight + row + padding) * paddedWidth + padding,
                                                            count: width)
            }
        }
    }
}
