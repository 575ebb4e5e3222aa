/// One layer of a feed-forward network. Activations are per-sample contiguous (NCHW for images),
/// `batch` samples one after another; parameters and their gradients are slices of the
/// network's flat vectors, laid out as PyTorch's `state_dict` (weight then bias).
protocol Layer: AnyObject {
    /// Features per sample in and out (C·H·W for images).
    var inputSize: Int { get }
    var outputSize: Int { get }
    /// Parameter tensors in `state_dict` order, named relative to the layer ("weight", "bias").
    var parameterShapes: [(name: String, shape: [Int])] { get }

    func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, batch: Int, parameters w: UnsafePointer<Float>)

    /// Writes the parameter gradient to `dw` (overwriting) and, when `dx` is given, the input gradient.
    /// `x` and `y` are the forward pass's input and output.
    func backward(x: UnsafePointer<Float>, y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                  batch: Int, parameters w: UnsafePointer<Float>, gradient dw: UnsafeMutablePointer<Float>)
}

extension Layer {
    var parameterCount: Int { parameterShapes.reduce(0) { $0 + $1.shape.reduce(1, *) } }
}
