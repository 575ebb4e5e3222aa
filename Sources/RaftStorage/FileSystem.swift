import Glibc

/// The system calls storage makes, each turning failure into an error that names the
/// operation, the path and strerror's text.
enum FileSystem {
    static func failure(_ operation: String, _ path: String, code: Int32 = errno) -> RaftStorageError {
        .io(operation: operation, path: path, reason: String(cString: strerror(code)))
    }

    /// Opens an existing segment for appending.
    static func openForAppend(_ path: String) throws(RaftStorageError) -> OpenFile {
        let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard fd >= 0 else { throw failure("open", path) }
        return OpenFile(fd: fd, path: path)
    }

    /// Creates a file that must not exist yet, for appending.
    static func createForAppend(_ path: String) throws(RaftStorageError) -> OpenFile {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure("create", path) }
        return OpenFile(fd: fd, path: path)
    }

    /// Deletes a file; one that is already gone is fine.
    static func remove(_ path: String) throws(RaftStorageError) {
        guard unlink(path) == 0 || errno == ENOENT else { throw failure("unlink", path) }
    }

    static func isDirectory(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFDIR
    }

    /// Makes creations, renames and deletions in a directory durable.
    static func syncDirectory(_ path: String) throws(RaftStorageError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("open directory", path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw failure("fsync directory", path) }
    }

    static func listDirectory(_ path: String) throws(RaftStorageError) -> [String] {
        guard let directory = opendir(path) else { throw failure("opendir", path) }
        defer { closedir(directory) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(directory) else {
                if errno != 0 { throw failure("readdir", path) }
                return names
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
    }

    /// Takes an exclusive lock on `directory/LOCK` for as long as the returned file is open,
    /// so two processes (or two instances) never write the same log.
    static func lockDirectory(_ directory: String) throws(RaftStorageError) -> OpenFile {
        let path = directory + "/LOCK"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure("open", path) }
        let file = OpenFile(fd: fd, path: path)
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            if errno == EWOULDBLOCK { throw .directoryInUse(path: directory) }
            throw failure("flock", path)
        }
        return file
    }
}

/// An open file descriptor, closed when the last reference goes away.
final class OpenFile {
    let fd: Int32
    let path: String

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { close(fd) }

    /// Writes all of `bytes` (retrying short writes and interruptions) in as few calls as the kernel allows.
    func writeAll(_ bytes: [UInt8]) throws(RaftStorageError) {
        let result: Result<Void, RaftStorageError> = bytes.withUnsafeBytes { raw in
            var written = 0
            while written < raw.count {
                let n = write(fd, raw.baseAddress! + written, raw.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    return .failure(FileSystem.failure("write", path))
                }
                written += n
            }
            return .success(())
        }
        try result.get()
    }

    /// fdatasync: the data and the file size, without unrelated metadata such as times.
    func syncData() throws(RaftStorageError) {
        guard fdatasync(fd) == 0 else { throw FileSystem.failure("fdatasync", path) }
    }

    func truncate(to length: Int) throws(RaftStorageError) {
        guard ftruncate(fd, off_t(length)) == 0 else { throw FileSystem.failure("ftruncate", path) }
        guard fsync(fd) == 0 else { throw FileSystem.failure("fsync", path) }
    }
}
