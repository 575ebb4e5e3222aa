/// SGD with momentum and weight decay, exactly as `torch.optim.SGD(params, lr, momentum, weight_decay)`
/// (dampening 0, not Nesterov): d = g + λ·w; v ← μ·v + d; w ← w − η·v. Weight decay applies to
/// every parameter, biases included, as PyTorch does by default (our models have no batch norm).
public struct SGD: Sendable {
    public var learningRate: Float
    public var momentum: Float
    public var weightDecay: Float
    /// The momentum buffer, one entry per parameter.
    public var velocity: [Float]

    /// GossipFL's defaults for the CNN: lr 0.05, momentum 0.9, weight decay 1e-4.
    public init(parameterCount: Int, learningRate: Float = 0.05, momentum: Float = 0.9, weightDecay: Float = 1e-4) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        velocity = [Float](repeating: 0, count: parameterCount)
    }

    public mutating func step(parameters: inout [Float], gradient: [Float]) {
        precondition(parameters.count == velocity.count && gradient.count == velocity.count)
        let (lr, mu, lambda) = (learningRate, momentum, weightDecay)
        velocity.withUnsafeMutableBufferPointer { v in
            parameters.withUnsafeMutableBufferPointer { w in
                gradient.withUnsafeBufferPointer { g in
                    for i in 0..<v.count {
                        let d = g[i] + lambda * w[i]
                        v[i] = mu * v[i] + d
                        w[i] -= lr * v[i]
                    }
                }
            }
        }
    }
}

extension Network {
    /// One SGD step on `batch` (`gradient` is scratch of `parameterCount`); returns the batch's loss
    /// before the update.
    public func trainStep(on batch: Batch, parameters: inout [Float], optimizer: inout SGD, gradient: inout [Float]) -> Float {
        let count = batch.count
        let loss = batch.inputs.withUnsafeBufferPointer { x in
            batch.labels.withUnsafeBufferPointer { y in
                lossAndGradient(parameters: parameters, inputs: x.baseAddress!, labels: y.baseAddress!, batch: count, gradient: &gradient)
            }
        }
        optimizer.step(parameters: &parameters, gradient: gradient)
        return loss
    }
}
