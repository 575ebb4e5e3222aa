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
///
/// Copies: each received byte is copied once, from nghttp2's DATA chunk into the message's own
/// buffer (nghttp2 hands out pieces of the socket buffer, which is drained after each read, and
/// protobuf-c needs a message contiguous). With `reservations` that have room, the buffer is
/// sized from the prefix at once; otherwise it doubles as bytes arrive (realloc copies).
public struct MessageDeframer {
    public let maxMessageSize: Int
    /// Where whole-size allocations are accounted; nil: always grow with what arrives.
    public var reservations: ReceiveReservations?
    private var header: (UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0)
    private var headerCount = 0
    private var partial: ReceivedMessage?

    static let initialReservation = 64 << 10

    public init(maxMessageSize: Int, reservations: ReceiveReservations? = nil) {
        self.maxMessageSize = maxMessageSize
        self.reservations = reservations
    }

    /// True when no partial message is buffered.
    public var isIdle: Bool { headerCount == 0 && partial == nil }

    /// Feeds bytes, calling `onMessage` for each complete message.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, onMessage: (ReceivedMessage) -> Void) throws(DeframingError) {
        var offset = 0
        while offset < bytes.count {
            if let message = partial {
                offset += message.append(UnsafeRawBufferPointer(rebasing: bytes[offset...]))
                if message.isComplete {
                    partial = nil
                    onMessage(message)
                }
                continue
            }
            withUnsafeMutableBytes(of: &header) { header in
                while headerCount < MessageFramer.prefixLength && offset < bytes.count {
                    header[headerCount] = bytes[offset]
                    headerCount += 1
                    offset += 1
                }
            }
            guard headerCount == MessageFramer.prefixLength else { continue }
            headerCount = 0
            let flag = header.0
            let length = Int(header.1) << 24 | Int(header.2) << 16 | Int(header.3) << 8 | Int(header.4)
            switch flag {
            case 0: break
            case 1: throw .compressedWithoutEncoding
            default: throw .invalidFlag(flag)
            }
            guard length <= maxMessageSize else { throw .tooLarge(announced: length, limit: maxMessageSize) }
            let reserved = reservations.flatMap { $0.tryReserve(length) ? $0 : nil }
            let message = ReceivedMessage(count: length, reservation: reserved, initialCapacity: Self.initialReservation)
            if length == 0 { onMessage(message) } else { partial = message }
        }
    }
}
