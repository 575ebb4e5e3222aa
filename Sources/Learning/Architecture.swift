/// The models the engine trains, each the same stack as a `torch.nn` module whose `state_dict`
/// our flat parameter vector mirrors (see Tests/interop/torch_models.py).
public enum Architecture: String, CaseIterable, Sendable, CustomStringConvertible {
    /// `fc`: 784 → 10.
    case logreg
    /// `fc1` 784 → 200, ReLU, `fc2` 200 → 200, ReLU, `fc3` 200 → 10.
    case mlp
    /// The FedAvg CNN (GossipFL's `mnistflnet` shape): `conv1` 5×5 32 pad 2, ReLU, max-pool 2,
    /// `conv2` 5×5 64 pad 2, ReLU, max-pool 2, `fc1` 3136 → 512, ReLU, `fc2` 512 → 10.
    case cnn

    public var description: String { rawValue }

    /// GossipFL's learning rate for the CNN (0.05, batch 50), also the MLP reference runs'; a linear
    /// model is noisier at that rate (one epoch ends between 76 and 80 % depending on the seed,
    /// against 82.5 % at 0.01).
    public var defaultLearningRate: Float { self == .logreg ? 0.01 : 0.05 }

    /// The layers for images of `channels × rows × columns` and `classes` labels; names are the
    /// `state_dict` prefixes of the layers that hold parameters.
    func layers(channels: Int, rows: Int, columns: Int, classes: Int, maxBatch: Int) -> [(name: String?, layer: any Layer)] {
        let features = channels * rows * columns
        switch self {
        case .logreg:
            return [("fc", Linear(features, classes))]
        case .mlp:
            return [("fc1", Linear(features, 200)), (nil, ReLU(size: 200)),
                    ("fc2", Linear(200, 200)), (nil, ReLU(size: 200)),
                    ("fc3", Linear(200, classes))]
        case .cnn:
            let conv1 = Conv2d(inChannels: channels, outChannels: 32, kernel: 5, padding: 2, height: rows, width: columns)
            // ReLU and max-pool run as one layer (the same function and gradient, one pass fewer).
            let pool1 = MaxPool2d(channels: 32, height: conv1.outHeight, width: conv1.outWidth, window: 2, rectify: true,
                                  maxBatch: maxBatch)
            let conv2 = Conv2d(inChannels: 32, outChannels: 64, kernel: 5, padding: 2, height: pool1.outHeight, width: pool1.outWidth)
            let pool2 = MaxPool2d(channels: 64, height: conv2.outHeight, width: conv2.outWidth, window: 2, rectify: true,
                                  maxBatch: maxBatch)
            return [("conv1", conv1), (nil, pool1),
                    ("conv2", conv2), (nil, pool2),
                    ("fc1", Linear(pool2.outputSize, 512)), (nil, ReLU(size: 512)),
                    ("fc2", Linear(512, classes))]
        }
    }
}
