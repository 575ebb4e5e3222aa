/// max(0, x) elementwise; the gradient passes where the output is positive (as PyTorch, 0 at 0).
final class ReLU: Layer {
    let inputSize: Int
    var outputSize: Int { inputSize }
    var parameterShapes: [(name: String, shape: [Int])] { [] }

    init(size: Int) { inputSize = size }

    func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, batch: Int, parameters w: UnsafePointer<Float>) {
        for i in 0..<(batch * inputSize) { y[i] = max(x[i], 0) }
    }

    func backward(x: UnsafePointer<Float>, y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                  batch: Int, parameters w: UnsafePointer<Float>, gradient dw: UnsafeMutablePointer<Float>) {
        guard let dx else { return }
        for i in 0..<(batch * inputSize) { dx[i] = y[i] > 0 ? dy[i] : 0 }
    }
}
