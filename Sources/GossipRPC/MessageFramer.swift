/// gRPC's length-prefixed message framing: 1 byte compressed flag, 4 bytes
/// big-endian length, then the message.
public enum MessageFramer {
    public static let prefixLength = 5

    /// Frames one uncompressed message.
    public static func frame(_ message: [UInt8]) -> [UInt8] {
        let count = message.count
        return [UInt8](unsafeUninitializedCapacity: count + prefixLength) { buffer, initialized in
            buffer[0] = 0
            buffer[1] = UInt8(truncatingIfNeeded: count >> 24)
            buffer[2] = UInt8(truncatingIfNeeded: count >> 16)
            buffer[3] = UInt8(truncatingIfNeeded: count >> 8)
            buffer[4] = UInt8(truncatingIfNeeded: count)
            message.withUnsafeBufferPointer { source in
                if let base = source.baseAddress, count > 0 {
                    (buffer.baseAddress! + prefixLength).initialize(from: base, count: count)
                }
            }
            initialized = count + prefixLength
        }
    }
}

/// Why a byte stream could not be split into messages.
public enum DeframingError: Error, Equatable, CustomStringConvertible {
    /// The prefix announced a message larger than the receive limit.
    case tooLarge(announced: Int, limit: Int)
    /// The compressed flag was set but no compression was negotiated.
    case compressedWithoutEncoding
    /// The flag byte was neither 0 nor 1.
    case invalidFlag(UInt8)

    public var description: String {
        switch self {
        case .tooLarge(let announced, let limit):
            "received message larger than max (\(announced) vs. \(limit))"
        case .compressedWithoutEncoding:
            "compressed message received but no grpc-encoding was negotiated"
        case .invalidFlag(let flag):
            "invalid gRPC message flag \(flag)"
        }
    }
}

/// Incrementally splits received bytes into messages. The size limit is checked
/// on the prefix, before any buffer for the message is reserved.
public struct MessageDeframer {
    public let maxMessageSize: Int
    private var header = [UInt8]()
    private var body = [UInt8]()
    private var expected: Int?

    static let initialReservation = 64 << 10

    public init(maxMessageSize: Int) {
        self.maxMessageSize = maxMessageSize
        header.reserveCapacity(MessageFramer.prefixLength)
    }

    /// True when no partial message is buffered.
    public var isIdle: Bool { header.isEmpty && expected == nil }

    /// Feeds bytes, calling `onMessage` for each complete message.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, onMessage: ([UInt8]) -> Void) throws(DeframingError) {
        var offset = 0
        while offset < bytes.count {
            if let need = expected {
                let take = min(need - body.count, bytes.count - offset)
                body.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + take)]))
                offset += take
                if body.count == need {
                    let message = body
                    body = []
                    expected = nil
                    onMessage(message)
                }
                continue
            }
            let take = min(MessageFramer.prefixLength - header.count, bytes.count - offset)
            header.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + take)]))
            offset += take
            guard header.count == MessageFramer.prefixLength else { continue }
            let flag = header[0]
            let length = Int(header[1]) << 24 | Int(header[2]) << 16 | Int(header[3]) << 8 | Int(header[4])
            header.removeAll(keepingCapacity: true)
            switch flag {
            case 0: break
            case 1: throw .compressedWithoutEncoding
            default: throw .invalidFlag(flag)
            }
            guard length <= maxMessageSize else { throw .tooLarge(announced: length, limit: maxMessageSize) }
            if length == 0 {
                onMessage([])
            } else {
                // Grow with what arrives: a prefix alone must not reserve its announced size
                // (thousands of streams announcing 4 MiB each would reserve gigabytes).
                body.reserveCapacity(min(length, Self.initialReservation))
                expected = length
            }
        }
    }
}
