import ArgumentParser
import Durable
import Foundation
import GossipRPC

/// `gossipfl certs`: a cluster CA and the certificates it issues, so nobody needs an openssl recipe.
struct CertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certs",
        abstract: "Create the cluster CA and node, admin or gateway certificates (PEM files in --dir).",
        discussion: """
        gossipfl certs init --dir certs                       # certs/ca.pem, certs/ca-key.pem
        gossipfl certs node --dir certs --id n1 [--host 10.0.0.5,peer1.example]
        gossipfl certs admin --dir certs --name alice
        gossipfl certs gateway --dir certs --name gw [--host ...]
        Each issues NAME.pem and NAME-key.pem (mode 0600). A certificate names its holder
        (subjectAltName URI gossipfl:ROLE/NAME): peers accept a message from node n1 only over a
        connection whose certificate says node n1. 127.0.0.1 and localhost are always included as hosts.
        """,
        subcommands: [Init.self, NodeCert.self, AdminCert.self, GatewayCert.self])

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "init", abstract: "Create the cluster CA.")
        @Option(help: "Directory for the files.") var dir: String
        @Option(help: "The CA's name.") var name = "gossipfl cluster CA"
        @Option(help: "Validity in days.") var days = 3650
        @Flag(help: "Replace an existing CA (every certificate it issued stops being trusted).") var force = false

        func run() throws {
            let certPath = dir + "/ca.pem", keyPath = dir + "/ca-key.pem"
            if !force, FileManager.default.fileExists(atPath: keyPath) {
                throw ValidationError("\(keyPath) exists; pass --force to replace the cluster CA")
            }
            let authority = try ClusterCertificates.makeAuthority(name: name, days: days)
            try write(authority, certificate: certPath, key: keyPath)
            print("wrote \(certPath) and \(keyPath)")
        }
    }

    struct Leaf: ParsableArguments {
        @Option(help: "Directory holding ca.pem and ca-key.pem; the new files go there too.") var dir: String
        @Option(help: "Extra hosts (DNS names or IPs, comma-separated) the holder serves on.") var host = ""
        @Option(help: "Validity in days.") var days = 825
    }

    struct NodeCert: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "node", abstract: "A training peer's certificate.")
        @Option(help: "The node ID (as given to `gossipfl peer --id`).") var id: String
        @OptionGroup var leaf: Leaf
        func run() throws { try issue(.node(id), leaf) }
    }

    struct AdminCert: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "admin", abstract: "An operator's certificate (Join, Leave, Propose).")
        @Option(help: "The operator's name.") var name: String
        @OptionGroup var leaf: Leaf
        func run() throws { try issue(PeerIdentity(role: .admin, name: name), leaf) }
    }

    struct GatewayCert: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "gateway", abstract: "The discovery gateway's certificate.")
        @Option(help: "The gateway's name.") var name = "gateway"
        @OptionGroup var leaf: Leaf
        func run() throws { try issue(PeerIdentity(role: .gateway, name: name), leaf) }
    }
}

/// Shared by the three leaf kinds.
private func issue(_ identity: PeerIdentity, _ leaf: CertsCommand.Leaf) throws {
    let dir = leaf.dir
    let ca = dir + "/ca.pem", caKey = dir + "/ca-key.pem"
    guard let caText = try? String(contentsOfFile: ca, encoding: .utf8),
          let caKeyText = try? String(contentsOfFile: caKey, encoding: .utf8) else {
        throw ValidationError("cannot read \(ca) and \(caKey); run `gossipfl certs init --dir \(dir)` first")
    }
    var hosts = ["127.0.0.1", "localhost"]
    for host in leaf.host.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !hosts.contains(host) {
        hosts.append(host)
    }
    let issued = try ClusterCertificates.issue(identity, hosts: hosts, days: leaf.days,
                                               authority: IssuedCertificate(certificatePEM: caText, privateKeyPEM: caKeyText))
    let certPath = "\(dir)/\(identity.name).pem", keyPath = "\(dir)/\(identity.name)-key.pem"
    try write(issued, certificate: certPath, key: keyPath)
    print("wrote \(certPath) and \(keyPath) for \(identity)")
}

private func write(_ issued: IssuedCertificate, certificate: String, key: String) throws {
    do {
        try AtomicFile.write(Array(issued.privateKeyPEM.utf8), to: key, permissions: 0o600)
        try AtomicFile.write(Array(issued.certificatePEM.utf8), to: certificate)
    } catch {
        throw ValidationError("cannot write the certificate files: \(error)")
    }
}
