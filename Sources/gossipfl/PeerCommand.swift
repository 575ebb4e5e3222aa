import ArgumentParser
import Consensus
import DiscoveryClient
import Foundation
import GossipRPC
import Learning
import Logging
import RaftNode
import TrainingNode

/// Runs one training peer's Raft node until SIGTERM/SIGINT.
struct PeerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peer",
        abstract: "Run a Raft peer (raft.v1.Raft and raft.v1.Cluster), discovered through a gateway or given peers.",
        discussion: """
        A node with state in --data-dir resumes it and never bootstraps or joins again. A new node
        asks the gateway (--gateway): it bootstraps a single-node cluster if told to, else joins
        through the leader hint and the peers it was given. Without a gateway, --bootstrap founds a
        cluster and --join lists members to join through.
        """)

    @Option(help: "This node's ID (1-128 of [A-Za-z0-9._:-]).") var id: String
    @Option(help: "Address to serve raft.v1 on (HOST:PORT; port 0 picks one).") var listen: HostPort
    @Option(name: .customLong("advertise-host"), help: "Host peers dial (default: the listen host).") var advertiseHost: String?
    @Option(name: .customLong("data-dir"), help: "Directory for the WAL, snapshots and the discovery cache.") var dataDir: String
    @Option(help: "The discovery gateway (HOST:PORT).") var gateway: HostPort?
    @Flag(help: "Found a new single-node cluster (no gateway).") var bootstrap = false
    @Option(help: "Members to join through, comma-separated HOST:PORT (no gateway).") var join: String?
    @Option(name: .customLong("tick-ms"), help: "Raft tick interval.") var tickMs = 20
    @Option(name: .customLong("election-ticks"), help: "Election timeout in ticks (randomised up to twice that).")
    var electionTicks = 10
    @Option(name: .customLong("heartbeat-ticks")) var heartbeatTicks = 2
    @Option(name: .customLong("join-timeout-s"), help: "Give up joining after this long.") var joinTimeoutSeconds = 60.0
    @Option(name: .customLong("max-request-bytes"),
            help: "Largest proposal accepted; bigger ones get RESOURCE_EXHAUSTED (etcd's default: 1.5 MiB).")
    var maxRequestBytes = RaftNodeOptions().maxRequestBytes
    @Option(name: .customLong("max-voters"), help: "Voters at most; further members stay learners (non-voting).")
    var maxVoters = 5
    @OptionGroup var tls: TLSOptions
    @OptionGroup(title: "Training") var training: PeerTrainingOptions

    func validate() throws {
        guard tickMs > 0, heartbeatTicks >= 1, electionTicks > heartbeatTicks else {
            throw ValidationError("need --tick-ms > 0 and --election-ticks > --heartbeat-ticks >= 1")
        }
        guard !(bootstrap && join != nil) else { throw ValidationError("--bootstrap and --join exclude each other") }
        guard training.train || !training.logOnly else { throw ValidationError("--log-only goes with --train") }
        guard (1...(256 << 20)).contains(maxRequestBytes) else { throw ValidationError("--max-request-bytes must be in 1...268435456") }
        guard maxVoters >= 1 else { throw ValidationError("--max-voters must be at least 1") }
    }

    func run() async throws {
        guard training.train else {
            try await serve(machine: RecordLog(), services: [], servicesReceiveLimit: 0) { _ in nil }
            return
        }
        let data: DatasetDirectory
        do { data = try DatasetDirectory(path: training.datasetDir) } catch { throw ValidationError("--dataset-dir: \(error)") }
        var options = try training.peerOptions(dataDir: dataDir, trainingSamples: data.train.count)
        options.tls = tls.cluster
        GEMMThreads.set(1)
        let trainer = TrainingPeer(id: id, data: data, options: options)
        let me = id
        let logOnly = training.logOnly
        try await serve(machine: TrainingMachine(), services: [GossipService.make(backend: trainer)],
                        servicesReceiveLimit: GossipService.maxExchangeBytes + (64 << 10)) { peer in
            trainer.bind(node: peer.node)
            if logOnly { return nil }
            return (Task {
                do {
                    try await trainer.run()
                } catch {
                    // Not a crash: the reason, and EX_CONFIG (78) so a supervisor does not loop on it.
                    FileHandle.standardError.write(Data("training peer \(me) cannot train: \(error)\n".utf8))
                    Foundation.exit(78)
                }
            }, trainer.stop)
        }
    }

    /// Starts the Raft peer with `machine`, then `attach` (training, when asked), and runs
    /// until SIGTERM/SIGINT; the attached work is stopped and awaited before Raft shuts down.
    private func serve<Machine: StateMachine>(machine: Machine, services: [Service], servicesReceiveLimit: Int,
                                              attach: (RaftPeer<Machine>) -> (task: Task<Void, Never>, stop: @Sendable () -> Void)?)
        async throws {
        var logger = Logger(label: "gossipfl.peer")
        logger.logLevel = .info
        tls.warnIfExposed(listening: listen.host)
        var options = RaftNodeOptions(tickInterval: .milliseconds(tickMs), electionTicks: electionTicks, heartbeatTicks: heartbeatTicks)
        options.maxRequestBytes = maxRequestBytes
        options.maxVoters = maxVoters
        let termination = TerminationSignal()
        let discovery = DiscoverySlot()
        let staticJoin = (join ?? "").split(separator: ",").map(String.init).filter { !$0.isEmpty }
        let peer: RaftPeer<Machine>
        do {
            peer = try await start(machine: machine, services: services, servicesReceiveLimit: servicesReceiveLimit, options: options,
                                   discovery: discovery,
                                   staticJoin: staticJoin, logger: logger)
        } catch let error as UnusableState {
            // Not a crash: a clear line and EX_CONFIG (78), which supervisors can be told not to restart on.
            FileHandle.standardError.write(Data("raft peer \(id) cannot start: \(error)\n".utf8))
            throw ExitCode(78)
        }
        let me = id
        await peer.node.observeFailure { error in
            // Fail-stop: a supervisor restarts the process, which recovers from what is on disk.
            FileHandle.standardError.write(Data("raft peer \(me) stopped: \(error)\n".utf8))
            Foundation.exit(1)
        }
        let client = discovery.client
        client?.start()
        let roleLog = logger
        await peer.node.observeSoftState { state, config in
            roleLog.info("term \(state.term): \(state.role), leader \(state.leader ?? "unknown"), \(config.voters.count) voters, \(config.learners.count) learners")
            guard let client, state.leader == me else { return }
            let members = config.members.sorted().compactMap { member -> (nodeID: String, host: String, port: Int)? in
                guard let address = config.addresses[member].flatMap(PeerAddress.init) else { return nil }
                return (member, address.host, address.port)
            }
            client.report(PendingReport(leaderID: me, term: state.term, members: members))
        }
        let how = peer.restored ? "resumed" : (await peer.node.clusterConfig.voters == [id] ? "bootstrapped" : "joined")
        // The ready line comes last: a joiner prints it once a leader accepted it.
        let attached = attach(peer)
        FileHandle.standardOutput.write(Data("raft peer \(id) \(how)\nlistening on \(peer.address)\n".utf8))
        await termination.wait()
        if let attached {
            attached.stop()
            await attached.task.value
        }
        await discovery.client?.stop()
        await peer.shutdown()
    }

    private func start<Machine: StateMachine>(machine: Machine, services: [Service], servicesReceiveLimit: Int, options: RaftNodeOptions,
                                              discovery: DiscoverySlot,
                                              staticJoin: [String], logger: Logger) async throws -> RaftPeer<Machine> {
        try await RaftPeer.start(
            id: id, host: listen.host, port: listen.port, advertiseHost: advertiseHost, dataDirectory: dataDir,
            machine: machine, options: options, tls: tls.cluster, joinDeadline: .seconds(joinTimeoutSeconds), services: services,
            servicesReceiveLimit: servicesReceiveLimit,
            logger: logger
        ) { address, restored in
            guard let gateway else {
                return bootstrap ? .bootstrap : staticJoin.isEmpty ? .resume : .join(staticJoin)
            }
            let client = try makeDiscoveryClient(gateway: gateway, address: address)
            discovery.client = client
            if restored { return .resume }
            return try await askGateway(client, fallback: staticJoin, logger: logger)
        }
    }

    private func makeDiscoveryClient(gateway: HostPort, address: String) throws -> DiscoveryClient {
        guard let me = PeerAddress(address) else { throw ValidationError("bad advertised address \(address)") }
        let config = DiscoveryClientConfig(heartbeatInterval: .seconds(5), callTimeout: .seconds(2),
                                           cacheDirectory: dataDir + "/discovery", tls: tls.cluster)
        let log = Logger(label: "gossipfl.discovery")
        return try DiscoveryClient(gatewayHost: gateway.host, gatewayPort: gateway.port,
                                   identity: DiscoveryIdentity(nodeID: id, host: me.host, port: me.port, capabilities: ["raft"]),
                                   config: config) { event in
            // Refused reports would otherwise go unnoticed: the gateway's leader hint then goes stale.
            if case .reported(false, let reason) = event { log.warning("membership report refused: \(reason)") }
        }
    }

    /// A newcomer needs one answer: bootstrap, or whom to join. Retries while the gateway is
    /// down; after a while falls back to the cached answer or the --join list.
    private func askGateway<Machine>(_ client: DiscoveryClient, fallback: [String], logger: Logger) async throws -> RaftPeer<Machine>.Start {
        let clock = ContinuousClock()
        let giveUp = clock.now + .seconds(joinTimeoutSeconds)
        var delay = Duration.milliseconds(100)
        while true {
            do {
                let answer = try await client.registerOnce()
                if answer.bootstrap { return .bootstrap }
                return .join(candidates(from: answer) + fallback)
            } catch {
                if let cached = client.latest, !cached.bootstrap, clock.now + delay > giveUp {
                    return .join(candidates(from: cached) + fallback)
                }
                if !fallback.isEmpty, clock.now + delay > giveUp { return .join(fallback) }
                guard clock.now < giveUp else { throw error }
                logger.warning("gateway unreachable (\(error)); retrying in \(delay)")
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(2))
            }
        }
    }

    private func candidates(from answer: DiscoveryResult) -> [String] {
        var list: [String] = []
        if let leader = answer.leader, let host = leader.host, let port = leader.port, leader.nodeID != id {
            list.append(PeerAddress(host: host, port: port).description)
        }
        list += answer.peers.filter { $0.nodeID != id }.map { PeerAddress(host: $0.host, port: $0.port).description }
        return list
    }
}

/// The discovery client, created inside the start decision and used after it.
private final class DiscoverySlot: @unchecked Sendable {
    // Written once inside `decide`, which `RaftPeer.start` awaits before anything reads it.
    var client: DiscoveryClient?
}
