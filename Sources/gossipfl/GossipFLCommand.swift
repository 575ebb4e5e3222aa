import ArgumentParser

@main
struct GossipFLCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gossipfl",
        abstract: "Gateway-discovered, Raft-coordinated GossipFL on a Swift gRPC runtime.",
        subcommands: [DemoCommand.self, GatewayCommand.self, RegisterCommand.self, GatewayBenchCommand.self, HealthCommand.self,
                      PeerCommand.self, RaftStatusCommand.self, ProposeCommand.self, RaftBenchCommand.self])
}
