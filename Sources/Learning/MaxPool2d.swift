/// Max pooling with a square window and stride equal to it (PyTorch's `nn.MaxPool2d(k)`); the
/// first maximum in scan order wins, and the backward pass routes the gradient to it.
///
/// With `rectify`, it is `ReLU` followed by this pooling, in one pass: max-pooling commutes with
/// the monotone ReLU, and a window whose maximum is not positive gets output and gradient 0, as
/// the two layers would give it (ReLU's gradient at 0 is 0).
final class MaxPool2d: Layer {
    let channels: Int, height: Int, width: Int, window: Int
    let outHeight: Int, outWidth: Int
    let rectify: Bool
    var inputSize: Int { channels * height * width }
    var outputSize: Int { channels * outHeight * outWidth }
    var parameterShapes: [(name: String, shape: [Int])] { [] }
    /// Where each output's maximum came from (offset in the sample) in the last forward pass.
    private var winners: [Int32]

    init(channels: Int, height: Int, width: Int, window: Int, rectify: Bool = false, maxBatch: Int) {
        self.channels = channels
        self.height = height
        self.width = width
        self.window = window
        self.rectify = rectify
        outHeight = height / window
        outWidth = width / window
        winners = [Int32](repeating: 0, count: maxBatch * channels * outHeight * outWidth)
    }

    func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, batch: Int, parameters w: UnsafePointer<Float>) {
        let (window, width, outWidth) = (self.window, self.width, self.outWidth)
        if window == 2 { return forwardPairs(x, y, batch: batch) }
        winners.withUnsafeMutableBufferPointer { winners in
            var out = 0
            for n in 0..<batch {
                let sample = x + n * inputSize
                for plane in 0..<(channels * outHeight) {
                    // The input rows of this output row start at `top` (rows past a multiple of the window are left out).
                    let (c, oh) = plane.quotientAndRemainder(dividingBy: outHeight)
                    let top = (c * height + oh * window) * width
                    for ow in 0..<outWidth {
                        var best = top + ow * window
                        var value = sample[best]
                        for i in 0..<window {
                            let row = top + i * width + ow * window
                            for j in 0..<window where sample[row + j] > value || sample[row + j].isNaN {
                                value = sample[row + j]
                                best = row + j
                            }
                        }
                        emit(value, at: best, to: y, out, winners)
                        out += 1
                    }
                }
            }
        }
    }

    /// The 2 × 2 window of the CNN, unrolled.
    private func forwardPairs(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, batch: Int) {
        let (width, outWidth) = (self.width, self.outWidth)
        winners.withUnsafeMutableBufferPointer { winners in
            var out = 0
            for n in 0..<batch {
                let sample = x + n * inputSize
                for plane in 0..<(channels * outHeight) {
                    let (c, oh) = plane.quotientAndRemainder(dividingBy: outHeight)
                    let top = (c * height + oh * 2) * width
                    let upper = sample + top, lower = upper + width
                    for ow in 0..<outWidth {
                        let a = upper[2 * ow], b = upper[2 * ow + 1], c = lower[2 * ow], d = lower[2 * ow + 1]
                        // Selects, not branches: which element wins is data, and mispredicted
                        // branches cost more than the whole window. Ties keep the earlier element.
                        let top2 = b > a, bottom2 = d > c
                        let upperValue = top2 ? b : a, lowerValue = bottom2 ? d : c
                        let lowerWins = lowerValue > upperValue
                        var value = lowerWins ? lowerValue : upperValue
                        let column = 2 * ow + ((lowerWins ? bottom2 : top2) ? 1 : 0)
                        let best = top + (lowerWins ? width : 0) + column
                        // A NaN anywhere in the window comes out (comparisons alone would drop it).
                        if (a + b + c + d).isNaN { value = .nan }
                        let keep = !rectify || value > 0 || value.isNaN
                        y[out] = keep ? value : 0
                        winners[out] = keep ? Int32(truncatingIfNeeded: best) : -1
                        out += 1
                    }
                }
            }
        }
    }

    /// Under ReLU a maximum that is not positive gives 0, and -1 marks "no gradient".
    @inline(__always)
    private func emit(_ value: Float, at best: Int, to y: UnsafeMutablePointer<Float>, _ out: Int,
                      _ winners: UnsafeMutableBufferPointer<Int32>) {
        if !rectify || value > 0 || value.isNaN {
            y[out] = value
            winners[out] = Int32(best)
        } else {
            y[out] = 0
            winners[out] = -1
        }
    }

    func backward(x: UnsafePointer<Float>, y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                  batch: Int, parameters w: UnsafePointer<Float>, gradient dw: UnsafeMutablePointer<Float>) {
        guard let dx else { return }
        // One pass when the windows tile the plane: every input is written (0 or its gradient).
        if window == 2 && height % 2 == 0 && width % 2 == 0 { return backwardPairs(dy: dy, dx: dx, batch: batch) }
        dx.initialize(repeating: 0, count: batch * inputSize)
        winners.withUnsafeBufferPointer { winners in
            for n in 0..<batch {
                let base = n * outputSize, sample = dx + n * inputSize
                for o in 0..<outputSize where winners[base + o] >= 0 { sample[Int(winners[base + o])] += dy[base + o] }
            }
        }
    }

    private func backwardPairs(dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, batch: Int) {
        let (width, outWidth) = (self.width, self.outWidth)
        winners.withUnsafeBufferPointer { winners in
            var out = 0
            for n in 0..<batch {
                let sample = dx + n * inputSize
                for plane in 0..<(channels * outHeight) {
                    let (c, oh) = plane.quotientAndRemainder(dividingBy: outHeight)
                    let top = (c * height + oh * 2) * width
                    let upper = sample + top, lower = upper + width
                    for ow in 0..<outWidth {
                        let winner = Int(winners[out]) - top, g = dy[out]
                        upper[2 * ow] = winner == 2 * ow ? g : 0
                        upper[2 * ow + 1] = winner == 2 * ow + 1 ? g : 0
                        lower[2 * ow] = winner == width + 2 * ow ? g : 0
                        lower[2 * ow + 1] = winner == width + 2 * ow + 1 ? g : 0
                        out += 1
                    }
                }
            }
        }
    }
}
