@testable import Learning
import Seeded
import Testing

/// Finite-difference checks of every layer's backward pass and of the loss. Each layer is tested
/// on f(x, w) = Σ y(x, w)·r for a fixed random r, so the backward pass gets dy = r.
@Suite struct GradientCheckTests {
    static func random(_ count: Int, _ rng: inout SplitMix64, scale: Float = 1) -> [Float] {
        (0..<count).map { _ in Float(rng.unitDouble() * 2 - 1) * scale }
    }

    /// Inputs spread on a grid (no two equal, none near 0), so the kinks of ReLU and max-pool are
    /// farther away than the step.
    static func separated(_ count: Int, _ rng: inout SplitMix64) -> [Float] {
        var values = (0..<count).map { Float($0 - count / 2) * 0.02 + 0.01 }
        rng.shuffle(&values)
        return values
    }

    static func check(_ layer: any Layer, batch: Int, x: [Float], step: Float, tolerance: Float) {
        var rng = SplitMix64(seed: 11)
        let w = random(layer.parameterCount, &rng, scale: 0.5), r = random(batch * layer.outputSize, &rng)
        func objective(_ x: [Float], _ w: [Float]) -> Double {
            var y = [Float](repeating: 0, count: batch * layer.outputSize)
            layer.forward(x, &y, batch: batch, parameters: w.isEmpty ? [0] : w)
            return zip(y, r).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }
        var y = [Float](repeating: 0, count: batch * layer.outputSize)
        layer.forward(x, &y, batch: batch, parameters: w.isEmpty ? [0] : w)
        var dx = [Float](repeating: .nan, count: x.count), dw = [Float](repeating: .nan, count: max(1, w.count))
        layer.backward(x: x, y: y, dy: r, dx: &dx, batch: batch, parameters: w.isEmpty ? [0] : w, gradient: &dw)

        func expectClose(_ analytic: Float, _ plus: Double, _ minus: Double, _ what: String) {
            let numeric = Float((plus - minus) / Double(2 * step))
            #expect(abs(numeric - analytic) <= tolerance * max(1, abs(numeric)), "\(what): numeric \(numeric), backward \(analytic)")
        }
        for i in stride(from: 0, to: w.count, by: max(1, w.count / 40)) {
            var up = w, down = w
            up[i] += step
            down[i] -= step
            expectClose(dw[i], objective(x, up), objective(x, down), "dw[\(i)]")
        }
        for i in stride(from: 0, to: x.count, by: max(1, x.count / 40)) {
            var up = x, down = x
            up[i] += step
            down[i] -= step
            expectClose(dx[i], objective(up, w), objective(down, w), "dx[\(i)]")
        }
    }

    @Test func linear() {
        var rng = SplitMix64(seed: 1)
        let layer = Linear(7, 5)
        Self.check(layer, batch: 3, x: Self.random(21, &rng), step: 0.25, tolerance: 1e-3)
    }

    @Test func conv2dWithPadding() {
        var rng = SplitMix64(seed: 2)
        let layer = Conv2d(inChannels: 2, outChannels: 3, kernel: 3, padding: 1, height: 5, width: 6)
        Self.check(layer, batch: 2, x: Self.random(2 * layer.inputSize, &rng), step: 0.25, tolerance: 1e-3)
        let unpadded = Conv2d(inChannels: 1, outChannels: 2, kernel: 5, padding: 2, height: 4, width: 4)
        Self.check(unpadded, batch: 2, x: Self.random(2 * unpadded.inputSize, &rng), step: 0.25, tolerance: 1e-3)
        let first = Conv2d(inChannels: 1, outChannels: 32, kernel: 5, padding: 2, height: 28, width: 28)
        Self.check(first, batch: 3, x: Self.random(3 * first.inputSize, &rng), step: 0.25, tolerance: 1e-3)
    }

    @Test func reluAndMaxPool() {
        var rng = SplitMix64(seed: 3)
        let relu = ReLU(size: 30)
        Self.check(relu, batch: 2, x: Self.separated(60, &rng), step: 1e-3, tolerance: 1e-3)
        let pool = MaxPool2d(channels: 2, height: 4, width: 6, window: 2, maxBatch: 2)
        Self.check(pool, batch: 2, x: Self.separated(2 * pool.inputSize, &rng), step: 1e-3, tolerance: 1e-3)
        // Odd sizes drop the last row and column, as PyTorch does; ReLU fused in front.
        let odd = MaxPool2d(channels: 3, height: 5, width: 7, window: 2, rectify: true, maxBatch: 2)
        Self.check(odd, batch: 2, x: Self.separated(2 * odd.inputSize, &rng), step: 1e-3, tolerance: 1e-3)
    }

    @Test func crossEntropy() {
        var rng = SplitMix64(seed: 4)
        let batch = 4, classes = 6
        let logits = Self.random(batch * classes, &rng, scale: 3), labels: [UInt8] = [0, 5, 2, 2]
        var gradient = [Float](repeating: 0, count: logits.count)
        let loss = CrossEntropy.lossAndGradient(logits: logits, labels: labels, batch: batch, classes: classes, gradient: &gradient)
        var scratch = gradient
        func lossAt(_ z: [Float]) -> Double {
            Double(CrossEntropy.lossAndGradient(logits: z, labels: labels, batch: batch, classes: classes, gradient: &scratch))
        }
        #expect(abs(Double(loss) - lossAt(logits)) < 1e-7)
        for i in logits.indices {
            var up = logits, down = logits
            up[i] += 1e-2
            down[i] -= 1e-2
            let numeric = (lossAt(up) - lossAt(down)) / 2e-2
            #expect(abs(numeric - Double(gradient[i])) < 1e-4, "logit \(i): numeric \(numeric), backward \(gradient[i])")
        }
        // Huge logits do not overflow: the maximum is subtracted first.
        let large = CrossEntropy.lossAndGradient(logits: [1000, 0, -1000], labels: [1], batch: 1, classes: 3, gradient: &scratch)
        #expect(abs(large - 1000) < 1e-3)
    }

    /// The whole CNN, backward through every layer, on a few coordinates of every tensor.
    @Test func wholeNetworks() {
        for architecture in Architecture.allCases {
            let network = Network(architecture, maxBatch: 2)
            var rng = SplitMix64(seed: 5)
            let parameters = network.initialParameters(seed: 9)
            let inputs = Self.random(2 * network.inputSize, &rng), labels: [UInt8] = [3, 8]
            var gradient = [Float](repeating: 0, count: network.parameterCount)
            _ = network.lossAndGradient(parameters: parameters, inputs: inputs, labels: labels, batch: 2, gradient: &gradient)
            var scratch = gradient
            func loss(_ w: [Float]) -> Double {
                Double(network.lossAndGradient(parameters: w, inputs: inputs, labels: labels, batch: 2, gradient: &scratch))
            }
            for tensor in network.layout {
                // The coordinates with the largest gradients: their finite differences are well above rounding.
                let slice = tensor.offset..<(tensor.offset + tensor.count)
                let top = slice.sorted { abs(gradient[$0]) > abs(gradient[$1]) }.prefix(3)
                for i in top {
                    // A step must be large against Float32 rounding of the loss (~1e-6 / step) and small
                    // against the distance to the nearest ReLU or max-pool kink; one of three must agree.
                    let differences = [1e-2, 3e-3, 1e-3].map { (step: Float) -> (Double, Double) in
                        var up = parameters, down = parameters
                        up[i] += step
                        down[i] -= step
                        let numeric = (loss(up) - loss(down)) / Double(2 * step)
                        return (numeric, 2e-2 * abs(numeric) + 2e-6 / Double(step))
                    }
                    #expect(differences.contains { abs($0.0 - Double(gradient[i])) <= $0.1 },
                            "\(architecture) \(tensor.name)[\(i - tensor.offset)]: numeric \(differences.map(\.0)), backward \(gradient[i])")
                }
            }
        }
    }
}

/// The fused ReLU + max-pool is the two layers composed, output and gradient.
@Test func rectifyingPoolIsReLUThenPool() {
    var rng = SplitMix64(seed: 8)
    let relu = ReLU(size: 2 * 6 * 6), pool = MaxPool2d(channels: 2, height: 6, width: 6, window: 2, maxBatch: 3)
    let fused = MaxPool2d(channels: 2, height: 6, width: 6, window: 2, rectify: true, maxBatch: 3)
    // Values with ties and many negatives, as after a convolution on a flat background.
    let x = (0..<(3 * relu.inputSize)).map { _ in Float(Int(rng.next(below: 7)) - 4) * 0.5 }
    let dy = GradientCheckTests.random(3 * pool.outputSize, &rng)
    var r = [Float](repeating: 0, count: x.count), y = [Float](repeating: 0, count: dy.count), yFused = y
    relu.forward(x, &r, batch: 3, parameters: [0])
    pool.forward(r, &y, batch: 3, parameters: [0])
    fused.forward(x, &yFused, batch: 3, parameters: [0])
    #expect(y == yFused)
    var dr = r, dx = r, dxFused = r, unused: [Float] = [0]
    pool.backward(x: r, y: y, dy: dy, dx: &dr, batch: 3, parameters: [0], gradient: &unused)
    relu.backward(x: x, y: r, dy: dr, dx: &dx, batch: 3, parameters: [0], gradient: &unused)
    fused.backward(x: x, y: yFused, dy: dy, dx: &dxFused, batch: 3, parameters: [0], gradient: &unused)
    #expect(dx == dxFused)
}
