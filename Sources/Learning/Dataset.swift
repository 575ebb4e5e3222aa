import Foundation

/// A labelled image set: pixels scaled to [0, 1] and normalised, one row per sample.
public struct Dataset: Sendable {
    public let count: Int
    public let rows: Int
    public let columns: Int
    /// `count × rows × columns`, normalised as `(pixel / 255 - mean) / std`.
    public let pixels: [Float]
    public let labels: [UInt8]
    public let classes: Int
    public let mean: Float
    public let std: Float

    public var featureCount: Int { rows * columns }

    /// Images and labels from two IDX files; `normalization` nil computes mean and std from these images.
    public init(images: IDXFile, labels: IDXFile, imagesPath: String, labelsPath: String,
                normalization: (mean: Float, std: Float)? = nil) throws(IDXError) {
        guard images.dimensions.count == 3 else {
            throw IDXError(path: imagesPath, reason: "images need 3 dimensions, found \(images.dimensions)")
        }
        guard labels.dimensions.count == 1, labels.dimensions[0] == images.dimensions[0] else {
            throw IDXError(path: labelsPath, reason: "\(labels.dimensions) labels for \(images.dimensions[0]) images")
        }
        count = images.dimensions[0]
        rows = images.dimensions[1]
        columns = images.dimensions[2]
        self.labels = labels.bytes
        classes = Int(labels.bytes.max() ?? 0) + 1
        let (mean, std) = normalization ?? Self.statistics(images.bytes)
        guard std > 0 else { throw IDXError(path: imagesPath, reason: "every pixel is the same: nothing to learn") }
        self.mean = mean
        self.std = std
        let scale = 1 / (255 * std), shift = mean / std
        pixels = images.bytes.map { Float($0) * scale - shift }
    }

    /// Mean and standard deviation of the pixels scaled to [0, 1].
    static func statistics(_ bytes: [UInt8]) -> (Float, Float) {
        var histogram = [Int](repeating: 0, count: 256)
        for byte in bytes { histogram[Int(byte)] += 1 }
        let n = Double(bytes.count)
        var sum = 0.0, squares = 0.0
        for (value, k) in histogram.enumerated() {
            let x = Double(value) / 255
            sum += x * Double(k)
            squares += x * x * Double(k)
        }
        let mean = sum / n
        return (Float(mean), Float((squares / n - mean * mean).squareRoot()))
    }
}

/// The four IDX files of an MNIST-format directory (`train-images-idx3-ubyte[.gz]` and so on).
public struct DatasetDirectory: Sendable {
    public let train: Dataset
    public let test: Dataset

    /// Debian's `dataset-fashion-mnist` package.
    public static let fashionMNIST = "/usr/share/datasets/fashion-mnist"

    /// Loads both splits; the test split is normalised with the training split's statistics.
    public init(path: String) throws(IDXError) {
        func load(_ split: String) throws(IDXError) -> (IDXFile, String, IDXFile, String) {
            let images = try Self.find(path, "\(split)-images-idx3-ubyte"), labels = try Self.find(path, "\(split)-labels-idx1-ubyte")
            return (try IDXFile(path: images), images, try IDXFile(path: labels), labels)
        }
        let (trainImages, trainImagesPath, trainLabels, trainLabelsPath) = try load("train")
        train = try Dataset(images: trainImages, labels: trainLabels, imagesPath: trainImagesPath, labelsPath: trainLabelsPath)
        let (testImages, testImagesPath, testLabels, testLabelsPath) = try load("t10k")
        test = try Dataset(images: testImages, labels: testLabels, imagesPath: testImagesPath, labelsPath: testLabelsPath,
                           normalization: (train.mean, train.std))
    }

    private static func find(_ directory: String, _ name: String) throws(IDXError) -> String {
        for candidate in ["\(directory)/\(name).gz", "\(directory)/\(name)"] where FileManager.default.fileExists(atPath: candidate) {
            return candidate
        }
        throw IDXError(path: "\(directory)/\(name)[.gz]", reason: "no such file")
    }
}
