import ArgumentParser
import GossipRPC

@main
struct GossipFLCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gossipfl",
        abstract: "Gateway-discovered, Raft-coordinated GossipFL on a Swift gRPC runtime.",
        subcommands: [DemoCommand.self, GatewayCommand.self, RegisterCommand.self, GatewayBenchCommand.self, HealthCommand.self,
                      PeerCommand.self, RaftStatusCommand.self, ProposeCommand.self, RaftBenchCommand.self, CertsCommand.self,
                      TrainTraceCommand.self, TrainBenchCommand.self, SimulateCommand.self, TrainStatusCommand.self,
                      TestVectorsCommand.self])

    /// The default entry point, after lifting the open-file limit (servers and load generators
    /// hold many sockets; Debian's soft default is 1024).
    static func main() async {
        OpenFileLimit.raiseToHardLimit()
        do {
            var command = try parseAsRoot()
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
