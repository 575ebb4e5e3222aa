import Discovery
import GossipRPC
import GossipWire

/// A request decoded together with the names of its string fields that held
/// a NUL byte: protobuf-c would hand those over cut short at it, so
/// "base-1\0evil" would pass validation as "base-1".
struct CheckedRequest<Message: WireMessage>: WireMessage {
    let message: Message
    let fieldsWithNUL: [String]

    init(decoding bytes: UnsafeRawBufferPointer) throws {
        message = try Message(decoding: bytes)
        fieldsWithNUL = Message.stringFieldsContainingNUL(in: bytes)
    }

    func encode() -> [UInt8] { message.encode() }

    static func unknownFieldNumbers(in bytes: UnsafeRawBufferPointer) throws -> [UInt32] {
        try Message.unknownFieldNumbers(in: bytes)
    }

    /// The message, or INVALID_ARGUMENT naming the field with the NUL.
    func validated() throws(RPCError) -> Message {
        if let field = fieldsWithNUL.first {
            throw RPCError(.invalidArgument, "\(field) contains a NUL byte")
        }
        return message
    }
}

extension Service {
    /// A unary method whose requests carry no NUL in any string field.
    mutating func checkedUnary<Request: WireMessage, Response: WireMessage>(
        _ method: String, rejectingUnknownFields: Bool = false,
        _ handler: @escaping @Sendable (Request, ServerContext) async throws -> Response
    ) {
        unary(method, rejectingUnknownFields: rejectingUnknownFields) { (request: CheckedRequest<Request>, context) in
            try await handler(try request.validated(), context)
        }
    }

    mutating func checkedUnary<Request: WireMessage, Response: WireMessage>(
        _ method: String, rejectingUnknownFields: Bool = false,
        _ handler: @escaping @Sendable (Request) async throws -> Response
    ) {
        checkedUnary(method, rejectingUnknownFields: rejectingUnknownFields) { (request: Request, _) in try await handler(request) }
    }
}
