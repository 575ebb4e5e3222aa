import Foundation

/// Softmax cross-entropy on logits, averaged over the batch (PyTorch's `nn.CrossEntropyLoss()`):
/// one softmax, inside the loss (the original nets applied a second one in the model).
enum CrossEntropy {
    /// The mean loss; `gradient` (same shape as `logits`) receives d(mean loss)/d(logits).
    static func lossAndGradient(logits: UnsafePointer<Float>, labels: UnsafePointer<UInt8>, batch: Int, classes: Int,
                                gradient: UnsafeMutablePointer<Float>) -> Float {
        Float(lossSum(logits: logits, labels: labels, batch: batch, of: batch, classes: classes, gradient: gradient) / Double(batch))
    }

    /// The summed loss of `batch` samples that are part of a batch of `total`; `gradient` receives
    /// the derivative of the whole batch's mean loss with respect to these samples' logits.
    static func lossSum(logits: UnsafePointer<Float>, labels: UnsafePointer<UInt8>, batch: Int, of total: Int, classes: Int,
                        gradient: UnsafeMutablePointer<Float>) -> Double {
        var sum: Double = 0
        let scale = 1 / Float(total)
        for n in 0..<batch {
            let z = logits + n * classes, g = gradient + n * classes
            var peak = z[0]
            for c in 1..<classes where z[c] > peak { peak = z[c] }
            var exponentials: Float = 0
            for c in 0..<classes {
                let e = expf(z[c] - peak)
                g[c] = e
                exponentials += e
            }
            let label = Int(labels[n])
            sum += Double(logf(exponentials) + peak - z[label])
            let inverse = 1 / exponentials
            for c in 0..<classes { g[c] *= inverse * scale }
            g[label] -= scale
        }
        return sum
    }

    /// Index of the largest logit of each sample.
    static func predictions(logits: UnsafePointer<Float>, batch: Int, classes: Int) -> [Int] {
        (0..<batch).map { n in
            let z = logits + n * classes
            var best = 0
            for c in 1..<classes where z[c] > z[best] { best = c }
            return best
        }
    }
}
