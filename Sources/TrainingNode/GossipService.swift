import GossipRPC
import GossipWire

/// What the gossip service asks of the training peer behind it.
public protocol GossipBackend: Sendable {
    func trainingStatus() async -> GossipV1.TrainingStatus
    /// The current model of `run`, or nil when this peer is not training it.
    func currentModel(run: String) async -> (values: [Float], round: UInt64, architecture: String)?
    /// This peer's half of the round the partner's `values` are for, answered before the
    /// caller's `deadline` (if it sent one); throws RPCError for the cases gossip.proto names
    /// (the model untouched).
    func exchange(_ values: GossipV1.ModelValues, deadline: ContinuousClock.Instant?) async throws -> GossipV1.ModelValues
    /// The committed training entries from position `position` of this member's history on, the
    /// position after them, and the history's generation (a snapshot restore starts a new one).
    func committedTraining(from position: Int) async -> (generation: Int, entries: [GossipV1.CommittedTraining], next: Int)
}

/// `gossip.v1.Gossip`: the handlers check who is calling (a peer speaks only as itself, as on
/// the Raft services) and bound what they accept, then hand over to the backend.
public enum GossipService {
    /// The largest probe answer (4 MiB), and the largest exchange (a whole CNN as float32 is 6.6 MB).
    public static let maxProbeReplyBytes = 4 << 20
    public static let maxExchangeBytes = 8 << 20
    /// How often a FollowTraining stream looks for newly applied entries.
    static let followPollInterval = Duration.milliseconds(20)

    public static func make(backend: some GossipBackend) -> Service {
        var service = Service(name: GossipMethods.service)
        service.unary("Exchange") { (request: GossipV1.ModelValues, context) in
            try context.authorize("exchange models as \(request.senderId)", asNode: request.senderId)
            return try await backend.exchange(request, deadline: context.deadline)
        }
        service.serverStreaming("FetchModel") { (request: GossipV1.FetchModelRequest, writer: ResponseWriter<GossipV1.ModelChunk>, context) in
            try context.authorize("fetch the model as \(request.requesterId)", asNode: request.requesterId)
            guard request.chunkValues <= UInt32(ModelTransfer.maxChunkValues) else {
                throw RPCError(.invalidArgument, "chunk_values \(request.chunkValues) is above \(ModelTransfer.maxChunkValues)")
            }
            guard let model = await backend.currentModel(run: request.runId) else {
                throw RPCError(.failedPrecondition, "not training run \(request.runId.debugDescription)")
            }
            for chunk in ModelTransfer.chunks(of: model.values, run: request.runId, round: model.round, architecture: model.architecture,
                                              chunkValues: Int(request.chunkValues)) {
                try await writer.send(chunk)
            }
        }
        service.unary("Probe") { (request: GossipV1.ProbeRequest, context) in
            try context.authorize("probe as \(request.senderId)", asNode: request.senderId)
            guard request.replyBytes <= UInt32(maxProbeReplyBytes) else {
                throw RPCError(.invalidArgument, "reply_bytes \(request.replyBytes) is above \(maxProbeReplyBytes)")
            }
            return GossipV1.ProbeResponse(payload: [UInt8](repeating: 0, count: Int(request.replyBytes)))
        }
        service.unary("Status") { (_: GossipV1.StatusRequest, _) in await backend.trainingStatus() }
        service.serverStreaming("FollowTraining") {
            (request: GossipV1.FollowTrainingRequest, writer: ResponseWriter<GossipV1.CommittedTraining>, context) in
            try context.authorize("follow training as \(request.followerId)", asNode: request.followerId)
            var position = 0
            var generation: Int?
            // Until the caller cancels (which cancels this task, and so the sleep).
            while true {
                let batch = await backend.committedTraining(from: position)
                if let generation, batch.generation != generation {
                    throw RPCError(.unavailable, "this member's training state was replaced by a snapshot: follow again")
                }
                generation = batch.generation
                for entry in batch.entries { try await writer.send(entry) }
                position = batch.next
                if batch.entries.isEmpty { try await Task.sleep(for: followPollInterval) }
            }
        }
        service.limitRequests(to: 16 << 10)
        service.limitRequests(of: "Exchange", to: maxExchangeBytes)
        service.limitRequests(of: "Probe", to: maxProbeReplyBytes + (16 << 10))
        return service
    }
}
