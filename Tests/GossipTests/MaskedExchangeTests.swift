@testable import Gossip
import Testing

@Suite struct MaskedExchangeTests {
    @Test func gatherPicksTheMaskedValuesInOrder() throws {
        let params: [Float] = [10, 11, 12, 13, 14]
        #expect(try MaskedExchange.gather(from: params, at: [0, 3, 4]) == [10, 13, 14])
        #expect(try MaskedExchange.gather(from: params, at: []) == [])
        #expect(throws: MaskedExchangeError.indexOutOfRange(position: 1, index: 5, parameterCount: 5)) {
            try MaskedExchange.gather(from: params, at: [0, 5])
        }
    }

    @Test func mergeAveragesOnlyMaskedCoordinates() throws {
        var params: [Float] = [1, 2, 3, 4, 5]
        try MaskedExchange.mergeAverage(params: &params, indices: [1, 4], partnerValues: [4, -5])
        #expect(params == [1, 3, 3, 4, 0])
    }

    /// Two partners exchanging the same mask end equal there, with their mean; elsewhere as they were.
    @Test func partnersAgreeAfterTheExchange() throws {
        let mask = try RandomKMask(layout: MaskLayout(tensorSizes: [50, 30]), keepFraction: 0.2)
        let indices = mask.indices(seed: 4, round: 9)
        var a = (0..<80).map { Float($0) }, b = (0..<80).map { Float(200 - $0) }
        let (a0, b0) = (a, b)
        let fromA = try MaskedExchange.gather(from: a, at: indices)
        let fromB = try MaskedExchange.gather(from: b, at: indices)
        try MaskedExchange.mergeAverage(params: &a, indices: indices, partnerValues: fromB)
        try MaskedExchange.mergeAverage(params: &b, indices: indices, partnerValues: fromA)
        let masked = Set(indices.map(Int.init))
        for i in 0..<80 {
            if masked.contains(i) {
                #expect(a[i] == b[i] && a[i] == (a0[i] + b0[i]) / 2)
            } else {
                #expect(a[i] == a0[i] && b[i] == b0[i])
            }
        }
    }

    @Test func averagingHugeValuesDoesNotOverflow() throws {
        var params: [Float] = [.greatestFiniteMagnitude]
        try MaskedExchange.mergeAverage(params: &params, indices: [0], partnerValues: [.greatestFiniteMagnitude])
        #expect(params == [.greatestFiniteMagnitude])
    }

    @Test func nonFinitePartnerValuesAreRejectedAndChangeNothing() {
        for bad in [Float.nan, .infinity, -.infinity] {
            var params: [Float] = [1, 2, 3, 4]
            #expect(throws: MaskedExchangeError.nonFiniteValue(position: 2, index: 3)) {
                try MaskedExchange.mergeAverage(params: &params, indices: [0, 1, 3], partnerValues: [9, 9, bad])
            }
            #expect(params == [1, 2, 3, 4])
        }
    }

    @Test func wrongCountsAndBadIndicesChangeNothing() {
        var params: [Float] = [1, 2, 3, 4]
        #expect(throws: MaskedExchangeError.valueCountMismatch(expected: 2, received: 3)) {
            try MaskedExchange.mergeAverage(params: &params, indices: [0, 1], partnerValues: [5, 6, 7])
        }
        #expect(throws: MaskedExchangeError.indicesNotIncreasing(position: 1)) {
            try MaskedExchange.mergeAverage(params: &params, indices: [2, 2], partnerValues: [5, 6])
        }
        #expect(throws: MaskedExchangeError.indexOutOfRange(position: 1, index: -1, parameterCount: 4)) {
            try MaskedExchange.mergeAverage(params: &params, indices: [0, -1], partnerValues: [5, 6])
        }
        #expect(throws: MaskedExchangeError.indexOutOfRange(position: 0, index: 4, parameterCount: 4)) {
            try MaskedExchange.mergeAverage(params: &params, indices: [4], partnerValues: [5])
        }
        #expect(params == [1, 2, 3, 4])
        #expect(MaskedExchangeError.valueCountMismatch(expected: 2, received: 3).description == "partner sent 3 values for a mask of 2")
    }
}

/// The wire-bytes path gives exactly what the array path gives, and refuses what it refuses.
@Suite struct MaskedWireValuesTests {
    @Test func bytesRoundTripAndMergeLikeArrays() throws {
        let mask = try RandomKMask(layout: MaskLayout(tensorSizes: [500, 300]), keepFraction: 0.05)
        let indices = mask.indices(seed: 2, round: 5)
        let a = (0..<800).map { Float($0) * 0.25 - 7 }, b = (0..<800).map { Float(800 - $0) / 3 }
        let bytes = try MaskedExchange.gatherBytes(from: b, at: indices)
        #expect(bytes.count == indices.count * 4)
        // Little-endian binary32, as NumPy's frombuffer(values, "<f4") reads it.
        let first = b[Int(indices[0])].bitPattern
        #expect(Array(bytes[0..<4]) == [UInt8(first & 0xFF), UInt8(first >> 8 & 0xFF), UInt8(first >> 16 & 0xFF), UInt8(first >> 24)])
        var viaArray = a, viaBytes = a
        try MaskedExchange.mergeAverage(params: &viaArray, indices: indices, partnerValues: try MaskedExchange.gather(from: b, at: indices))
        try bytes.withUnsafeBytes { try MaskedExchange.mergeAverage(params: &viaBytes, indices: indices, partnerBytes: $0) }
        #expect(viaArray == viaBytes)
    }

    @Test func badBytesChangeNothing() throws {
        let params: [Float] = [1, 2, 3, 4]
        var copy = params
        let nan = Float.nan.bitPattern
        let cases: [([UInt8], MaskedExchangeError)] = [
            ([0, 0, 128], .byteCountNotAMultipleOfFour(3)),
            ([0, 0, 128, 63], .valueCountMismatch(expected: 2, received: 1)),
            ([0, 0, 128, 63, UInt8(nan & 0xFF), UInt8(nan >> 8 & 0xFF), UInt8(nan >> 16 & 0xFF), UInt8(nan >> 24)],
             .nonFiniteValue(position: 1, index: 3)),
        ]
        for (bytes, error) in cases {
            #expect(throws: error) { try bytes.withUnsafeBytes { try MaskedExchange.mergeAverage(params: &copy, indices: [0, 3], partnerBytes: $0) } }
            #expect(copy == params)
        }
    }
}
