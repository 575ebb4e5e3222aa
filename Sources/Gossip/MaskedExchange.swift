/// The gossip step at a mask's coordinates: send our values there, then average with the
/// partner's (gossip matrix ½ self, ½ partner). Other coordinates stay as they are.
public enum MaskedExchange {
    /// Our values at `indices`, in mask order, to send to the partner.
    public static func gather(from params: [Float], at indices: [Int32]) throws(MaskedExchangeError) -> [Float] {
        try validate(indices, parameterCount: params.count)
        return indices.map { params[Int($0)] }
    }

    /// x ← ½(x + x_partner) at `indices`. Everything is checked first, so bad input from a
    /// partner (wrong count, NaN or infinity) leaves `params` untouched.
    public static func mergeAverage(params: inout [Float], indices: [Int32], partnerValues: [Float]) throws(MaskedExchangeError) {
        guard partnerValues.count == indices.count else {
            throw .valueCountMismatch(expected: indices.count, received: partnerValues.count)
        }
        try validate(indices, parameterCount: params.count)
        if let bad = partnerValues.firstIndex(where: { !$0.isFinite }) {
            throw .nonFiniteValue(position: bad, index: indices[bad])
        }
        for (position, index) in indices.enumerated() {
            let i = Int(index)
            // Halving each term first cannot overflow where x + y would.
            params[i] = params[i] * 0.5 + partnerValues[position] * 0.5
        }
    }

    /// A mask's indices are in range and strictly increasing; a repeat would average twice.
    static func validate(_ indices: [Int32], parameterCount: Int) throws(MaskedExchangeError) {
        var previous = -1
        for (position, index) in indices.enumerated() {
            let i = Int(index)
            guard i >= 0, i < parameterCount else {
                throw .indexOutOfRange(position: position, index: index, parameterCount: parameterCount)
            }
            guard i > previous else { throw .indicesNotIncreasing(position: position) }
            previous = i
        }
    }
}

public enum MaskedExchangeError: Error, Hashable, CustomStringConvertible {
    case valueCountMismatch(expected: Int, received: Int)
    case nonFiniteValue(position: Int, index: Int32)
    case indexOutOfRange(position: Int, index: Int32, parameterCount: Int)
    case indicesNotIncreasing(position: Int)
    case byteCountNotAMultipleOfFour(Int)

    public var description: String {
        switch self {
        case .valueCountMismatch(let expected, let received):
            "partner sent \(received) values for a mask of \(expected)"
        case .nonFiniteValue(let position, let index):
            "partner value \(position) (parameter \(index)) is not finite"
        case .indexOutOfRange(let position, let index, let count):
            "mask index \(position) is \(index), outside the \(count) parameters"
        case .byteCountNotAMultipleOfFour(let count):
            "partner sent \(count) bytes of float32 values, not a multiple of 4"
        case .indicesNotIncreasing(let position):
            "mask index \(position) does not increase: a mask is sorted and has no repeats"
        }
    }
}
