@testable import Gossip
import Seeded
import Testing

@Suite struct SAPSSelectorTests {
    static let a = [WorkerPair(0, 1), WorkerPair(2, 3)]
    static let b = [WorkerPair(0, 3), WorkerPair(1, 2)]

    static func matrix(_ links: [WorkerPair: Double], workers n: Int) throws -> BandwidthMatrix {
        var rows = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for (pair, bandwidth) in links {
            rows[pair.first][pair.second] = bandwidth
            rows[pair.second][pair.first] = bandwidth
        }
        return try BandwidthMatrix(rows: rows)
    }

    @Test func everyMatchingIsValidAndPerfectForEvenN() {
        for n in [2, 4, 6, 8, 10, 16, 32] {
            for (k, bandwidth) in [BandwidthMatrix.uniformRandom(workers: n, seed: UInt64(n)),
                                   .logUniform(workers: n, seed: UInt64(n)),
                                   .clustered(workers: n, clusters: 2, seed: UInt64(n)),
                                   coarseMatrix(workers: n, seed: UInt64(n))].enumerated() {
                for rule in [SAPSSelector.OverdueRule.original, .bridgeComponents] {
                    var selector = SAPSSelector(overdueRule: rule)
                    for round in 0..<30 {
                        let matching = selector.matching(round: round, bandwidth: bandwidth)
                        #expect(matching.workers == n)
                        #expect(isValidMatching(matching.partner), "n \(n) matrix \(k) round \(round) \(rule)")
                        #expect(matching.isPerfect, "n \(n) matrix \(k) round \(round) \(rule)")
                    }
                }
            }
        }
    }

    /// Checks every round against an independent model of the rule: which links are allowed,
    /// that only those are used unless the fall-back applies, and that the bottleneck on them is
    /// the best over all perfect matchings (exhaustive search).
    @Test(arguments: [4, 6, 8], [SAPSSelector.OverdueRule.original, .bridgeComponents])
    func followsTheRuleAndIsOptimalOnAllowedLinks(n: Int, rule: SAPSSelector.OverdueRule) {
        var fallbacks = 0, overdueRounds = 0, highRounds = 0
        for seed in 0..<12 as Range<UInt64> {
            let bandwidth = seed % 3 == 0 ? coarseMatrix(workers: n, seed: seed)
                : seed % 3 == 1 ? .uniformRandom(workers: n, seed: seed) : .logUniform(workers: n, seed: seed, range: 0.5...10)
            var selector = SAPSSelector(overdueRule: rule)
            var last: [WorkerPair: Int] = [:]
            for round in 0..<25 {
                let recent = { (i: Int, j: Int) in last[WorkerPair(i, j)].map { round - $0 <= 3 } ?? false }
                let connected = isConnected(n, recent)
                let allowed: (Int, Int) -> Bool
                switch (connected, rule) {
                case (true, _): allowed = { bandwidth[$0, $1] > 3 }
                case (false, .original): allowed = { !recent($0, $1) }
                case (false, .bridgeComponents): allowed = { !reachable(n, from: $0, to: $1, recent) }
                }
                let decision = selector.decide(round: round, bandwidth: bandwidth)
                let context = "seed \(seed) round \(round)"
                #expect(decision.allowedLinks == (connected ? .highBandwidth : rule == .original ? .overdue : .bridging), "\(context)")
                #expect(decision.matching.isPerfect, "\(context)")
                #expect(decision.allowedPairs.allSatisfy { allowed($0.first, $0.second) }, "\(context)")
                #expect(Set(decision.matching.pairs) == Set(decision.allowedPairs + decision.completionPairs))
                let all = Array(0..<n)
                let best = BruteForce.bestPerfectBottleneck(all, bandwidth: bandwidth, edge: allowed)
                if let best {
                    // A perfect matching on allowed links exists: that stage alone, optimally.
                    #expect(!decision.usedFallback, "\(context)")
                    #expect(decision.matching.bottleneck(bandwidth) == best, "\(context)")
                } else {
                    // None: the largest matching there, completed on any link.
                    fallbacks += 1
                    #expect(decision.usedFallback, "\(context)")
                    #expect(decision.allowedPairs.count == BruteForce.maximumMatchingSize(vertices: n, edge: allowed), "\(context)")
                    let used = Set(decision.allowedPairs.flatMap { [$0.first, $0.second] })
                    let left = all.filter { !used.contains($0) }
                    #expect(Set(decision.completionPairs.flatMap { [$0.first, $0.second] }) == Set(left), "\(context)")
                    if decision.allowedLinks == .bridging {
                        // Then as many overdue pairs as possible among the rest (any more would
                        // be an edge between two workers left over).
                        let overdue = decision.completionPairs.filter { !recent($0.first, $0.second) }.count
                        #expect(overdue == BruteForce.maximumMatchingSize(vertices: left.count) { !recent(left[$0], left[$1]) }, "\(context)")
                    } else {
                        let completion = decision.completionPairs.map { bandwidth[$0.first, $0.second] }.min()
                        #expect(completion == BruteForce.bestPerfectBottleneck(left, bandwidth: bandwidth) { _, _ in true }, "\(context)")
                    }
                }
                if connected { highRounds += 1 } else { overdueRounds += 1 }
                for pair in decision.matching.pairs { last[pair] = round }
                #expect(selector.lastMatchedRound(decision.matching.pairs[0].first, decision.matching.pairs[0].second) == round)
            }
        }
        // The checks above ran through every branch.
        #expect(fallbacks > 0 && overdueRounds > 0 && highRounds > 0, "fallbacks \(fallbacks) overdue \(overdueRounds) high \(highRounds)")
    }

    /// Fast links 0-1 and 2-3 only. Once the recent topologies are just those two pairs they are
    /// disconnected, so the slow pairs unseen for more than T_thres rounds are forced in.
    @Test func forcesOverduePairsWhenRecentTopologiesDisconnect() throws {
        let bandwidth = try Self.matrix([WorkerPair(0, 1): 10, WorkerPair(2, 3): 10, WorkerPair(0, 3): 2,
                                         WorkerPair(1, 2): 2, WorkerPair(0, 2): 1, WorkerPair(1, 3): 1], workers: 4)
        var selector = SAPSSelector()
        let decisions = (0..<10).map { selector.decide(round: $0, bandwidth: bandwidth) }
        let expected = [Self.a, Self.b, Self.a, Self.a, Self.a, Self.b, Self.a, Self.a, Self.a, Self.b]
        #expect(decisions.map(\.matching.pairs) == expected)
        // Round 5: 0-3 and 1-2 last met in round 1, four rounds ago (> T_thres = 3).
        #expect(decisions[5].allowedLinks == .overdue)
        #expect(decisions[5].matching.pairs.allSatisfy { bandwidth[$0.first, $0.second] <= 3 })
        #expect(decisions[4].allowedLinks == .highBandwidth)
        #expect(decisions.allSatisfy { !$0.usedFallback })
    }

    /// One fast link only: the connected stage matches it and completes the rest on any link.
    @Test func completesOnAllLinksWhenAllowedLinksHaveNoPerfectMatching() throws {
        let bandwidth = try Self.matrix([WorkerPair(0, 1): 10, WorkerPair(2, 3): 1, WorkerPair(0, 2): 2,
                                         WorkerPair(1, 3): 2, WorkerPair(0, 3): 1.5, WorkerPair(1, 2): 1.5], workers: 4)
        var selector = SAPSSelector()
        let first = selector.decide(round: 0, bandwidth: bandwidth)
        #expect(first.allowedLinks == .overdue)  // no history yet: every pair is overdue
        #expect(first.matching.pairs == [WorkerPair(0, 2), WorkerPair(1, 3)])
        let second = selector.decide(round: 1, bandwidth: bandwidth)
        #expect(second.matching.pairs == Self.b)
        let third = selector.decide(round: 2, bandwidth: bandwidth)
        #expect(third.allowedLinks == .highBandwidth)
        #expect(third.allowedPairs == [WorkerPair(0, 1)])
        #expect(third.completionPairs == [WorkerPair(2, 3)])
        #expect(third.matching.isPerfect)
    }

    @Test(arguments: [1, 3, 5, 7], [SAPSSelector.OverdueRule.original, .bridgeComponents])
    func oddNRestsEachWorkerOnceEveryNRounds(n: Int, rule: SAPSSelector.OverdueRule) {
        let bandwidth = BandwidthMatrix.uniformRandom(workers: n, seed: 5)
        var selector = SAPSSelector(overdueRule: rule)
        var rests: [Int] = []
        for round in 0..<(4 * n) {
            let decision = selector.decide(round: round, bandwidth: bandwidth)
            #expect(isValidMatching(decision.matching.partner))
            #expect(decision.matching.resting == [decision.resting].compactMap { $0 })
            #expect(decision.matching.pairs.count == n / 2)
            rests.append(decision.resting ?? -1)
        }
        // Every window of n consecutive rounds rests each worker exactly once.
        for start in 0...(rests.count - n) {
            #expect(rests[start..<(start + n)].sorted() == Array(0..<n), "window from \(start): \(rests)")
        }
        #expect(selector.lastRestedRound(0) == 3 * n)
    }

    @Test func sameInputsGiveTheSameMatchings() {
        let bandwidth = BandwidthMatrix.logUniform(workers: 12, seed: 9)
        var one = SAPSSelector(), two = SAPSSelector()
        for round in 0..<40 {
            let preview = one.plan(round: round, bandwidth: bandwidth)
            #expect(preview == one.decide(round: round, bandwidth: bandwidth))
            #expect(two.matching(round: round, bandwidth: bandwidth) == preview.matching)
        }
        #expect(one == two)
    }

    @Test func anotherWorkerCountStartsAFreshHistory() {
        var selector = SAPSSelector()
        let first = selector.matching(round: 0, bandwidth: .uniformRandom(workers: 6, seed: 1))
        #expect(selector.lastMatchedRound(0, first.partner[0]!) == 0)
        let smaller = BandwidthMatrix.uniformRandom(workers: 4, seed: 2)
        var fresh = SAPSSelector()
        #expect(selector.matching(round: 1, bandwidth: smaller) == fresh.matching(round: 1, bandwidth: smaller))
        #expect(selector.workers == 4)
        #expect(selector.lastMatchedRound(0, 5) == nil)
    }

    /// Where bandwidths differ by orders of magnitude, SAPS's rounds are faster than random
    /// matching's (the point of the algorithm; the bench measures by how much).
    @Test func beatsRandomMatchingOnRoundTime() {
        for bandwidth in [BandwidthMatrix.logUniform(workers: 16, seed: 4), .clustered(workers: 16, clusters: 4, seed: 4)] {
            var saps = SAPSSelector()
            let random = RandomMatchingSelector(seed: 4)
            var sapsTime = 0.0, randomTime = 0.0
            for round in 0..<100 {
                sapsTime += saps.matching(round: round, bandwidth: bandwidth).roundTime(payload: 1, bandwidth: bandwidth)
                randomTime += random.matching(round: round, workers: 16).roundTime(payload: 1, bandwidth: bandwidth)
            }
            #expect(sapsTime < randomTime, "SAPS \(sapsTime) random \(randomTime)")
        }
    }

    /// Four fast sites of eight: under the original rule the best overdue pairs stay inside the
    /// sites forever, so the sites' models never mix. Bridging joins them every few rounds,
    /// and is still far faster than random matching.
    @Test func bridgingKeepsFastClustersConnected() {
        let n = 32, clusters = 4
        let bandwidth = BandwidthMatrix.clustered(workers: n, clusters: clusters, seed: 1)
        func crossing(_ m: Matching) -> Int { m.pairs.filter { $0.first % clusters != $0.second % clusters }.count }
        var original = SAPSSelector()
        let originalRounds = (0..<60).map { original.decide(round: $0, bandwidth: bandwidth) }
        #expect(originalRounds.allSatisfy { crossing($0.matching) == 0 && $0.allowedLinks == .overdue })

        var bridging = SAPSSelector(overdueRule: .bridgeComponents)
        let random = RandomMatchingSelector(seed: 1)
        var bridgingTime = 0.0, randomTime = 0.0
        var connectedRounds = 0, crossingRounds = 0
        for round in 0..<60 {
            let decision = bridging.decide(round: round, bandwidth: bandwidth)
            #expect(decision.matching.isPerfect)
            if decision.allowedLinks == .highBandwidth {
                connectedRounds += 1
                #expect(crossing(decision.matching) == 0)
            }
            // Bridging rounds first join parts within a site (fast), then the sites.
            if crossing(decision.matching) > 0 { crossingRounds += 1 }
            bridgingTime += decision.matching.roundTime(payload: 1, bandwidth: bandwidth)
            randomTime += random.matching(round: round, workers: n).roundTime(payload: 1, bandwidth: bandwidth)
        }
        #expect(connectedRounds >= 20, "connected in \(connectedRounds) of 60 rounds")
        #expect(crossingRounds >= 10, "sites joined in \(crossingRounds) of 60 rounds")
        #expect(bridgingTime < randomTime / 2, "bridging \(bridgingTime) random \(randomTime)")
    }

    @Test func handlesHundredsOfWorkers() {
        let n = 128
        let bandwidth = BandwidthMatrix.clustered(workers: n, clusters: 8, seed: 1)
        var selector = SAPSSelector()
        for round in 0..<4 {
            let matching = selector.matching(round: round, bandwidth: bandwidth)
            #expect(isValidMatching(matching.partner) && matching.isPerfect)
        }
    }
}

/// The vertices `edge` reaches from `start`.
func reached(_ n: Int, from start: Int, _ edge: (Int, Int) -> Bool) -> Set<Int> {
    var seen: Set<Int> = [start], stack = [start]
    while let v = stack.popLast() {
        for u in 0..<n where !seen.contains(u) && u != v && edge(v, u) {
            seen.insert(u)
            stack.append(u)
        }
    }
    return seen
}

func isConnected(_ n: Int, _ edge: (Int, Int) -> Bool) -> Bool { n <= 1 || reached(n, from: 0, edge).count == n }

func reachable(_ n: Int, from a: Int, to b: Int, _ edge: (Int, Int) -> Bool) -> Bool { reached(n, from: a, edge).contains(b) }
