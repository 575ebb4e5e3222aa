import Glibc

/// Replaces a file so that a crash leaves either the old or the new content:
/// write a temporary file beside it, fsync it, rename it over, fsync the directory.
public enum AtomicFile {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// `permissions` apply to the new file (0600 for private keys).
    public static func write(_ bytes: some Collection<UInt8>, to path: String, permissions: mode_t = 0o644) throws(Failure) {
        let directory = parentDirectory(of: path)
        try makeDirectories(directory)
        let temporary = path + ".tmp"
        unlink(temporary)  // a stale temporary could carry wider permissions
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, permissions)
        guard fd >= 0 else { throw failure("open \(temporary)") }
        let content = Array(bytes)
        var written = 0
        var error: Failure?
        content.withUnsafeBytes { raw in
            while written < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + written, raw.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    error = failure("write \(temporary)")
                    return
                }
                written += n
            }
        }
        if error == nil, fsync(fd) != 0 { error = failure("fsync \(temporary)") }
        close(fd)
        if let error {
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let error = failure("rename \(temporary) to \(path)")
            unlink(temporary)
            throw error
        }
        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            fsync(directoryFD)
            close(directoryFD)
        }
    }

    /// The whole file, or nil when it does not exist; throws on other errors.
    public static func read(_ path: String) throws(Failure) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw failure("open \(path)")
        }
        defer { close(fd) }
        var content: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw failure("read \(path)")
            }
            if n == 0 { return content }
            content.append(contentsOf: chunk[0..<n])
        }
    }

    public static func makeDirectories(_ path: String) throws(Failure) {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o755) != 0 && errno != EEXIST { throw failure("mkdir \(current)") }
        }
    }

    static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    private static func failure(_ step: String) -> Failure {
        Failure(description: "\(step): \(String(cString: strerror(errno)))")
    }
}
