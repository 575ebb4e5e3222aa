/// Maximum-cardinality matching on a general graph: Edmonds' blossom algorithm, O(V³).
/// Deterministic: the result depends only on the graph and the order of the adjacency lists.
public enum MaximumMatching {
    /// `adjacency[v]` lists v's neighbours; the graph must be symmetric (u in adjacency[v] ⇔
    /// v in adjacency[u]). Self-loops and duplicates are ignored. Returns each vertex's partner.
    public static func compute(adjacency: [[Int]]) -> [Int?] {
        compute(adjacency: adjacency, startingFrom: nil)
    }

    /// The same on an edge list (self-loops and duplicates ignored).
    public static func compute(vertexCount: Int, edges: [(Int, Int)]) -> [Int?] {
        var adjacency = [[Int]](repeating: [], count: vertexCount)
        for (u, v) in edges where u != v {
            precondition(u >= 0 && u < vertexCount && v >= 0 && v < vertexCount, "edge (\(u), \(v)) out of range")
            adjacency[u].append(v)
            adjacency[v].append(u)
        }
        return compute(adjacency: adjacency)
    }

    /// `initial` must be a matching of this graph (the bottleneck search passes one found on a
    /// subgraph, which saves most augmentations). One pass over the free vertices suffices: a
    /// vertex with no augmenting path never gains one as others augment.
    static func compute(adjacency: [[Int]], startingFrom initial: [Int?]?) -> [Int?] {
        var search = BlossomSearch(adjacency: adjacency)
        if let initial {
            precondition(initial.count == adjacency.count)
            for (v, u) in initial.enumerated() { search.mate[v] = u ?? -1 }
        } else {
            search.matchGreedily()
        }
        for root in adjacency.indices where search.mate[root] == -1 {
            _ = search.augment(from: root)
        }
        return search.mate.map { $0 == -1 ? nil : $0 }
    }
}

/// The search state, in flat Int arrays (-1 for none) to keep the inner loops cheap.
private struct BlossomSearch {
    let adjacency: [[Int]]
    var mate: [Int]
    /// The alternating tree: parent[v] is the even vertex that reached odd vertex v.
    var parent: [Int]
    /// Each vertex's blossom base (itself unless contracted).
    var base: [Int]
    /// Even ("outer") vertices of the current tree.
    var even: [Bool]
    var inBlossom: [Bool]
    var onPath: [Bool]
    var queue: [Int] = []

    init(adjacency: [[Int]]) {
        let n = adjacency.count
        self.adjacency = adjacency
        mate = Array(repeating: -1, count: n)
        parent = mate
        base = Array(0..<n)
        even = Array(repeating: false, count: n)
        inBlossom = even
        onPath = even
        queue.reserveCapacity(n)
    }

    /// A maximal matching first: most vertices are then matched without any tree search.
    mutating func matchGreedily() {
        for v in adjacency.indices where mate[v] == -1 {
            if let u = adjacency[v].first(where: { $0 != v && mate[$0] == -1 }) {
                mate[v] = u
                mate[u] = v
            }
        }
    }

    /// Grows an alternating tree from the free vertex `root`; on reaching another free vertex
    /// it flips the path and returns true.
    mutating func augment(from root: Int) -> Bool {
        let n = mate.count
        for i in 0..<n {
            even[i] = false
            parent[i] = -1
            base[i] = i
        }
        even[root] = true
        queue.removeAll(keepingCapacity: true)
        queue.append(root)
        var head = 0
        while head < queue.count {
            let v = queue[head]
            head += 1
            for to in adjacency[v] {
                if base[v] == base[to] || mate[v] == to { continue }
                if to == root || (mate[to] != -1 && parent[mate[to]] != -1) {
                    // Even-even edge: an odd cycle. Contract it into its base.
                    let b = lowestCommonAncestor(v, to)
                    for i in 0..<n { inBlossom[i] = false }
                    markPath(from: v, to: b, child: to)
                    markPath(from: to, to: b, child: v)
                    for i in 0..<n where inBlossom[base[i]] {
                        base[i] = b
                        if !even[i] {
                            even[i] = true
                            queue.append(i)
                        }
                    }
                } else if parent[to] == -1 {
                    parent[to] = v
                    if mate[to] == -1 {
                        flip(endingAt: to)
                        return true
                    }
                    even[mate[to]] = true
                    queue.append(mate[to])
                }
            }
        }
        return false
    }

    /// The base where the tree paths from a and b (both even) meet.
    mutating func lowestCommonAncestor(_ a: Int, _ b: Int) -> Int {
        for i in onPath.indices { onPath[i] = false }
        var a = a
        while true {
            a = base[a]
            onPath[a] = true
            if mate[a] == -1 { break }  // the root
            a = parent[mate[a]]
        }
        var b = b
        while true {
            b = base[b]
            if onPath[b] { return b }
            b = parent[mate[b]]
        }
    }

    /// Marks the blossoms on the path from v down to base b, and points the odd vertices
    /// back across the new cycle so a later augmentation can run through it.
    mutating func markPath(from v: Int, to b: Int, child: Int) {
        var v = v, child = child
        while base[v] != b {
            inBlossom[base[v]] = true
            inBlossom[base[mate[v]]] = true
            parent[v] = child
            child = mate[v]
            v = parent[mate[v]]
        }
    }

    mutating func flip(endingAt end: Int) {
        var v = end
        while v != -1 {
            let pv = parent[v]
            let next = mate[pv]
            mate[v] = pv
            mate[pv] = v
            v = next
        }
    }
}
