import GossipRPC

/// The gRPC status `body` fails with (nil when it succeeds, UNKNOWN for an error that is not an RPCError).
func statusCode(_ body: () async throws -> Void) async -> StatusCode? {
    do {
        try await body()
        return nil
    } catch let error as RPCError {
        return error.code
    } catch {
        return .unknown
    }
}
