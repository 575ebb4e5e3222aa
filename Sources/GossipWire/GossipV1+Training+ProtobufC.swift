internal import CProtos

// Field-by-field mapping between the training-command value types and protoc-c's structs.

extension GossipV1.TrainingConfig: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Gossip__V1__TrainingConfig>) { gossip__v1__training_config__init(c) }

    init(c: Gossip__V1__TrainingConfig) throws {
        self.init()
        runId = try decodeString(c.run_id)
        model = try decodeString(c.model)
        dataset = try decodeString(c.dataset)
        partition = try decodeString(c.partition)
        slots = c.slots
        seed = c.seed
        algorithm = try decodeString(c.algorithm)
        keepFraction = c.keep_fraction
        learningRate = c.learning_rate
        learningRateDecay = c.learning_rate_decay
        momentum = c.momentum
        weightDecay = c.weight_decay
        batchSize = c.batch_size
        roundsPerEpoch = c.rounds_per_epoch
        rounds = c.rounds
        bandwidthThreshold = c.bandwidth_threshold
        roundThreshold = c.round_threshold
        minParticipants = c.min_participants
        horizonRounds = c.horizon_rounds
    }

    func fill(_ c: UnsafeMutablePointer<Gossip__V1__TrainingConfig>, in arena: CArena) {
        c.pointee.run_id = arena.string(runId)
        c.pointee.model = arena.string(model)
        c.pointee.dataset = arena.string(dataset)
        c.pointee.partition = arena.string(partition)
        c.pointee.slots = slots
        c.pointee.seed = seed
        c.pointee.algorithm = arena.string(algorithm)
        c.pointee.keep_fraction = keepFraction
        c.pointee.learning_rate = learningRate
        c.pointee.learning_rate_decay = learningRateDecay
        c.pointee.momentum = momentum
        c.pointee.weight_decay = weightDecay
        c.pointee.batch_size = batchSize
        c.pointee.rounds_per_epoch = roundsPerEpoch
        c.pointee.rounds = rounds
        c.pointee.bandwidth_threshold = bandwidthThreshold
        c.pointee.round_threshold = roundThreshold
        c.pointee.min_participants = minParticipants
        c.pointee.horizon_rounds = horizonRounds
    }
}

extension GossipV1.Admission: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Gossip__V1__Admission>) { gossip__v1__admission__init(c) }

    init(c: Gossip__V1__Admission) throws {
        self.init(nodeId: try decodeString(c.node_id), fromRound: c.from_round, slot: c.slot, address: try decodeString(c.address))
    }

    func fill(_ c: UnsafeMutablePointer<Gossip__V1__Admission>, in arena: CArena) {
        c.pointee.node_id = arena.string(nodeId)
        c.pointee.from_round = fromRound
        c.pointee.slot = slot
        c.pointee.address = arena.string(address)
    }
}

extension GossipV1.FollowTrainingRequest: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Gossip__V1__FollowTrainingRequest>) { gossip__v1__follow_training_request__init(c) }

    init(c: Gossip__V1__FollowTrainingRequest) throws {
        self.init(followerId: try decodeString(c.follower_id))
    }

    func fill(_ c: UnsafeMutablePointer<Gossip__V1__FollowTrainingRequest>, in arena: CArena) {
        c.pointee.follower_id = arena.string(followerId)
    }
}

extension GossipV1.CommittedTraining: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Gossip__V1__CommittedTraining>) { gossip__v1__committed_training__init(c) }

    init(c: Gossip__V1__CommittedTraining) throws {
        self.init(index: c.index, command: try GossipV1.TrainingCommand.decode(c.command))
    }

    func fill(_ c: UnsafeMutablePointer<Gossip__V1__CommittedTraining>, in arena: CArena) {
        c.pointee.index = index
        c.pointee.command = arena.message(command)
    }
}

extension GossipV1.Retirement: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Gossip__V1__Retirement>) { gossip__v1__retirement__init(c) }

    init(c: Gossip__V1__Retirement) throws {
        self.init(nodeId: try decodeString(c.node_id), fromRound: c.from_round, reason: try decodeString(c.reason))
    }

    func fill(_ c: UnsafeMutablePointer<Gossip__V1__Retirement>, in arena: CArena) {
        c.pointee.node_id = arena.string(nodeId)
        c.pointee.from_round = fromRound
        c.pointee.reason = arena.string(reason)
    }
}

extension GossipV1.BandwidthMatrix: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Gossip__V1__BandwidthMatrix>) { gossip__v1__bandwidth_matrix__init(c) }

    init(c: Gossip__V1__BandwidthMatrix) throws {
        self.init(workers: try decodeStrings(c.workers, count: c.n_workers), mbps: decodeArray(c.mbps, count: c.n_mbps),
                  fromRound: c.from_round)
    }

    func fill(_ c: UnsafeMutablePointer<Gossip__V1__BandwidthMatrix>, in arena: CArena) {
        (c.pointee.n_workers, c.pointee.workers) = arena.strings(workers)
        arena.setRepeated(mbps, count: c.field(\.n_mbps), elements: c.field(\.mbps))
        c.pointee.from_round = fromRound
    }
}

extension GossipV1.ProgressReport: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Gossip__V1__ProgressReport>) { gossip__v1__progress_report__init(c) }

    init(c: Gossip__V1__ProgressReport) throws {
        self.init(nodeId: try decodeString(c.node_id), round: c.round, testAccuracy: c.test_accuracy)
    }

    func fill(_ c: UnsafeMutablePointer<Gossip__V1__ProgressReport>, in arena: CArena) {
        c.pointee.node_id = arena.string(nodeId)
        c.pointee.round = round
        c.pointee.test_accuracy = testAccuracy
    }
}

extension GossipV1.RoundHorizon: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Gossip__V1__RoundHorizon>) { gossip__v1__round_horizon__init(c) }

    init(c: Gossip__V1__RoundHorizon) throws { self.init(untilRound: c.until_round) }

    func fill(_ c: UnsafeMutablePointer<Gossip__V1__RoundHorizon>, in arena: CArena) { c.pointee.until_round = untilRound }
}

extension GossipV1.TrainingCommand: ProtobufCBacked {
    static func cInit(_ c: UnsafeMutablePointer<Gossip__V1__TrainingCommand>) { gossip__v1__training_command__init(c) }

    init(c: Gossip__V1__TrainingCommand) throws {
        self.init(
            configure: try GossipV1.TrainingConfig.decode(c.configure), admit: try GossipV1.Admission.decode(c.admit),
            retire: try GossipV1.Retirement.decode(c.retire), bandwidth: try GossipV1.BandwidthMatrix.decode(c.bandwidth),
            progress: try GossipV1.ProgressReport.decode(c.progress), horizon: try GossipV1.RoundHorizon.decode(c.horizon),
            report: try GossipV1.BandwidthReport.decode(c.report))
    }

    func fill(_ c: UnsafeMutablePointer<Gossip__V1__TrainingCommand>, in arena: CArena) {
        c.pointee.configure = arena.message(configure)
        c.pointee.admit = arena.message(admit)
        c.pointee.retire = arena.message(retire)
        c.pointee.bandwidth = arena.message(bandwidth)
        c.pointee.progress = arena.message(progress)
        c.pointee.horizon = arena.message(horizon)
        c.pointee.report = arena.message(report)
    }
}
