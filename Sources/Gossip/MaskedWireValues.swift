/// The exchange on the wire's own bytes (gossip.v1 `ModelValues.values`, FLOAT32_LE): our values
/// at the mask packed straight into bytes, and a partner's merged straight from its bytes, with no
/// intermediate array of floats on either side.
extension MaskedExchange {
    /// Our values at `indices`, in mask order, as little-endian IEEE binary32.
    public static func gatherBytes(from params: [Float], at indices: [Int32]) throws(MaskedExchangeError) -> [UInt8] {
        try validate(indices, parameterCount: params.count)
        var bytes = [UInt8](repeating: 0, count: indices.count * 4)
        bytes.withUnsafeMutableBytes { bytes in
            params.withUnsafeBufferPointer { params in
                for (position, index) in indices.enumerated() {
                    bytes.storeBytes(of: params[Int(index)].bitPattern.littleEndian, toByteOffset: position * 4, as: UInt32.self)
                }
            }
        }
        return bytes
    }

    /// x ← ½(x + x_partner) at `indices`, the partner's values read from their little-endian
    /// bytes. Length, indices and every value are checked before anything is written.
    public static func mergeAverage(params: inout [Float], indices: [Int32], partnerBytes: UnsafeRawBufferPointer) throws(MaskedExchangeError) {
        guard partnerBytes.count == indices.count * 4 else {
            throw partnerBytes.count % 4 == 0 ? .valueCountMismatch(expected: indices.count, received: partnerBytes.count / 4)
                                              : .byteCountNotAMultipleOfFour(partnerBytes.count)
        }
        try validate(indices, parameterCount: params.count)
        func value(_ position: Int) -> Float {
            Float(bitPattern: UInt32(littleEndian: partnerBytes.loadUnaligned(fromByteOffset: position * 4, as: UInt32.self)))
        }
        for position in indices.indices where !value(position).isFinite {
            throw .nonFiniteValue(position: position, index: indices[position])
        }
        params.withUnsafeMutableBufferPointer { params in
            for (position, index) in indices.enumerated() {
                let i = Int(index)
                params[i] = params[i] * 0.5 + value(position) * 0.5
            }
        }
    }
}
