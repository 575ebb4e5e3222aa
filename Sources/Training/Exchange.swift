import Gossip

/// What one round's exchange cost: bytes each worker sent and the round's communication time.
struct Traffic {
    var bytesSent: [Double]
    var seconds: Double

    static func none(_ workers: Int) -> Traffic { Traffic(bytesSent: [Double](repeating: 0, count: workers), seconds: 0) }
}

/// One algorithm's communication step, applied to every worker's model before the local steps.
protocol Exchange {
    mutating func exchange(round: Int, workers: Lanes<Worker>, bandwidth: BandwidthMatrix) -> Traffic
}

/// Seconds to move `bytes` over a link of `megabytesPerSecond`.
func transferSeconds(_ bytes: Double, _ megabytesPerSecond: Double) -> Double {
    megabytesPerSecond > 0 ? bytes / 1e6 / megabytesPerSecond : .infinity
}

/// SAPS and its random-matching baseline: partners average their values at a random-k mask that
/// both derive from (seed, round), so only the k values travel.
struct SparseGossip<Selector: PeerSelector>: Exchange {
    var selector: Selector
    let mask: RandomKMask
    let seed: UInt64

    mutating func exchange(round: Int, workers: Lanes<Worker>, bandwidth: BandwidthMatrix) -> Traffic {
        let matching = selector.matching(round: round, bandwidth: bandwidth)
        let indices = mask.indices(seed: seed, round: UInt64(round))
        let bytes = Double(indices.count * MemoryLayout<Float>.size)
        var traffic = Traffic.none(workers.count)
        for pair in matching.pairs {
            do {
                let a = try MaskedExchange.gather(from: workers[pair.first].parameters, at: indices)
                let b = try MaskedExchange.gather(from: workers[pair.second].parameters, at: indices)
                try MaskedExchange.mergeAverage(params: &workers[pair.first].parameters, indices: indices, partnerValues: b)
                try MaskedExchange.mergeAverage(params: &workers[pair.second].parameters, indices: indices, partnerValues: a)
            } catch {
                // Only a diverged model holds NaN; the step after this round reports it.
                continue
            }
            traffic.bytesSent[pair.first] += bytes
            traffic.bytesSent[pair.second] += bytes
        }
        traffic.seconds = matching.roundTime(payload: bytes / 1e6, bandwidth: bandwidth)
        return traffic
    }
}

/// Partners average their whole models.
struct PairwiseAverage<Selector: PeerSelector>: Exchange {
    var selector: Selector

    mutating func exchange(round: Int, workers: Lanes<Worker>, bandwidth: BandwidthMatrix) -> Traffic {
        let matching = selector.matching(round: round, bandwidth: bandwidth)
        let bytes = Double(workers[0].parameters.count * MemoryLayout<Float>.size)
        var traffic = Traffic.none(workers.count)
        for pair in matching.pairs {
            var merged = workers[pair.first].parameters
            let other = workers[pair.second].parameters
            for k in merged.indices { merged[k] = merged[k] * 0.5 + other[k] * 0.5 }
            workers[pair.first].parameters = merged
            workers[pair.second].parameters = merged
            traffic.bytesSent[pair.first] += bytes
            traffic.bytesSent[pair.second] += bytes
        }
        traffic.seconds = matching.roundTime(payload: bytes / 1e6, bandwidth: bandwidth)
        return traffic
    }
}

/// Dense D-PSGD: every worker averages itself and its ring neighbours, equal weights.
struct RingAverage: Exchange {
    let topology: RingTopology

    mutating func exchange(round: Int, workers: Lanes<Worker>, bandwidth: BandwidthMatrix) -> Traffic {
        let old = (0..<workers.count).map { workers[$0].parameters }
        let bytes = Double(old[0].count * MemoryLayout<Float>.size)
        var traffic = Traffic.none(workers.count)
        for i in 0..<workers.count {
            let neighbours = topology.neighbours(of: i)
            var mixed = old[i]
            DenseMixing.mix(params: &mixed, neighbours: neighbours.map { old[$0] })
            workers[i].parameters = mixed
            traffic.bytesSent[i] = bytes * Double(neighbours.count)
            for j in neighbours { traffic.seconds = max(traffic.seconds, transferSeconds(bytes, bandwidth[i, j])) }
        }
        return traffic
    }
}

/// FedAvg: every `period` rounds all models are replaced by their average weighted by local data.
/// Worker 0 stands in for the server: the others upload to it and download the average.
struct FederatedAverage: Exchange {
    let period: Int

    mutating func exchange(round: Int, workers: Lanes<Worker>, bandwidth: BandwidthMatrix) -> Traffic {
        var traffic = Traffic.none(workers.count)
        guard round > 0, round % period == 0 else { return traffic }
        let total = Double((0..<workers.count).reduce(0) { $0 + workers[$1].sampleCount })
        var average = [Double](repeating: 0, count: workers[0].parameters.count)
        for i in 0..<workers.count {
            let weight = Double(workers[i].sampleCount) / total
            let parameters = workers[i].parameters
            for k in average.indices { average[k] += weight * Double(parameters[k]) }
        }
        let model = average.map { Float($0) }
        let bytes = Double(model.count * MemoryLayout<Float>.size)
        for i in 0..<workers.count {
            workers[i].parameters = model
            guard i > 0 else { continue }
            // Up to the server, and the server's copy of the average back down.
            traffic.bytesSent[i] = bytes
            traffic.bytesSent[0] += bytes
            traffic.seconds = max(traffic.seconds, 2 * transferSeconds(bytes, bandwidth[i, 0]))
        }
        return traffic
    }
}

/// Centralised SGD: nothing to exchange.
struct NoExchange: Exchange {
    mutating func exchange(round: Int, workers: Lanes<Worker>, bandwidth: BandwidthMatrix) -> Traffic { .none(workers.count) }
}
