import Consensus

/// (index, term) of a log entry.
struct EntryKey: Hashable {
    var index: UInt64
    var term: UInt64
}

/// What must be identical wherever an (index, term) appears: the entry's
/// content and its predecessor's term. If that holds for every entry ever
/// written, any two logs holding the same (index, term) agree on everything up
/// to it (Log Matching, by induction on the index).
struct EntryFingerprint: Equatable {
    var previousTerm: UInt64?
    var kind: Entry.Kind
    var dataHash: UInt64
}

/// The five safety properties of the Raft paper (Figure 3), checked as the
/// simulation runs:
/// - Election Safety: at most one leader per term (`observe`).
/// - Leader Append-Only: a leader's log only grows during its term (`observe`).
/// - Log Matching: every (index, term) ever written has one content and one
///   predecessor term (`inspect`, over every Ready's entries: all writes go there).
/// - Leader Completeness: an entry committed in term T is in the log of every
///   leader of a term after T: checked when a leader takes office and when an
///   entry is first applied (`observe`, `apply`). T is the term of the first
///   leader seen whose commit covered the entry, not the entry's own term.
/// - State Machine Safety: every node's state after applying index i is the
///   same (a digest chain over the applied entries), snapshots included (`apply`).
extension Simulation {
    func observe(_ node: Int) {
        guard let core = nodes[node].core else { return }
        // Any node's commit index was a leader's in a term no later than the node's own
        // (a leader removed by the entry it commits steps down in the same step).
        while UInt64(commitTermAt.count) <= core.commitIndex { commitTermAt.append(core.term) }
        guard core.role == .leader else {
            setWatch(node, nil)
            return
        }
        if let other = leaderOfTerm[core.term], other != node {
            violation("Election Safety: \(nodes[other].id) and \(nodes[node].id) both lead term \(core.term)")
        }
        leaderOfTerm[core.term] = node
        if let watch = nodes[node].watch, watch.term == core.term {
            let kept = watch.lastIndex <= core.snapshotIndex || core.term(at: watch.lastIndex) == watch.lastTerm
            if core.lastIndex < watch.lastIndex || !kept {
                violation("Leader Append-Only: \(nodes[node].id) lost (\(watch.lastIndex), \(watch.lastTerm)) in term \(core.term)")
            }
        } else {
            checkLeaderHoldsCommitted(node)
        }
        setWatch(node, LeaderWatch(term: core.term, lastIndex: core.lastIndex, lastTerm: core.lastTerm))
    }

    private func setWatch(_ node: Int, _ watch: LeaderWatch?) {
        updateNode(node) { $0.watch = watch }
    }

    /// Every entry known committed in an earlier term is in the new leader's log
    /// (commit terms never decrease along the log, so the scan stops at the first later one).
    private func checkLeaderHoldsCommitted(_ node: Int) {
        let core = nodes[node].core!
        var index = core.snapshotIndex + 1
        while index < UInt64(committedTermAt.count), index < UInt64(commitTermAt.count),
              commitTermAt[Int(index)] < core.term {
            guard core.term(at: index) == committedTermAt[Int(index)] else {
                return violation("Leader Completeness: new leader \(nodes[node].id) (term \(core.term)) lacks committed entry \(index)")
            }
            index += 1
        }
    }

    func inspect(_ ready: Ready, of node: Int) {
        let core = nodes[node].core!
        var previousTerm = ready.entries.first.flatMap { core.term(at: $0.index - 1) }
        for entry in ready.entries {
            let key = EntryKey(index: entry.index, term: entry.term)
            let print = EntryFingerprint(previousTerm: previousTerm, kind: entry.kind, dataHash: SimStateMachine.hash(entry.data))
            if var known = entryFingerprints[key] {
                let sameContent = known.kind == print.kind && known.dataHash == print.dataHash
                let samePrevious = known.previousTerm == nil || print.previousTerm == nil || known.previousTerm == print.previousTerm
                if !sameContent || !samePrevious {
                    violation("Log Matching: \(nodes[node].id) writes a different entry (\(entry.index), \(entry.term))")
                }
                if known.previousTerm == nil, let term = print.previousTerm {
                    known.previousTerm = term
                    entryFingerprints[key] = known
                }
            } else {
                entryFingerprints[key] = print
            }
            previousTerm = entry.term
        }
        if let first = ready.committedEntries.first {
            let expected = (ready.snapshot?.metadata.lastIncludedIndex ?? nodes[node].machine.index) + 1
            if first.index != expected {
                violation("\(nodes[node].id) hands out committed entry \(first.index) to a machine expecting \(expected)")
            }
        }
    }

    func apply(_ ready: Ready, on node: Int) {
        if let snapshot = ready.snapshot {
            guard let restored = SimStateMachine(decoding: snapshot.data),
                  restored.index == snapshot.metadata.lastIncludedIndex else {
                return violation("\(nodes[node].id) received a snapshot whose data does not match its metadata")
            }
            checkDigest(restored, on: node, what: "snapshot")
            updateNode(node) { $0.machine = restored }
        }
        for entry in ready.committedEntries {
            var machine = nodes[node].machine
            guard entry.index == machine.index + 1 else {
                return violation("\(nodes[node].id) applies \(entry.index) after \(machine.index)")
            }
            machine.apply(entry)
            updateNode(node) { $0.machine = machine }
            recordCommitted(entry, on: node)
            checkDigest(machine, on: node, what: "entry")
            if failed { return }
        }
    }

    /// State Machine Safety.
    private func checkDigest(_ machine: SimStateMachine, on node: Int, what: String) {
        let index = Int(machine.index)
        if index < digestAt.count {
            if digestAt[index] != machine.digest {
                violation("State Machine Safety: \(nodes[node].id) state after \(what) \(index) differs from other nodes'")
            }
        } else if index == digestAt.count {
            digestAt.append(machine.digest)
        } else {
            violation("\(nodes[node].id) reached index \(index) before anyone applied \(digestAt.count)")
        }
    }

    private func recordCommitted(_ entry: Entry, on node: Int) {
        let index = Int(entry.index)
        guard index == committedTermAt.count else {
            if index < committedTermAt.count, committedTermAt[index] != entry.term {
                violation("State Machine Safety: \(nodes[node].id) applies term \(entry.term) at \(index), others term \(committedTermAt[index])")
            }
            return
        }
        committedTermAt.append(entry.term)
        if entry.kind == .normal, entry.data.count == 8 {
            let value = SimStateMachine.value(entry.data[...])
            if let earlier = indexOfValue[value] {
                violation("value \(value) applied twice, at \(earlier) and \(index)")
            }
            indexOfValue[value] = entry.index
            valueAt[entry.index] = value
        }
        // Leader Completeness for leaders already in office with a term after the commit's.
        guard index < commitTermAt.count else {
            return violation("\(nodes[node].id) applies \(index) before any leader's commit covered it")
        }
        for other in nodes.indices {
            guard let core = nodes[other].core, core.role == .leader, core.term > commitTermAt[index],
                  entry.index > core.snapshotIndex else { continue }
            if core.term(at: entry.index) != entry.term {
                violation("Leader Completeness: leader \(nodes[other].id) (term \(core.term)) lacks committed entry \(index)")
            }
        }
    }
}
