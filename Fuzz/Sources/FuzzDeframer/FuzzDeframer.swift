// Fuzz target: the gRPC message deframer (`MessageDeframer.feed`). Input: one
// byte picking the receive limit (and, by its low bit, whether messages may be
// sized at once from a reservation budget of 3x the limit), then chunks, each a length byte followed by
// that many bytes of stream, so libFuzzer controls how the stream is split
// across feed() calls. The messages, the error and `isIdle` must match a
// straightforward deframing of the whole stream at once.
import FuzzDriver
import GossipRPC

struct Outcome: Equatable {
    var messages: [[UInt8]] = []
    var error: DeframingError?
    var idle = true
}

/// Deframes the whole stream in one pass: the specification.
func reference(_ stream: [UInt8], limit: Int) -> Outcome {
    var outcome = Outcome()
    var i = 0
    while i < stream.count {
        guard stream.count - i >= MessageFramer.prefixLength else { outcome.idle = false; break }
        let flag = stream[i]
        let length = Int(stream[i + 1]) << 24 | Int(stream[i + 2]) << 16 | Int(stream[i + 3]) << 8 | Int(stream[i + 4])
        i += MessageFramer.prefixLength
        if flag == 1 { outcome.error = .compressedWithoutEncoding; break }
        if flag != 0 { outcome.error = .invalidFlag(flag); break }
        if length > limit { outcome.error = .tooLarge(announced: length, limit: limit); break }
        guard stream.count - i >= length else { outcome.idle = false; break }
        outcome.messages.append(Array(stream[i..<(i + length)]))
        i += length
    }
    return outcome
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    guard let start, count > 0 else { return 0 }
    let input = UnsafeRawBufferPointer(start: start, count: count)
    // 0...254: small limits that inputs can exceed; 255: the default 4 MiB.
    let limit = input[0] == 255 ? 4 << 20 : Int(input[0]) * 3
    let reservations = input[0] & 1 == 1 ? ReceiveReservations(budget: 3 * limit) : nil
    var deframer: MessageDeframer? = MessageDeframer(maxMessageSize: limit, reservations: reservations)
    var got = Outcome()
    var stream: [UInt8] = []
    var offset = 1
    while offset < count, got.error == nil {
        let take = min(Int(input[offset]), count - offset - 1)
        offset += 1
        let chunk = UnsafeRawBufferPointer(rebasing: input[offset..<(offset + take)])
        offset += take
        stream.append(contentsOf: chunk)
        do {
            try deframer!.feed(chunk) { got.messages.append($0.bytes) }
        } catch {
            got.error = error
        }
    }
    got.idle = deframer!.isIdle
    deframer = nil
    // Whatever the outcome, nothing stays reserved once the deframer is gone.
    if let reservations, reservations.reservedBytes != 0 {
        fatalError("\(reservations.reservedBytes) bytes still reserved after the deframer was dropped")
    }
    var expected = reference(stream, limit: limit)
    if got.error != nil { expected.idle = got.idle }  // after an error the call is over; idle is moot
    guard got == expected else {
        fatalError("deframer disagrees with the reference (limit \(limit)):\n got \(got)\n want \(expected)")
    }
    return 0
}

@_cdecl("FuzzDeframer_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzerDriver(argc, argv, fuzz)
}
