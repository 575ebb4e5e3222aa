internal import CProtos

// Field-by-field mapping between the GRPCTesting value types and protoc-c's structs.

extension GRPCTesting.Empty: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Grpc__Testing__Empty>) { grpc__testing__empty__init(c) }

    init(c: Grpc__Testing__Empty) {}

    func fill(_ c: UnsafeMutablePointer<Grpc__Testing__Empty>, in arena: CArena) {}
}

extension GRPCTesting.PayloadType: OpenEnum {}

extension GRPCTesting.GrpclbRouteType: OpenEnum {}

extension GRPCTesting.BoolValue: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Grpc__Testing__BoolValue>) {
        grpc__testing__bool_value__init(c)
    }

    init(c: Grpc__Testing__BoolValue) throws {
        self.init(value: c.value != 0)
    }

    func fill(_ c: UnsafeMutablePointer<Grpc__Testing__BoolValue>, in arena: CArena) {
        c.pointee.value = value ? 1 : 0
    }
}

extension GRPCTesting.Payload: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Grpc__Testing__Payload>) { grpc__testing__payload__init(c) }

    init(c: Grpc__Testing__Payload) throws {
        self.init(type: GRPCTesting.PayloadType(c: c.type), body: decodeWireBytes(c.body))
    }

    func fill(_ c: UnsafeMutablePointer<Grpc__Testing__Payload>, in arena: CArena) {
        c.pointee.type = type.c()
        arena.setBytes(body, c.field(\.body))
    }
}

extension GRPCTesting.EchoStatus: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Grpc__Testing__EchoStatus>) {
        grpc__testing__echo_status__init(c)
    }

    init(c: Grpc__Testing__EchoStatus) throws {
        self.init(code: c.code, message: try decodeString(c.message))
    }

    func fill(_ c: UnsafeMutablePointer<Grpc__Testing__EchoStatus>, in arena: CArena) {
        c.pointee.code = code
        c.pointee.message = arena.string(message)
    }
}

extension GRPCTesting.SimpleRequest: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Grpc__Testing__SimpleRequest>) {
        grpc__testing__simple_request__init(c)
    }

    init(c: Grpc__Testing__SimpleRequest) throws {
        self.init(
            responseType: GRPCTesting.PayloadType(c: c.response_type),
            responseSize: c.response_size,
            payload: try GRPCTesting.Payload.decode(c.payload),
            fillUsername: c.fill_username != 0,
            fillOauthScope: c.fill_oauth_scope != 0,
            responseCompressed: try GRPCTesting.BoolValue.decode(c.response_compressed),
            responseStatus: try GRPCTesting.EchoStatus.decode(c.response_status),
            expectCompressed: try GRPCTesting.BoolValue.decode(c.expect_compressed),
            fillServerId: c.fill_server_id != 0,
            fillGrpclbRouteType: c.fill_grpclb_route_type != 0
        )
    }

    func fill(_ c: UnsafeMutablePointer<Grpc__Testing__SimpleRequest>, in arena: CArena) {
        c.pointee.response_type = responseType.c()
        c.pointee.response_size = responseSize
        c.pointee.payload = arena.message(payload)
        c.pointee.fill_username = fillUsername ? 1 : 0
        c.pointee.fill_oauth_scope = fillOauthScope ? 1 : 0
        c.pointee.response_compressed = arena.message(responseCompressed)
        c.pointee.response_status = arena.message(responseStatus)
        c.pointee.expect_compressed = arena.message(expectCompressed)
        c.pointee.fill_server_id = fillServerId ? 1 : 0
        c.pointee.fill_grpclb_route_type = fillGrpclbRouteType ? 1 : 0
    }
}

extension GRPCTesting.SimpleResponse: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Grpc__Testing__SimpleResponse>) {
        grpc__testing__simple_response__init(c)
    }

    init(c: Grpc__Testing__SimpleResponse) throws {
        self.init(
            payload: try GRPCTesting.Payload.decode(c.payload),
            username: try decodeString(c.username),
            oauthScope: try decodeString(c.oauth_scope),
            serverId: try decodeString(c.server_id),
            grpclbRouteType: GRPCTesting.GrpclbRouteType(c: c.grpclb_route_type),
            hostname: try decodeString(c.hostname)
        )
    }

    func fill(_ c: UnsafeMutablePointer<Grpc__Testing__SimpleResponse>, in arena: CArena) {
        c.pointee.payload = arena.message(payload)
        c.pointee.username = arena.string(username)
        c.pointee.oauth_scope = arena.string(oauthScope)
        c.pointee.server_id = arena.string(serverId)
        c.pointee.grpclb_route_type = grpclbRouteType.c()
        c.pointee.hostname = arena.string(hostname)
    }
}

extension GRPCTesting.StreamingInputCallRequest: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Grpc__Testing__StreamingInputCallRequest>) {
        grpc__testing__streaming_input_call_request__init(c)
    }

    init(c: Grpc__Testing__StreamingInputCallRequest) throws {
        self.init(
            payload: try GRPCTesting.Payload.decode(c.payload),
            expectCompressed: try GRPCTesting.BoolValue.decode(c.expect_compressed)
        )
    }

    func fill(_ c: UnsafeMutablePointer<Grpc__Testing__StreamingInputCallRequest>, in arena: CArena) {
        c.pointee.payload = arena.message(payload)
        c.pointee.expect_compressed = arena.message(expectCompressed)
    }
}

extension GRPCTesting.StreamingInputCallResponse: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Grpc__Testing__StreamingInputCallResponse>) {
        grpc__testing__streaming_input_call_response__init(c)
    }

    init(c: Grpc__Testing__StreamingInputCallResponse) throws {
        self.init(aggregatedPayloadSize: c.aggregated_payload_size)
    }

    func fill(_ c: UnsafeMutablePointer<Grpc__Testing__StreamingInputCallResponse>, in arena: CArena) {
        c.pointee.aggregated_payload_size = aggregatedPayloadSize
    }
}

extension GRPCTesting.ResponseParameters: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Grpc__Testing__ResponseParameters>) {
        grpc__testing__response_parameters__init(c)
    }

    init(c: Grpc__Testing__ResponseParameters) throws {
        self.init(
            size: c.size,
            intervalUs: c.interval_us,
            compressed: try GRPCTesting.BoolValue.decode(c.compressed)
        )
    }

    func fill(_ c: UnsafeMutablePointer<Grpc__Testing__ResponseParameters>, in arena: CArena) {
        c.pointee.size = size
        c.pointee.interval_us = intervalUs
        c.pointee.compressed = arena.message(compressed)
    }
}

extension GRPCTesting.StreamingOutputCallRequest: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Grpc__Testing__StreamingOutputCallRequest>) {
        grpc__testing__streaming_output_call_request__init(c)
    }

    init(c: Grpc__Testing__StreamingOutputCallRequest) throws {
        self.init(
            responseType: GRPCTesting.PayloadType(c: c.response_type),
            responseParameters: try GRPCTesting.ResponseParameters.decodeAll(
                c.response_parameters, count: c.n_response_parameters),
            payload: try GRPCTesting.Payload.decode(c.payload),
            responseStatus: try GRPCTesting.EchoStatus.decode(c.response_status)
        )
    }

    func fill(_ c: UnsafeMutablePointer<Grpc__Testing__StreamingOutputCallRequest>, in arena: CArena) {
        c.pointee.response_type = responseType.c()
        (c.pointee.n_response_parameters, c.pointee.response_parameters) = arena.messages(responseParameters)
        c.pointee.payload = arena.message(payload)
        c.pointee.response_status = arena.message(responseStatus)
    }
}

extension GRPCTesting.StreamingOutputCallResponse: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Grpc__Testing__StreamingOutputCallResponse>) {
        grpc__testing__streaming_output_call_response__init(c)
    }

    init(c: Grpc__Testing__StreamingOutputCallResponse) throws {
        self.init(payload: try GRPCTesting.Payload.decode(c.payload))
    }

    func fill(_ c: UnsafeMutablePointer<Grpc__Testing__StreamingOutputCallResponse>, in arena: CArena) {
        c.pointee.payload = arena.message(payload)
    }
}
