import ArgumentParser
import RaftNode

/// "host:port" or "[v6]:port" on the command line (port 0: the system picks one).
struct HostPort: ExpressibleByArgument, CustomStringConvertible {
    var host: String
    var port: Int

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    init?(argument: String) {
        guard let parsed = PeerAddress(argument, allowingPortZero: true) else { return nil }
        host = parsed.host
        port = parsed.port
    }

    var description: String { PeerAddress(host: host, port: port).description }
}
