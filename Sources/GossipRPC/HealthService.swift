import GossipWire
import Synchronization

/// `grpc.health.v1.Health`: serving status per service name ("" is the whole
/// server). Unknown names answer NOT_FOUND, as the health protocol specifies.
public final class HealthService: Sendable {
    public typealias Status = GRPCHealth.HealthCheckResponse.ServingStatus
    private let statuses = Mutex<[String: Status]>(["": .serving])

    public static let check = MethodDescriptor<GRPCHealth.HealthCheckRequest, GRPCHealth.HealthCheckResponse>(
        service: "grpc.health.v1.Health", method: "Check")

    public init() {}

    public func setStatus(_ status: Status, for service: String) {
        statuses.withLock { $0[service] = status }
    }

    public func status(for service: String) -> Status? {
        statuses.withLock { $0[service] }
    }

    public var service: Service {
        var service = Service(name: "grpc.health.v1.Health")
        service.unary("Check") { [self] (request: GRPCHealth.HealthCheckRequest, _) in
            guard let status = status(for: request.service) else {
                throw RPCError(.notFound, "unknown service \(request.service)")
            }
            return GRPCHealth.HealthCheckResponse(status: status)
        }
        return service
    }
}
