import CBLAS
import Gossip
import Learning
import Seeded

/// Our own exchange (after PowerGossip, Vogels, Karimireddy and Jaggi, NeurIPS 2020): partners
/// average the dominant directions of the *difference* of their models instead of random
/// coordinates. Each layer's weight and bias form a matrix A = [W | b] (m × n, conv weights
/// flattened to [out, in·k·k]); for the pair's difference D = A_i − A_j one meeting sends one
/// side of a rank-r power iteration and removes D's component on it:
///   right half (shared Q, n × r, orthonormal): each sends A·Q (m × r); both set A_i −= ½·(D·Q)·Qᵀ,
///     A_j += the same, and keep P = orth(D·Q) for their next meeting;
///   left half (shared P, m × r): each sends Aᵀ·P (n × r); A_i −= ½·P·(Dᵀ·P)ᵀ, and Q = orth(Dᵀ·P).
/// Successive meetings of a pair are warm-started power iterations on their (slowly changing)
/// difference, so a few vectors per layer carry most of what dense averaging would; bytes per
/// meeting are r·m or r·n values per layer. The vectors are computed from exchanged values only,
/// so both partners hold the same ones without extra traffic. The products travel in half precision
/// with one Float32 scale (HalfPrecision), half the bytes of Float32 for a relative error of 2^-11
/// of the largest value, which the next meeting corrects like any other difference. SAPS picks the partners.
struct PowerGossip<Selector: PeerSelector>: Exchange {
    /// One layer's augmented matrix inside the flat vector: weight rows of `columns - 1` values, then the bias.
    struct Block {
        let weightOffset: Int
        let biasOffset: Int
        let rows: Int
        let columns: Int
    }

    /// A pair's warm start for every block: the next half to run and its orthonormal vectors.
    struct PairState {
        var rightHalf = true
        var vectors: [[Float]]
    }

    var selector: Selector
    let blocks: [Block]
    let rank: Int
    let seed: UInt64
    private var pairs: [WorkerPair: PairState] = [:]

    init(selector: Selector, layout: [ParameterTensor], rank: Int, seed: UInt64) {
        self.selector = selector
        self.blocks = Self.blocks(layout)
        self.rank = rank
        self.seed = seed
    }

    /// Weight-and-bias pairs of the layout, in order.
    static func blocks(_ layout: [ParameterTensor]) -> [Block] {
        var blocks: [Block] = []
        for (weight, bias) in zip(layout, layout.dropFirst()) where weight.name.hasSuffix(".weight") && bias.name.hasSuffix(".bias") {
            let rows = weight.shape[0]
            precondition(bias.count == rows && weight.count % rows == 0, "\(weight.name) and \(bias.name) do not form a layer")
            blocks.append(Block(weightOffset: weight.offset, biasOffset: bias.offset, rows: rows, columns: weight.count / rows + 1))
        }
        precondition(blocks.reduce(0) { $0 + $1.rows * $1.columns } == layout.reduce(0) { $0 + $1.count },
                     "every tensor must belong to a weight-and-bias layer")
        return blocks
    }

    /// The largest rank whose mean bytes per meeting stay within random-k's (Float32 values) at `keepFraction`.
    static func rank(matchingBytesOf keepFraction: Double, layout: [ParameterTensor]) -> Int {
        let sparse = layout.reduce(0) { $0 + max(1, Int((Double($1.count) * keepFraction).rounded(.down))) } * MemoryLayout<Float>.size
        let blocks = blocks(layout)
        func meanBytes(_ rank: Int) -> Double {
            blocks.reduce(0.0) {
                let r = min(rank, $1.rows, $1.columns)
                return $0 + Double(HalfPrecision.bytes(count: $1.rows * r) + HalfPrecision.bytes(count: $1.columns * r)) / 2
            }
        }
        let largest = blocks.map { min($0.rows, $0.columns) }.max() ?? 1
        var rank = 1
        while rank < largest && meanBytes(rank + 1) <= Double(sparse) { rank += 1 }
        return rank
    }

    mutating func exchange(round: Int, workers: Lanes<Worker>, bandwidth: BandwidthMatrix) -> Traffic {
        let matching = selector.matching(round: round, bandwidth: bandwidth)
        var traffic = Traffic.none(workers.count)
        var slowest = 0.0
        for pair in matching.pairs {
            var state = pairs[pair] ?? initialState(pair)
            var bytes = 0
            for (b, block) in blocks.enumerated() {
                bytes += meet(block, vectors: &state.vectors[b], rightHalf: state.rightHalf, pair: pair, workers: workers, round: round)
            }
            state.rightHalf.toggle()
            pairs[pair] = state
            traffic.bytesSent[pair.first] += Double(bytes)
            traffic.bytesSent[pair.second] += Double(bytes)
            slowest = max(slowest, transferSeconds(Double(bytes), bandwidth[pair.first, pair.second]))
        }
        traffic.seconds = slowest
        return traffic
    }

    /// A block's rank: at most its smaller dimension (more directions than that do not exist).
    private func rank(of block: Block) -> Int { min(rank, block.rows, block.columns) }

    private func initialState(_ pair: WorkerPair) -> PairState {
        PairState(vectors: blocks.enumerated().map { b, block in
            var rng = SplitMix64(seed: SeedDerivation.derive(seed, UInt64(pair.first), UInt64(pair.second), UInt64(b)))
            let r = rank(of: block)
            var q = (0..<(block.columns * r)).map { _ in Float(rng.unitDouble() * 2 - 1) }
            Self.orthonormalize(&q, rows: block.columns, rank: r, seed: seed)
            return q
        })
    }

    /// One half-iteration on one block; returns the bytes each partner sent.
    private func meet(_ block: Block, vectors: inout [Float], rightHalf: Bool, pair: WorkerPair, workers: Lanes<Worker>,
                      round: Int) -> Int {
        let (m, n, r) = (block.rows, block.columns, rank(of: block))
        let sentLength = rightHalf ? m : n
        // D·Q or Dᵀ·P, from the two partners' products (the lower index first on both sides).
        // Each side uses the products exactly as they travel (half precision), its own included, so
        // both compute the same difference and the same next vectors.
        var difference = [Float](repeating: 0, count: sentLength * r)
        for (sign, worker) in [(Float(1), pair.first), (Float(-1), pair.second)] {
            let product = HalfPrecision.roundTrip(Self.multiply(block, workers[worker].parameters, vectors, rank: r, transpose: !rightHalf))
            for k in difference.indices { difference[k] += sign * product[k] }
        }
        // A_first −= ½·outer, A_second += ½·outer, outer = (D·Q)·Qᵀ or P·(Dᵀ·P)ᵀ.
        for (sign, worker) in [(Float(-0.5), pair.first), (Float(0.5), pair.second)] {
            if rightHalf {
                Self.addOuter(block, &workers[worker].parameters, left: difference, right: vectors, rank: r, scale: sign)
            } else {
                Self.addOuter(block, &workers[worker].parameters, left: vectors, right: difference, rank: r, scale: sign)
            }
        }
        vectors = difference
        Self.orthonormalize(&vectors, rows: sentLength, rank: r,
                            seed: SeedDerivation.derive(seed, UInt64(round), UInt64(pair.first), UInt64(block.weightOffset)))
        return HalfPrecision.bytes(count: sentLength * r)
    }

    /// A·V (m × r) for V n × r, or Aᵀ·V (n × r) for V m × r, with A = [W | b] read in place.
    static func multiply(_ block: Block, _ parameters: [Float], _ v: [Float], rank r: Int, transpose: Bool) -> [Float] {
        let (m, n) = (block.rows, block.columns)
        var out = [Float](repeating: 0, count: (transpose ? n : m) * r)
        parameters.withUnsafeBufferPointer { p in
            let w = p.baseAddress! + block.weightOffset, bias = p.baseAddress! + block.biasOffset
            if transpose {
                // Wᵀ·V: (n−1) × r; the bias row is bᵀ·V.
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(n - 1), Int32(r), Int32(m), 1, w, Int32(n - 1),
                            v, Int32(r), 0, &out, Int32(r))
                for c in 0..<r {
                    var sum: Float = 0
                    for row in 0..<m { sum += bias[row] * v[row * r + c] }
                    out[(n - 1) * r + c] = sum
                }
            } else {
                // W·V[0..<n−1] + b ⊗ V[n−1].
                v.withUnsafeBufferPointer { v in
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(r), Int32(n - 1), 1, w, Int32(n - 1),
                                v.baseAddress!, Int32(r), 0, &out, Int32(r))
                    for row in 0..<m { for c in 0..<r { out[row * r + c] += bias[row] * v[(n - 1) * r + c] } }
                }
            }
        }
        return out
    }

    /// A += scale·L·Rᵀ, L m × r, R n × r.
    static func addOuter(_ block: Block, _ parameters: inout [Float], left: [Float], right: [Float], rank r: Int, scale: Float) {
        let (m, n) = (block.rows, block.columns)
        parameters.withUnsafeMutableBufferPointer { p in
            let w = p.baseAddress! + block.weightOffset, bias = p.baseAddress! + block.biasOffset
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n - 1), Int32(r), scale, left, Int32(r),
                        right, Int32(r), 1, w, Int32(n - 1))
            for row in 0..<m {
                var sum: Float = 0
                for c in 0..<r { sum += left[row * r + c] * right[(n - 1) * r + c] }
                bias[row] += scale * sum
            }
        }
    }

    /// Modified Gram–Schmidt on the r columns of a rows × r matrix; a column that vanishes (the
    /// partners already agree there) is replaced by a seeded random one, the same on both sides.
    static func orthonormalize(_ v: inout [Float], rows: Int, rank r: Int, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        for c in 0..<r {
            for attempt in 0..<3 {
                for previous in 0..<c {
                    var dot = 0.0
                    for row in 0..<rows { dot += Double(v[row * r + c]) * Double(v[row * r + previous]) }
                    for row in 0..<rows { v[row * r + c] -= Float(dot) * v[row * r + previous] }
                }
                var norm = 0.0
                for row in 0..<rows { norm += Double(v[row * r + c]) * Double(v[row * r + c]) }
                norm = norm.squareRoot()
                if norm > 1e-20 || attempt == 2 {
                    let inverse = norm > 0 ? Float(1 / norm) : 0
                    for row in 0..<rows { v[row * r + c] *= inverse }
                    break
                }
                for row in 0..<rows { v[row * r + c] = Float(rng.unitDouble() * 2 - 1) }
            }
        }
    }
}
