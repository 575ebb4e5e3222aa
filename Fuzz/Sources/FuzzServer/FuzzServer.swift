// Fuzz target: the server side of HTTP/2 + gRPC, end to end. One in-process
// `Server` (h2c, one event loop) serves a small grpc.testing.TestService and
// grpc.health.v1.Health. Each input is written, after the HTTP/2 client
// preface, to a fresh loopback connection, as a client would; we read what the
// server answers until it has been quiet for 1 ms, half-close, read until it
// closes (2 s at most), then close. A crash or trap in the server is a finding.
// After each input the server must drop the connection within 2 s (no fd
// leak); every 256 inputs a fresh connection checks the server still answers.
import FuzzDriver
import Foundation
import Glibc
import GossipRPC
import GossipWire

typealias T = GRPCTesting

/// Responses are capped so that no input makes the server build megabytes.
func payload(_ size: Int32) -> T.Payload {
    T.Payload(body: [UInt8](repeating: 0x5a, count: Int(min(max(size, 0), 2048))))
}

func status(_ echo: T.EchoStatus?) throws {
    if let echo, echo.code != 0 {
        throw RPCError(StatusCode(rawValue: Int(echo.code)), echo.message)
    }
}

func testService() -> Service {
    var service = Service(name: "grpc.testing.TestService")
    service.unary("EmptyCall") { (_: T.Empty, _) in T.Empty() }
    service.unary("UnaryCall") { (request: T.SimpleRequest, context) in
        context.setInitialMetadata(context.requestMetadata)
        try status(request.responseStatus)
        return T.SimpleResponse(payload: payload(request.responseSize), username: context.path)
    }
    service.unary("StrictCall", rejectingUnknownFields: true) { (request: T.SimpleRequest, _) in
        T.SimpleResponse(payload: request.payload)
    }
    service.serverStreaming("StreamingOutputCall") { (request: T.StreamingOutputCallRequest, writer, _) in
        for parameters in request.responseParameters.prefix(8) {
            try await writer.send(T.StreamingOutputCallResponse(payload: payload(parameters.size)))
        }
        try status(request.responseStatus)
    }
    service.clientStreaming("StreamingInputCall") { (requests: RequestStream<T.StreamingInputCallRequest>, _) in
        var total = 0
        for try await request in requests { total += request.payload?.body.count ?? 0 }
        return T.StreamingInputCallResponse(aggregatedPayloadSize: Int32(truncatingIfNeeded: total))
    }
    service.bidirectionalStreaming("FullDuplexCall") {
        (requests: RequestStream<T.StreamingOutputCallRequest>, writer, _) in
        for try await request in requests {
            try status(request.responseStatus)
            for parameters in request.responseParameters.prefix(4) {
                try await writer.send(T.StreamingOutputCallResponse(payload: payload(parameters.size)))
            }
        }
    }
    service.limitRequests(of: "StreamingInputCall", to: 4096)
    return service
}

let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
let emptySettings: [UInt8] = [0, 0, 0, 4, 0, 0, 0, 0, 0]

let server: Server = {
    var config = ServerConfig(host: "127.0.0.1", port: 0, maxReceiveMessageSize: 64 << 10)
    config.logger.logLevel = .critical
    config.handshakeTimeout = .seconds(5)
    let server = try! Server(config: config, services: [testService(), HealthService().service])
    try! server.start()
    return server
}()

nonisolated(unsafe) var connections = 0

/// Connects from a rotating source address in 127.1.0.0/16: the client closes first, so each
/// connection leaves a TIME_WAIT entry, and one source address has only ~28k ephemeral ports.
func connectToServer() -> CInt {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { fatalError("socket: \(String(cString: strerror(errno)))") }
    connections += 1
    var source = sockaddr_in()
    source.sin_family = sa_family_t(AF_INET)
    let n = UInt32(connections % (250 * 254))
    source.sin_addr.s_addr = (UInt32(127) << 24 | 1 << 16 | (n / 254) << 8 | (n % 254 + 1)).bigEndian
    var noPort: CInt = 1  // IP_BIND_ADDRESS_NO_PORT: pick the port at connect(), per destination
    setsockopt(fd, CInt(IPPROTO_IP), 24, &noPort, socklen_t(MemoryLayout<CInt>.size))
    let bound = withUnsafePointer(to: &source) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { fatalError("bind: \(String(cString: strerror(errno)))") }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(server.port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let rc = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    // ECONNREFUSED here means the server stopped listening: a finding.
    guard rc == 0 else { fatalError("connect to the server: \(String(cString: strerror(errno)))") }
    var one: CInt = 1
    setsockopt(fd, CInt(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<CInt>.size))
    var timeout = timeval(tv_sec: 2, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    return fd
}

/// Writes everything (false if the server closed or stopped reading first).
@discardableResult
func writeAll(_ fd: CInt, _ bytes: UnsafeRawBufferPointer) -> Bool {
    var offset = 0
    while offset < bytes.count {
        let n = send(fd, bytes.baseAddress! + offset, bytes.count - offset, CInt(MSG_NOSIGNAL))
        if n <= 0 { return false }
        offset += n
    }
    return true
}

nonisolated(unsafe) var scratch = [UInt8](repeating: 0, count: 64 << 10)

/// Reads until the server has been quiet for `quietMillis` (or closed). Returns false on EOF.
func drain(_ fd: CInt, quietMillis: CInt) -> Bool {
    while true {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        if poll(&pfd, 1, quietMillis) <= 0 { return true }
        let n = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { return false }
    }
}

/// Reads until EOF; false if the server kept the connection open for 2 s.
func readToEOF(_ fd: CInt) -> Bool {
    while true {
        let n = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n == 0 { return true }
        if n < 0 { return errno == ECONNRESET }
    }
}

// Only the fuzzing thread touches these.
nonisolated(unsafe) var inputs = 0
nonisolated(unsafe) var lingering = 0
/// FUZZ_SERVER_SETTLE_MS: extra wait after each input (to tell slow frees from leaks).
let settleMicros = UInt32(ProcessInfo.processInfo.environment["FUZZ_SERVER_SETTLE_MS"].flatMap { UInt32($0) } ?? 0) * 1000

/// FUZZ_SERVER_LINGER_DIR: where inputs after which the server kept the connection open are saved.
let lingerDirectory = ProcessInfo.processInfo.environment["FUZZ_SERVER_LINGER_DIR"]

func saveLingering(_ input: UnsafeRawBufferPointer) {
    guard let lingerDirectory else { return }
    let path = "\(lingerDirectory)/linger-\(getpid())-\(inputs)"
    _ = FileManager.default.createFile(atPath: path, contents: Data(input))
}

/// The server must still answer a well-behaved client with its SETTINGS.
func checkServerHealthy() {
    let fd = connectToServer()
    defer { close(fd) }
    (preface + emptySettings).withUnsafeBytes { _ = writeAll(fd, $0) }
    var header = [UInt8](repeating: 0, count: 9)
    let n = recv(fd, &header, 9, CInt(MSG_WAITALL))
    guard n == 9, header[3] == 4 else {
        fatalError("server stopped answering: read \(n) bytes \(header) after \(inputs) inputs")
    }
}

/// Connections are closed asynchronously; give the loop up to 2 s, then insist.
func waitForNoConnection() {
    for _ in 0..<20_000 where server.connectionCount > 0 { usleep(100) }
    guard server.connectionCount == 0 else {
        fatalError("\(server.connectionCount) server connections still open 2 s after the client closed")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let fd = connectToServer()
    var open = preface.withUnsafeBytes { writeAll(fd, $0) }
    if open, let start { open = writeAll(fd, UnsafeRawBufferPointer(start: start, count: count)) }
    if open { open = drain(fd, quietMillis: 1) }
    if open {
        shutdown(fd, CInt(SHUT_WR))
        if !readToEOF(fd) {
            lingering += 1
            saveLingering(UnsafeRawBufferPointer(start: start, count: start == nil ? 0 : count))
        }
    }
    close(fd)
    inputs += 1
    // Wait for the server to tear the connection down, so that what it allocated
    // for this input is freed before libFuzzer's leak check runs.
    waitForNoConnection()
    if settleMicros > 0 { usleep(settleMicros) }
    if inputs % 256 == 0 { checkServerHealthy() }
    return 0
}

@_cdecl("FuzzServer_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    _ = server.port
    atexit {
        if lingering > 0 {
            let text = "FuzzServer: \(lingering) of \(inputs) connections stayed open 2 s after the client half-closed\n"
            _ = text.withCString { write(2, $0, strlen($0)) }
        }
    }
    return runFuzzerDriver(argc, argv, fuzz)
}
