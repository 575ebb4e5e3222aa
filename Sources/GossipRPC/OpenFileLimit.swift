import Glibc

/// The process's open-file limit, which bounds how many connections a server can hold.
public enum OpenFileLimit {
    /// Raises the soft limit to the hard one (as Go's runtime does at start): Debian's soft
    /// default of 1024 is far below what a gateway or a peer with many channels needs.
    /// Returns the soft limit in force afterwards.
    @discardableResult
    public static func raiseToHardLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return current
    }

    /// The soft limit now.
    public static var current: Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        // RLIM_INFINITY is all ones; clamping covers it.
        return Int(min(UInt64(limit.rlim_cur), UInt64(Int32.max)))
    }

    /// Three quarters of the soft limit, leaving the rest for files, channels and the listener.
    public static var defaultMaxConnections: Int { max(16, current / 4 * 3) }
}
