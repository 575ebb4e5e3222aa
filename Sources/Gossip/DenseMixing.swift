/// Dense D-PSGD's gossip step: x ← (x + Σ neighbours' x) / (1 + neighbours), every coordinate,
/// the neighbours' models as they were at the start of the round. On a ring of three or more
/// that is RingTopology's ⅓ each; a neighbour that did not answer drops out of the sum and the
/// weights of the others grow (still an average). The simulation and the network peers both
/// mix through here, so the same inputs give the same bits.
public enum DenseMixing {
    /// Mixes `neighbours` (whole models of our size, from the same process) into `params`.
    public static func mix(params: inout [Float], neighbours: [[Float]]) {
        precondition(neighbours.allSatisfy { $0.count == params.count }, "neighbours' models differ in size")
        accumulate(&params, neighbours: neighbours.count) { n, k in neighbours[n][k] }
    }

    /// Our whole model as little-endian IEEE binary32, what travels to each neighbour.
    public static func bytes(of params: [Float]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: params.count * 4)
        bytes.withUnsafeMutableBytes { bytes in
            for (k, value) in params.enumerated() {
                bytes.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: k * 4, as: UInt32.self)
            }
        }
        return bytes
    }

    /// A neighbour's model on the wire: exactly `parameterCount` finite float32 values.
    public static func check(_ bytes: UnsafeRawBufferPointer, parameterCount: Int) throws(MaskedExchangeError) {
        guard bytes.count == parameterCount * 4 else {
            throw bytes.count % 4 == 0 ? .valueCountMismatch(expected: parameterCount, received: bytes.count / 4)
                                       : .byteCountNotAMultipleOfFour(bytes.count)
        }
        for k in 0..<parameterCount where !value(bytes, k).isFinite {
            throw .nonFiniteValue(position: k, index: Int32(clamping: k))
        }
    }

    /// Mixes neighbours' models given as their wire bytes; all are checked before anything is written.
    public static func mix(params: inout [Float], neighbourBytes: [UnsafeRawBufferPointer]) throws(MaskedExchangeError) {
        for bytes in neighbourBytes { try check(bytes, parameterCount: params.count) }
        accumulate(&params, neighbours: neighbourBytes.count) { n, k in value(neighbourBytes[n], k) }
    }

    private static func value(_ bytes: UnsafeRawBufferPointer, _ k: Int) -> Float {
        Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: k * 4, as: UInt32.self)))
    }

    /// The one formula both entry points share: sum in neighbour order, then scale.
    @inline(__always)
    private static func accumulate(_ params: inout [Float], neighbours: Int, _ value: (Int, Int) -> Float) {
        guard neighbours > 0 else { return }
        let weight = Float(1) / Float(neighbours + 1)
        params.withUnsafeMutableBufferPointer { params in
            for k in params.indices {
                var sum = params[k]
                for n in 0..<neighbours { sum += value(n, k) }
                params[k] = sum * weight
            }
        }
    }
}
