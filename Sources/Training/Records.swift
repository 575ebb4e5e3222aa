/// One evaluation of every worker's model on the test set, with the traffic so far.
public struct EvaluationRecord: Equatable, Sendable {
    public let epoch: Double
    public let round: Int
    /// Mean (weighted by the workers' sample counts) and lowest test accuracy of the workers' own
    /// models (not of an averaged model).
    public let meanAccuracy: Double
    public let minAccuracy: Double
    public let testLoss: Double
    /// Mean training loss of the steps since the previous evaluation.
    public let trainLoss: Double
    /// Bytes sent per worker so far (mean over workers), in MB (10^6 bytes).
    public let megabytesPerWorker: Double
    /// Simulated communication time so far: each round lasts as long as its slowest transfer.
    public let communicationSeconds: Double
    public let learningRate: Double

    public static let csvHeader = "epoch,round,mean_accuracy,min_accuracy,test_loss,train_loss,mb_per_worker,comm_seconds,lr"

    public var csvLine: String {
        let fields: [Double] = [epoch, Double(round), meanAccuracy, minAccuracy, testLoss, trainLoss, megabytesPerWorker,
                                communicationSeconds, learningRate]
        return fields.map(Self.format).joined(separator: ",")
    }

    /// Whole numbers without a fraction, the rest as Swift prints them (shortest round-trip form).
    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}

/// Where a run is, for a progress line.
public struct RoundProgress: Sendable {
    public let round: Int
    public let totalRounds: Int
    public let epoch: Double
    public let trainLoss: Double
    public let megabytesPerWorker: Double
    public let communicationSeconds: Double
}
