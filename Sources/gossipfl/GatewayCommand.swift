import ArgumentParser
import Discovery
import Foundation
import Gateway
import GossipRPC

/// Runs the discovery gateway until SIGTERM/SIGINT.
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Run the discovery gateway (gateway.v1.Gateway and the Python-compatible GatewayService).")

    @Option(help: "Address to serve on (HOST:PORT; port 0 picks one).") var listen = HostPort(argument: "127.0.0.1:7000")!
    @Option(name: .customLong("data-dir"), help: "Directory for registry.json (the snapshot restored on restart).")
    var dataDir: String?
    @Option(name: .customLong("compat-listen"), help: "Extra listener for the Python nodes' GatewayService (e.g. 0.0.0.0:8090).")
    var compatListen: HostPort?
    @Option(name: .customLong("lease-seconds"), help: "A node silent for this long drops out.") var leaseSeconds = 30.0
    @OptionGroup var tls: TLSOptions

    func validate() throws {
        guard leaseSeconds > 0 else { throw ValidationError("--lease-seconds must be positive") }
    }

    func run() async throws {
        tls.warnIfExposed(listening: listen.host)
        let config = GatewayConfig(
            host: listen.host, port: listen.port, compatListen: compatListen.map { ($0.host, $0.port) },
            dataDirectory: dataDir, registry: RegistryConfig(leaseSeconds: leaseSeconds), tls: tls.cluster)
        let gateway = try GatewayServer(config: config)
        let termination = TerminationSignal()
        try gateway.start()
        var ready = "listening on \(HostPort(host: listen.host, port: gateway.port))\n"
        if let compatListen, let port = gateway.compatPort {
            ready += "compat listening on \(compatListen.host):\(port)\n"
        }
        FileHandle.standardOutput.write(Data(ready.utf8))
        await termination.wait()
        await gateway.shutdown()
    }
}
