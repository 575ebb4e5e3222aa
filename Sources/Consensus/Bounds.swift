/// Terms and indexes a correct node can ever hold. Every value that arrives in a
/// message or is loaded from storage is checked against `RaftBounds.maxValue`,
/// so the core's arithmetic (`term + 1`, `index + 1`, `index + count`) can never
/// overflow: a forged `term = 2^64-1` is dropped instead of trapping a node.
public enum RaftBounds {
    /// 2^62: four quintillion elections or entries, which no cluster reaches,
    /// and far enough below `UInt64.max` that one step past it stays representable.
    public static let maxValue: UInt64 = 1 << 62

    static func check(_ value: UInt64, _ name: String) -> String? {
        value <= maxValue ? nil : "\(name) \(value) exceeds the largest term or index a node can hold (2^62)"
    }

    static func first(_ checks: String?...) -> String? { checks.lazy.compactMap { $0 }.first }
}

extension Message {
    /// Why no correct node could have sent this message (a term or index beyond
    /// `RaftBounds.maxValue`), or nil. The core drops such messages; the transport
    /// answers them with INVALID_ARGUMENT before they reach it.
    public var boundsViolation: String? {
        typealias B = RaftBounds
        if let problem = B.check(term, "term") { return problem }
        switch body {
        case .requestVote(let r):
            return B.first(B.check(r.lastLogIndex, "last_log_index"), B.check(r.lastLogTerm, "last_log_term"))
        case .appendEntries(let r):
            if let problem = B.first(B.check(r.prevLogIndex, "prev_log_index"), B.check(r.prevLogTerm, "prev_log_term"),
                                     B.check(r.leaderCommit, "leader_commit"), B.check(r.readRound, "read_round")) {
                return problem
            }
            return r.entries.lazy.compactMap { B.first(B.check($0.index, "entry index"), B.check($0.term, "entry term")) }.first
        case .appendEntriesResponse(let r):
            return B.first(B.check(r.matchIndex, "match_index"), B.check(r.rejectedIndex, "rejected_index"),
                           B.check(r.conflictIndex, "conflict_index"), B.check(r.conflictTerm, "conflict_term"),
                           B.check(r.readRound, "read_round"))
        case .installSnapshot(let r):
            let metadata = r.snapshot.metadata
            return B.first(B.check(metadata.lastIncludedIndex, "last_included_index"),
                           B.check(metadata.lastIncludedTerm, "last_included_term"))
        case .installSnapshotResponse(let r):
            return B.check(r.matchIndex, "match_index")
        case .readIndexResponse(let r):
            return B.check(r.index, "index")
        case .requestVoteResponse, .timeoutNow, .readIndex:
            return nil
        }
    }
}

extension PersistentState {
    /// Why this stored state cannot belong to a correct node (a term or index beyond
    /// `RaftBounds.maxValue`, left by a forged message an older build accepted), or nil.
    public var boundsViolation: String? {
        typealias B = RaftBounds
        if let problem = B.first(B.check(hardState.term, "stored term"), B.check(hardState.commit, "stored commit")) {
            return problem
        }
        if let metadata = snapshot?.metadata,
           let problem = B.first(B.check(metadata.lastIncludedIndex, "snapshot index"),
                                 B.check(metadata.lastIncludedTerm, "snapshot term")) {
            return problem
        }
        return entries.lazy.compactMap { B.first(B.check($0.index, "stored entry index"), B.check($0.term, "stored entry term")) }.first
    }
}
