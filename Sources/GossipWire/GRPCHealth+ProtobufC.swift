internal import CProtos

// Field-by-field mapping between the GRPCHealth value types and protoc-c's structs.

extension GRPCHealth.HealthCheckRequest: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Grpc__Health__V1__HealthCheckRequest>) {
        grpc__health__v1__health_check_request__init(c)
    }

    init(c: Grpc__Health__V1__HealthCheckRequest) throws {
        self.init(service: try decodeString(c.service))
    }

    func fill(_ c: UnsafeMutablePointer<Grpc__Health__V1__HealthCheckRequest>, in arena: CArena) {
        c.pointee.service = arena.string(service)
    }
}

extension GRPCHealth.HealthCheckResponse.ServingStatus: OpenEnum {}

extension GRPCHealth.HealthCheckResponse: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Grpc__Health__V1__HealthCheckResponse>) {
        grpc__health__v1__health_check_response__init(c)
    }

    init(c: Grpc__Health__V1__HealthCheckResponse) throws {
        self.init(status: GRPCHealth.HealthCheckResponse.ServingStatus(c: c.status))
    }

    func fill(_ c: UnsafeMutablePointer<Grpc__Health__V1__HealthCheckResponse>, in arena: CArena) {
        c.pointee.status = status.c()
    }
}
