internal import CProtos

// Field-by-field mapping between the GossipV1 value types and protoc-c's structs.

extension GossipV1.ValueEncoding: OpenEnum {}

extension GossipV1.ModelValues: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Gossip__V1__ModelValues>) { gossip__v1__model_values__init(c) }

    init(c: Gossip__V1__ModelValues) throws {
        self.init(
            runId: try decodeString(c.run_id), round: c.round, senderId: try decodeString(c.sender_id),
            encoding: GossipV1.ValueEncoding(c: c.encoding), values: decodeWireBytes(c.values),
            scales: decodeArray(c.scales, count: c.n_scales), blockLengths: decodeArray(c.block_lengths, count: c.n_block_lengths))
    }

    func fill(_ c: UnsafeMutablePointer<Gossip__V1__ModelValues>, in arena: CArena) {
        c.pointee.run_id = arena.string(runId)
        c.pointee.round = round
        c.pointee.sender_id = arena.string(senderId)
        c.pointee.encoding = encoding.c()
        arena.setBytes(values, c.field(\.values))
        arena.setRepeated(scales, count: c.field(\.n_scales), elements: c.field(\.scales))
        arena.setRepeated(blockLengths, count: c.field(\.n_block_lengths), elements: c.field(\.block_lengths))
    }
}

extension GossipV1.FetchModelRequest: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Gossip__V1__FetchModelRequest>) { gossip__v1__fetch_model_request__init(c) }

    init(c: Gossip__V1__FetchModelRequest) throws {
        self.init(runId: try decodeString(c.run_id), requesterId: try decodeString(c.requester_id), chunkValues: c.chunk_values)
    }

    func fill(_ c: UnsafeMutablePointer<Gossip__V1__FetchModelRequest>, in arena: CArena) {
        c.pointee.run_id = arena.string(runId)
        c.pointee.requester_id = arena.string(requesterId)
        c.pointee.chunk_values = chunkValues
    }
}

extension GossipV1.ModelChunk: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Gossip__V1__ModelChunk>) { gossip__v1__model_chunk__init(c) }

    init(c: Gossip__V1__ModelChunk) throws {
        self.init(
            runId: try decodeString(c.run_id), round: c.round, architecture: try decodeString(c.architecture),
            totalValues: c.total_values, offset: c.offset, values: decodeWireBytes(c.values), crc32c: c.crc32c)
    }

    func fill(_ c: UnsafeMutablePointer<Gossip__V1__ModelChunk>, in arena: CArena) {
        c.pointee.run_id = arena.string(runId)
        c.pointee.round = round
        c.pointee.architecture = arena.string(architecture)
        c.pointee.total_values = totalValues
        c.pointee.offset = offset
        arena.setBytes(values, c.field(\.values))
        c.pointee.crc32c = crc32c
    }
}

extension GossipV1.ProbeRequest: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Gossip__V1__ProbeRequest>) { gossip__v1__probe_request__init(c) }

    init(c: Gossip__V1__ProbeRequest) throws {
        self.init(senderId: try decodeString(c.sender_id), payload: decodeBytes(c.payload), replyBytes: c.reply_bytes)
    }

    func fill(_ c: UnsafeMutablePointer<Gossip__V1__ProbeRequest>, in arena: CArena) {
        c.pointee.sender_id = arena.string(senderId)
        arena.setBytes(payload, c.field(\.payload))
        c.pointee.reply_bytes = replyBytes
    }
}

extension GossipV1.ProbeResponse: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Gossip__V1__ProbeResponse>) { gossip__v1__probe_response__init(c) }

    init(c: Gossip__V1__ProbeResponse) { self.init(payload: decodeBytes(c.payload)) }

    func fill(_ c: UnsafeMutablePointer<Gossip__V1__ProbeResponse>, in arena: CArena) {
        arena.setBytes(payload, c.field(\.payload))
    }
}

extension GossipV1.BandwidthReport: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Gossip__V1__BandwidthReport>) {
        gossip__v1__bandwidth_report__init(c)
    }

    init(c: Gossip__V1__BandwidthReport) throws {
        self.init(
            reporterId: try decodeString(c.reporter_id),
            mbpsToPeer: try Self.decodeMbpsToPeer(c.mbps_to_peer, count: c.n_mbps_to_peer)
        )
    }

    func fill(_ c: UnsafeMutablePointer<Gossip__V1__BandwidthReport>, in arena: CArena) {
        c.pointee.reporter_id = arena.string(reporterId)
        (c.pointee.n_mbps_to_peer, c.pointee.mbps_to_peer) = arena.messages(Self.mbpsToPeerEntries(mbpsToPeer))
    }
}

extension GossipV1.BandwidthReport {
    /// One `mbps_to_peer` entry: to protobuf-c a map is a repeated entry message.
    struct MbpsToPeerEntry: ProtobufCBacked {
        var key: String
        var value: Double

        static func cInit(_ c: UnsafeMutablePointer<Gossip__V1__BandwidthReport__MbpsToPeerEntry>) {
            gossip__v1__bandwidth_report__mbps_to_peer_entry__init(c)
        }

        init(key: String, value: Double) {
            self.key = key
            self.value = value
        }

        init(c: Gossip__V1__BandwidthReport__MbpsToPeerEntry) throws {
            self.init(key: try decodeString(c.key), value: c.value)
        }

        func fill(_ c: UnsafeMutablePointer<Gossip__V1__BandwidthReport__MbpsToPeerEntry>, in arena: CArena) {
            c.pointee.key = arena.string(key)
            c.pointee.value = value
        }
    }

    /// Entries sorted by key (UTF-8 bytes) so the encoding is deterministic.
    static func mbpsToPeerEntries(_ map: [String: Double]) -> [MbpsToPeerEntry] {
        map.map { MbpsToPeerEntry(key: $0.key, value: $0.value) }
            .sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
    }

    /// A key repeated on the wire keeps its last value, as in other runtimes.
    static func decodeMbpsToPeer(
        _ c: UnsafePointer<UnsafeMutablePointer<Gossip__V1__BandwidthReport__MbpsToPeerEntry>?>?, count: Int
    ) throws -> [String: Double] {
        let entries = try MbpsToPeerEntry.decodeAll(c, count: count)
        return Dictionary(entries.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
    }
}

extension GossipV1.StatusRequest: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Gossip__V1__StatusRequest>) { gossip__v1__status_request__init(c) }

    init(c: Gossip__V1__StatusRequest) {}

    func fill(_ c: UnsafeMutablePointer<Gossip__V1__StatusRequest>, in arena: CArena) {}
}

extension GossipV1.TrainingStatus: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Gossip__V1__TrainingStatus>) { gossip__v1__training_status__init(c) }

    init(c: Gossip__V1__TrainingStatus) throws {
        self.init(
            nodeId: try decodeString(c.node_id), runId: try decodeString(c.run_id), round: c.round, epoch: c.epoch,
            training: c.training != 0, partnerId: try decodeString(c.partner_id), testAccuracy: c.test_accuracy,
            evaluatedRound: c.evaluated_round, megabytesSent: c.megabytes_sent, exchanges: c.exchanges,
            missedExchanges: c.missed_exchanges, linkPeers: try decodeStrings(c.link_peers, count: c.n_link_peers),
            linkMbps: decodeArray(c.link_mbps, count: c.n_link_mbps))
    }

    func fill(_ c: UnsafeMutablePointer<Gossip__V1__TrainingStatus>, in arena: CArena) {
        c.pointee.node_id = arena.string(nodeId)
        c.pointee.run_id = arena.string(runId)
        c.pointee.round = round
        c.pointee.epoch = epoch
        c.pointee.training = training ? 1 : 0
        c.pointee.partner_id = arena.string(partnerId)
        c.pointee.test_accuracy = testAccuracy
        c.pointee.evaluated_round = evaluatedRound
        c.pointee.megabytes_sent = megabytesSent
        c.pointee.exchanges = exchanges
        c.pointee.missed_exchanges = missedExchanges
        (c.pointee.n_link_peers, c.pointee.link_peers) = arena.strings(linkPeers)
        arena.setRepeated(linkMbps, count: c.field(\.n_link_mbps), elements: c.field(\.link_mbps))
    }
}
