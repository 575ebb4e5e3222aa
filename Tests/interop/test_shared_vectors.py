"""The Python port of the gossip algorithm (python/gossipfl_py) against the Swift peers.

The vector files under Tests/vectors/ are written by the Swift side; every recorded integer
and float32 bit pattern must come out of the Python port unchanged. A vector file that has
not been written yet is skipped, with a message naming it. The unit tests after them mirror
expectations of Tests/GossipTests/*.swift and need no vector files.
"""

import functools
import json
import math
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))

from gossipfl_py.mask import MaskLayout, MaskLayoutError, RandomKMask  # noqa: E402
from gossipfl_py.matching import (  # noqa: E402
    AllowedLinks, BandwidthMatrix, BandwidthMatrixError, BottleneckMatching, Matching,
    MaximumMatching, OverdueRule, RandomMatchingSelector, SAPSSelector, WorkerPair,
)
from gossipfl_py.mixing import (  # noqa: E402
    bytes_to_values, dense_mix, dense_mix_bytes, gather, masked_merge_average,
    masked_merge_average_bytes, values_to_bytes,
)
from gossipfl_py.seeded import SeedDerivation, SplitMix64  # noqa: E402

VECTORS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vectors")


def load_vectors(name):
    path = os.path.join(VECTORS, name)
    if not os.path.exists(path):
        pytest.skip(f"Tests/vectors/{name} does not exist yet (the Swift side writes it)")
    with open(path) as f:
        return json.load(f)  # Python's json keeps u64 integers exact


def f32(bits):
    return np.array(bits, dtype=np.uint32).view(np.float32)


def bits(values):
    return np.asarray(values, dtype=np.float32).view(np.uint32).tolist()


def pair_lists(matching):
    return [[p.first, p.second] for p in matching.pairs]


# ---------------------------------------------------------------------------------------------
# Shared vectors from the Swift side


def test_seed_derivation_vectors():
    vectors = load_vectors("seeds.json")
    assert vectors["cases"], "seeds.json has no derivation cases"
    for case in vectors["cases"]:
        assert SeedDerivation.derive(case["seed"], *case["parts"]) == case["derived"], case


def test_splitmix64_vectors():
    vectors = load_vectors("seeds.json")
    assert vectors["splitmix64"], "seeds.json has no SplitMix64 cases"
    for case in vectors["splitmix64"]:
        rng = SplitMix64(case["seed"])
        assert [rng.next() for _ in case["outputs"]] == case["outputs"], case["seed"]


def test_mask_vectors():
    vectors = load_vectors("masks.json")
    assert vectors["cases"], "masks.json has no cases"
    for case in vectors["cases"]:
        mask = RandomKMask(MaskLayout(case["tensor_sizes"]), case["keep_fraction"])
        got = mask.indices(case["seed"], case["round"])
        assert got.dtype == np.int32
        assert got.tolist() == case["indices"], {k: case[k] for k in ("seed", "round", "tensor_sizes", "keep_fraction")}


def test_matching_vectors():
    vectors = load_vectors("matchings.json")
    assert vectors["cases"], "matchings.json has no cases"
    for number, case in enumerate(vectors["cases"]):
        bandwidth = BandwidthMatrix(case["bandwidth"])
        if case["selector"] == "saps":
            # One selector per case: its history carries across the consecutive rounds.
            selector = SAPSSelector(case["bandwidth_threshold"], case["round_threshold"], case["overdue_rule"])
            assert [r["round"] for r in case["rounds"]] == list(range(len(case["rounds"])))
        else:
            assert case["selector"] == "random", case["selector"]
            selector = RandomMatchingSelector(case["seed"])
        for expected in case["rounds"]:
            matching = selector.matching(expected["round"], bandwidth)
            where = f"case {number} ({case['selector']}, n {bandwidth.workers}) round {expected['round']}"
            assert pair_lists(matching) == expected["pairs"], where
            assert matching.resting == expected["resting"], where


def test_masked_merge_vectors():
    vectors = load_vectors("merges.json")
    assert vectors["masked"], "merges.json has no masked cases"
    for number, case in enumerate(vectors["masked"]):
        params = f32(case["params_bits"])
        before = bits(params)
        result = masked_merge_average(params, np.array(case["indices"], dtype=np.int32), f32(case["partner_bits"]))
        assert bits(result) == case["result_bits"], f"masked case {number}"
        assert bits(params) == before, "the input must not change"
        # The wire-bytes path gives the same bits.
        wire = masked_merge_average_bytes(params, case["indices"], values_to_bytes(f32(case["partner_bits"])))
        assert bits(wire) == case["result_bits"], f"masked case {number} from bytes"


def test_dense_merge_vectors():
    vectors = load_vectors("merges.json")
    assert vectors["dense"], "merges.json has no dense cases"
    for number, case in enumerate(vectors["dense"]):
        params = f32(case["params_bits"])
        neighbours = [f32(n) for n in case["neighbours_bits"]]
        assert bits(dense_mix(params, neighbours)) == case["result_bits"], f"dense case {number}"
        if all(np.isfinite(n).all() for n in neighbours):
            wire = dense_mix_bytes(params, [values_to_bytes(n) for n in neighbours])
            assert bits(wire) == case["result_bits"], f"dense case {number} from bytes"


# ---------------------------------------------------------------------------------------------
# Helpers mirroring Tests/GossipTests/TestSupport.swift and BandwidthGenerators.swift


def symmetric_matrix(n, seed, draw):
    """BandwidthMatrix's `symmetric`: the upper triangle row by row, mirrored."""
    rng = SplitMix64(seed)
    rows = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            rows[i][j] = rows[j][i] = draw(i, j, rng)
    return BandwidthMatrix(rows)


def uniform_random(n, seed, lower=0.0, upper=5.0):
    return symmetric_matrix(n, seed, lambda i, j, rng: lower + (upper - lower) * rng.unit_double())


def clustered(n, clusters, seed, intra=(10.0, 100.0), inter=(0.1, 2.0)):
    def draw(i, j, rng):
        lo, hi = intra if i % clusters == j % clusters else inter
        return lo + (hi - lo) * rng.unit_double()
    return symmetric_matrix(n, seed, draw)


def coarse_matrix(n, seed):
    """Few distinct bandwidths, so ties between matchings are common."""
    return symmetric_matrix(n, seed, lambda i, j, rng: float(rng.next_below(7)))


def random_graph(n, density, rng):
    adjacent = [[False] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            if rng.unit_double() < density:
                adjacent[i][j] = adjacent[j][i] = True
    return adjacent


def adjacency_lists(adjacent):
    return [[j for j, edge in enumerate(row) if edge] for row in adjacent]


def is_valid_matching(partner, edge=None):
    for i, j in enumerate(partner):
        if j is None:
            continue
        if not (0 <= j < len(partner) and j != i and partner[j] == i):
            return False
        if edge is not None and not edge(i, j):
            return False
    return True


def matched_pairs(partner):
    return sum(p is not None for p in partner) // 2


def maximum_matching_size(n, edge):
    @functools.lru_cache(maxsize=None)
    def best(free):
        if free == 0:
            return 0
        v = (free & -free).bit_length() - 1
        rest = free & ~(1 << v)
        result = best(rest)
        for u in range(n):
            if rest & (1 << u) and edge(v, u):
                result = max(result, 1 + best(rest & ~(1 << u)))
        return result
    return best((1 << n) - 1)


def perfect_matchings(workers, edge):
    if not workers:
        return [[]]
    first, rest = workers[0], workers[1:]
    found = []
    for k, other in enumerate(rest):
        if edge(first, other):
            for tail in perfect_matchings(rest[:k] + rest[k + 1:], edge):
                found.append([WorkerPair(first, other)] + tail)
    return found


def best_perfect_bottleneck(workers, bandwidth, edge):
    bottlenecks = [min((bandwidth[p.first, p.second] for p in pairs), default=math.inf)
                   for pairs in perfect_matchings(list(workers), edge)]
    return max(bottlenecks) if bottlenecks else None


def matrix_from_links(links, n):
    rows = [[0.0] * n for _ in range(n)]
    for (i, j), b in links.items():
        rows[i][j] = rows[j][i] = b
    return BandwidthMatrix(rows)


# ---------------------------------------------------------------------------------------------
# seeded.py


def test_splitmix64_seed_zero():
    rng = SplitMix64(0)
    assert [rng.next() for _ in range(3)] == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]


def test_splitmix64_wraps_at_64_bits():
    rng = SplitMix64(0xFFFF_FFFF_FFFF_FFFF)
    assert all(0 <= rng.next() < 2**64 for _ in range(100))
    with pytest.raises(ValueError):
        SplitMix64(-1)
    with pytest.raises(ValueError):
        SplitMix64(2**64)


def test_next_below_unit_double_and_shuffle():
    a, b = SplitMix64(42), SplitMix64(42)
    assert [a.next_below(10) for _ in range(20)] == [b.next() % 10 for _ in range(20)]
    assert a.unit_double() == (b.next() >> 11) / 2**53
    with pytest.raises(ValueError):
        a.next_below(0)
    values = list(range(10))
    SplitMix64(3).shuffle(values)
    assert sorted(values) == list(range(10)) and values != list(range(10))
    # The swap sequence is Fisher-Yates from the top: position i swaps with next() % (i + 1).
    expected, rng = list(range(10)), SplitMix64(3)
    for i in range(9, 0, -1):
        j = rng.next() % (i + 1)
        expected[i], expected[j] = expected[j], expected[i]
    assert values == expected


def test_seed_derivation_rule():
    first = lambda x: SplitMix64(x).next()  # noqa: E731
    assert SeedDerivation.derive(7) == first(7)
    assert SeedDerivation.derive(7, 1, 2) == first(first(first(7) ^ 1) ^ 2)
    assert SeedDerivation.derive_parts(7, [1, 2]) == SeedDerivation.derive(7, 1, 2)
    assert SeedDerivation.derive(7, 1, 2) != SeedDerivation.derive(7, 2, 1)


# ---------------------------------------------------------------------------------------------
# mask.py (RandomKMaskTests.swift)

MNIST_SIZES = [800, 32, 51_200, 64, 1_605_632, 512, 5_120, 10]


def test_kept_per_tensor_follows_the_rule():
    mask = RandomKMask(MaskLayout(MNIST_SIZES))
    assert mask.layout.parameter_count == 1_663_370
    assert mask.kept_per_tensor == [8, 1, 512, 1, 16_056, 5, 51, 1]
    assert mask.kept_count == 16_635
    assert RandomKMask(MaskLayout([10, 0, 3]), 1).kept_per_tensor == [10, 0, 3]
    assert RandomKMask(MaskLayout([10, 0, 3]), 0.5).kept_per_tensor == [5, 0, 1]


def test_mask_is_k_distinct_sorted_inside_each_tensor():
    layout = MaskLayout(MNIST_SIZES)
    mask = RandomKMask(layout)
    picked = mask.indices(5, 3)
    assert picked.dtype == np.int32 and len(picked) == mask.kept_count
    assert (np.diff(picked) > 0).all(), "sorted and distinct"
    for t, segment in enumerate(layout.segments):
        inside = picked[(picked >= segment.start) & (picked < segment.stop)]
        assert len(inside) == mask.kept_per_tensor[t]
        assert mask.tensor_indices(5, 3, t).tolist() == inside.tolist()
    assert mask.indices(5, 3).tolist() == picked.tolist()
    assert mask.indices(5, 4).tolist() != picked.tolist()
    assert mask.indices(6, 3).tolist() != picked.tolist()


def test_mask_draw_is_floyds_algorithm():
    # One tensor of 20 at 0.25: k = 5, from SplitMix64(derive(seed, round, 0)).
    rng, taken = SplitMix64(SeedDerivation.derive(11, 2, 0)), []
    for j in range(15, 20):
        x = rng.next() % (j + 1)
        taken.append(j if x in taken else x)
    assert RandomKMask(MaskLayout([20]), 0.25).indices(11, 2).tolist() == sorted(taken)


def test_full_and_near_full_masks():
    assert RandomKMask(MaskLayout([7, 5]), 1).indices(3, 4).tolist() == list(range(12))
    most = RandomKMask(MaskLayout([100]), 0.99).indices(3, 4)
    assert len(most) == 99 and len(set(most.tolist())) == 99


def test_segments_with_gaps():
    layout = MaskLayout.with_segments(400, [range(10, 110), (200, 300)])
    picked = RandomKMask(layout, 0.1).indices(1, 1)
    assert len(picked) == 20
    assert all(10 <= i < 110 or 200 <= i < 300 for i in picked.tolist())


def test_huge_tensor_costs_k_not_n():
    picked = RandomKMask(MaskLayout([2**31 - 1]), 1e-5).indices(1, 1)
    assert len(picked) == 21_474 and len(set(picked.tolist())) == 21_474


def test_bad_layouts_are_rejected():
    for make in [lambda: MaskLayout([3, -1]),
                 lambda: MaskLayout.with_segments(10, [(0, 5), (4, 8)]),
                 lambda: MaskLayout.with_segments(10, [(5, 8), (0, 2)]),
                 lambda: MaskLayout.with_segments(10, [(5, 11)]),
                 lambda: MaskLayout([2**31 - 1, 1]),
                 lambda: RandomKMask(MaskLayout([4]), 0),
                 lambda: RandomKMask(MaskLayout([4]), 1.5),
                 lambda: RandomKMask(MaskLayout([4]), math.nan)]:
        with pytest.raises(MaskLayoutError):
            make()
    with pytest.raises(MaskLayoutError, match="tensor 1 has negative size -1"):
        MaskLayout([3, -1])


# ---------------------------------------------------------------------------------------------
# matching.py: Matching, BandwidthMatrix (BaselineTopologyTests, BandwidthMatrixTests)


def test_worker_pairs_normalise_and_sort():
    assert WorkerPair(3, 1) == WorkerPair(1, 3) and (WorkerPair(3, 1).first, WorkerPair(3, 1).second) == (1, 3)
    assert sorted([WorkerPair(2, 0), WorkerPair(0, 1), WorkerPair(1, 5)]) == [WorkerPair(0, 1), WorkerPair(0, 2), WorkerPair(1, 5)]
    with pytest.raises(ValueError):
        WorkerPair(2, 2)


def test_matching_invariants():
    assert Matching([1, 0, None]).partner == (1, 0, None)
    for bad in [[1, 2, 1], [0], [3, 0], [-1, None]]:
        with pytest.raises(ValueError):
            Matching(bad)
    with pytest.raises(ValueError):
        Matching.from_pairs(4, [WorkerPair(0, 1), WorkerPair(1, 2)])
    with pytest.raises(ValueError):
        Matching.from_pairs(2, [WorkerPair(0, 2)])
    matching = Matching.from_pairs(5, [WorkerPair(3, 1), WorkerPair(0, 4)])
    assert matching.partner == (4, 3, None, 1, 0)
    assert matching.pairs == [WorkerPair(0, 4), WorkerPair(1, 3)]
    assert matching.resting == [2] and not matching.is_perfect
    bandwidth = BandwidthMatrix([[0, 1, 1, 1, 4], [1, 0, 1, 2, 1], [1, 1, 0, 1, 1], [1, 2, 1, 0, 1], [4, 1, 1, 1, 0]])
    assert matching.bottleneck(bandwidth) == 2
    assert matching.round_time(10, bandwidth) == 5
    assert Matching([None]).bottleneck(BandwidthMatrix([[0]])) is None


def test_bandwidth_matrix_validation():
    m = BandwidthMatrix([[7, 1.5, 2], [1.5, math.nan, 3], [2, 3, 0]])
    assert m.workers == 3 and m[0, 1] == 1.5 and m[2, 1] == 3
    assert m[1, 1] == 0 and m[0, 0] == 0, "the diagonal reads as 0"
    assert m.rows == [[0, 1.5, 2], [1.5, 0, 3], [2, 3, 0]]
    for rows, message in [([], "at least one worker"),
                          ([[0, 1], [1]], "row 1 has 1 values, expected 2"),
                          ([[0, 1, 2], [1, 0, 3]], "square"),
                          ([[0, 1], [2, 0]], "entry [0][1] is 1.0 but entry [1][0] is 2.0: the matrix must be symmetric"),
                          ([[0, -1], [-1, 0]], "entry [0][1]: bandwidth must not be negative, got -1.0"),
                          ([[0, math.inf], [math.inf, 0]], "finite"),
                          ([[0, math.nan], [math.nan, 0]], "entry [0][1]: bandwidth must be finite")]:
        with pytest.raises(BandwidthMatrixError) as caught:
            BandwidthMatrix(rows)
        assert message in str(caught.value)


# ---------------------------------------------------------------------------------------------
# matching.py: MaximumMatching, BottleneckMatching


def test_maximum_matching_ignores_self_loops_and_duplicates():
    assert MaximumMatching.compute_edges(3, [(0, 0), (0, 1), (1, 0), (0, 1), (2, 2)]) == [1, 0, None]
    assert MaximumMatching.compute_edges(0, []) == []


def test_maximum_matching_grows_a_given_matching():
    assert MaximumMatching.compute([[1], [0, 2], [1, 3], [2]], [None, 2, 1, None]) == [1, 0, 3, 2]


def test_maximum_matching_through_blossoms():
    edges = [(0, 1), (1, 2), (2, 0), (2, 3), (0, 4), (3, 5), (5, 6), (6, 7), (7, 8), (8, 3), (8, 9)]
    partner = MaximumMatching.compute_edges(10, edges)
    assert is_valid_matching(partner) and matched_pairs(partner) == 5
    flower = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 1), (2, 5)]
    assert matched_pairs(MaximumMatching.compute_edges(6, flower)) == 3


def test_maximum_matching_matches_brute_force():
    rng = SplitMix64(7)
    for trial in range(150):  # the Swift suite runs 600; the first 150 keep CPU light
        n = 1 + trial % 12
        adjacent = random_graph(n, [0.1, 0.2, 0.35, 0.5, 0.8][trial % 5], rng)
        partner = MaximumMatching.compute(adjacency_lists(adjacent))
        assert is_valid_matching(partner, lambda i, j: adjacent[i][j]), trial
        assert matched_pairs(partner) == maximum_matching_size(n, lambda i, j: adjacent[i][j]), trial


def test_bottleneck_of_perfect_matchings_is_optimal():
    for n in [4, 6, 8]:
        for seed in range(12):
            bandwidth = coarse_matrix(n, seed) if seed % 2 == 0 else uniform_random(n, seed)
            matching = Matching.from_pairs(n, BottleneckMatching.pairs(range(n), bandwidth))
            assert matching.is_perfect
            best = best_perfect_bottleneck(range(n), bandwidth, lambda i, j: True)
            assert matching.bottleneck(bandwidth) == best, (n, seed)


def test_bottleneck_on_restricted_links_is_maximum_then_strongest():
    rng = SplitMix64(3)
    for trial in range(60):
        n = 3 + trial % 6
        bandwidth = coarse_matrix(n, trial)
        adjacent = random_graph(n, 0.4, rng)
        pairs = BottleneckMatching.pairs(range(n), bandwidth, lambda i, j: adjacent[i][j])
        matching = Matching.from_pairs(n, pairs)
        assert is_valid_matching(matching.partner, lambda i, j: adjacent[i][j])
        maximum = maximum_matching_size(n, lambda i, j: adjacent[i][j])
        assert len(pairs) == maximum, trial
        bottleneck = matching.bottleneck(bandwidth)
        if bottleneck is not None:
            stronger = maximum_matching_size(n, lambda i, j: adjacent[i][j] and bandwidth[i, j] > bottleneck)
            assert stronger < maximum, trial


def test_bottleneck_uses_the_given_workers_only():
    bandwidth = uniform_random(7, 1)
    pairs = BottleneckMatching.pairs([1, 4, 5, 6], bandwidth)
    assert {w for p in pairs for w in p} == {1, 4, 5, 6}
    assert BottleneckMatching.pairs([3], bandwidth) == []
    assert BottleneckMatching.pairs([], bandwidth) == []
    assert BottleneckMatching.pairs([0, 1], bandwidth, lambda i, j: False) == []


# ---------------------------------------------------------------------------------------------
# matching.py: SAPSSelector (SAPSSelectorTests.swift)

A = [WorkerPair(0, 1), WorkerPair(2, 3)]
B = [WorkerPair(0, 3), WorkerPair(1, 2)]


def test_saps_forces_overdue_pairs_when_recent_topologies_disconnect():
    bandwidth = matrix_from_links({(0, 1): 10, (2, 3): 10, (0, 3): 2, (1, 2): 2, (0, 2): 1, (1, 3): 1}, 4)
    selector = SAPSSelector()
    decisions = [selector.decide(r, bandwidth) for r in range(10)]
    assert [d.matching.pairs for d in decisions] == [A, B, A, A, A, B, A, A, A, B]
    assert decisions[5].allowed_links == AllowedLinks.OVERDUE
    assert all(bandwidth[p.first, p.second] <= 3 for p in decisions[5].matching.pairs)
    assert decisions[4].allowed_links == AllowedLinks.HIGH_BANDWIDTH
    assert not any(d.used_fallback for d in decisions)


def test_saps_completes_on_all_links_without_a_perfect_matching():
    bandwidth = matrix_from_links({(0, 1): 10, (2, 3): 1, (0, 2): 2, (1, 3): 2, (0, 3): 1.5, (1, 2): 1.5}, 4)
    selector = SAPSSelector()
    first = selector.decide(0, bandwidth)
    assert first.allowed_links == AllowedLinks.OVERDUE  # no history: every pair is overdue
    assert first.matching.pairs == [WorkerPair(0, 2), WorkerPair(1, 3)]
    assert selector.decide(1, bandwidth).matching.pairs == B
    third = selector.decide(2, bandwidth)
    assert third.allowed_links == AllowedLinks.HIGH_BANDWIDTH
    assert third.allowed_pairs == [WorkerPair(0, 1)]
    assert third.completion_pairs == [WorkerPair(2, 3)]
    assert third.matching.is_perfect


@pytest.mark.parametrize("rule", OverdueRule.ALL)
@pytest.mark.parametrize("n", [1, 3, 5, 7])
def test_saps_odd_n_rests_each_worker_once_every_n_rounds(n, rule):
    bandwidth = uniform_random(n, 5)
    selector = SAPSSelector(overdue_rule=rule)
    rests = []
    for r in range(4 * n):
        decision = selector.decide(r, bandwidth)
        assert is_valid_matching(decision.matching.partner)
        assert decision.matching.resting == [decision.resting]
        assert len(decision.matching.pairs) == n // 2
        rests.append(decision.resting)
    for start in range(len(rests) - n + 1):
        assert sorted(rests[start:start + n]) == list(range(n)), (start, rests)
    assert rests[:n] == list(range(n)), "never-rested first, ties to the lowest index"
    assert selector.last_rested_round(0) == 3 * n


def reached(n, start, edge):
    """The workers `edge` reaches from `start` (an independent model of the recent parts)."""
    seen, stack = {start}, [start]
    while stack:
        v = stack.pop()
        for u in range(n):
            if u not in seen and u != v and edge(v, u):
                seen.add(u)
                stack.append(u)
    return seen


@pytest.mark.parametrize("rule", OverdueRule.ALL)
def test_saps_follows_the_rule_and_is_optimal_on_allowed_links(rule):
    # SAPSSelectorTests.followsTheRuleAndIsOptimalOnAllowedLinks at n = 6, fewer seeds and rounds.
    n, seen, fallbacks = 6, set(), 0
    for seed in range(6):
        bandwidth = coarse_matrix(n, seed) if seed % 2 == 0 else uniform_random(n, seed)
        selector, last = SAPSSelector(overdue_rule=rule), {}
        for r in range(12):
            def recent(i, j, r=r):
                return WorkerPair(i, j) in last and r - last[WorkerPair(i, j)] <= 3
            connected = len(reached(n, 0, recent)) == n
            if connected:
                allowed = lambda i, j: bandwidth[i, j] > 3  # noqa: E731
            elif rule == OverdueRule.ORIGINAL:
                allowed = lambda i, j: not recent(i, j)  # noqa: E731
            else:
                allowed = lambda i, j: j not in reached(n, i, recent)  # noqa: E731
            decision = selector.decide(r, bandwidth)
            where = f"seed {seed} round {r}"
            expected_links = (AllowedLinks.HIGH_BANDWIDTH if connected else
                              AllowedLinks.OVERDUE if rule == OverdueRule.ORIGINAL else AllowedLinks.BRIDGING)
            assert decision.allowed_links == expected_links, where
            assert decision.matching.is_perfect, where
            assert all(allowed(p.first, p.second) for p in decision.allowed_pairs), where
            assert set(decision.matching.pairs) == set(decision.allowed_pairs + decision.completion_pairs)
            best = best_perfect_bottleneck(range(n), bandwidth, allowed)
            if best is not None:
                assert not decision.used_fallback, where
                assert decision.matching.bottleneck(bandwidth) == best, where
            else:
                fallbacks += 1
                assert decision.used_fallback, where
                assert len(decision.allowed_pairs) == maximum_matching_size(n, allowed), where
            seen.add(decision.allowed_links)
            for p in decision.matching.pairs:
                last[p] = r
            assert selector.last_matched_round(*decision.matching.pairs[0]) == r
    assert AllowedLinks.HIGH_BANDWIDTH in seen and len(seen) == 2 and fallbacks > 0, (seen, fallbacks)


def test_saps_plan_does_not_record_and_same_inputs_agree():
    bandwidth = uniform_random(8, 9)
    one, two = SAPSSelector(), SAPSSelector()
    for r in range(15):
        preview = one.plan(r, bandwidth)
        assert preview == one.decide(r, bandwidth)
        assert two.matching(r, bandwidth) == preview.matching
    assert one == two


def test_saps_another_worker_count_starts_a_fresh_history():
    selector = SAPSSelector()
    first = selector.matching(0, uniform_random(6, 1))
    assert selector.last_matched_round(0, first.partner[0]) == 0
    smaller = uniform_random(4, 2)
    assert selector.matching(1, smaller) == SAPSSelector().matching(1, smaller)
    assert selector.workers == 4 and selector.last_matched_round(0, 5) is None


def test_saps_bridging_keeps_fast_clusters_connected():
    # SAPSSelectorTests.bridgingKeepsFastClustersConnected: four fast sites of 32 workers.
    n, clusters = 32, 4
    bandwidth = clustered(n, clusters, 1)
    crossing = lambda m: sum(p.first % clusters != p.second % clusters for p in m.pairs)  # noqa: E731
    original = SAPSSelector()
    decisions = [original.decide(r, bandwidth) for r in range(60)]
    assert all(crossing(d.matching) == 0 and d.allowed_links == AllowedLinks.OVERDUE for d in decisions)

    bridging, random = SAPSSelector(overdue_rule=OverdueRule.BRIDGE_COMPONENTS), RandomMatchingSelector(1)
    bridging_time = random_time = 0.0
    connected_rounds = crossing_rounds = 0
    for r in range(60):
        decision = bridging.decide(r, bandwidth)
        assert decision.matching.is_perfect
        if decision.allowed_links == AllowedLinks.HIGH_BANDWIDTH:
            connected_rounds += 1
            assert crossing(decision.matching) == 0
        crossing_rounds += crossing(decision.matching) > 0
        bridging_time += decision.matching.round_time(1, bandwidth)
        random_time += random.matching(r, n).round_time(1, bandwidth)
    assert connected_rounds >= 20 and crossing_rounds >= 10
    assert bridging_time < random_time / 2


def test_saps_handles_hundreds_of_workers():
    bandwidth, selector = clustered(128, 8, 1), SAPSSelector()
    for r in range(4):
        matching = selector.matching(r, bandwidth)
        assert is_valid_matching(matching.partner) and matching.is_perfect


# ---------------------------------------------------------------------------------------------
# matching.py: RandomMatchingSelector (BaselineTopologyTests.swift)


def test_random_matching_is_perfect_and_reproducible():
    selector = RandomMatchingSelector(42)
    for n in [2, 4, 8, 14, 100]:
        seen = set()
        for r in range(20):
            matching = selector.matching(r, n)
            assert is_valid_matching(matching.partner) and matching.is_perfect
            assert RandomMatchingSelector(42).matching(r, n) == matching
            seen.add(matching)
        if n >= 14:
            assert len(seen) == 20
    assert RandomMatchingSelector(1).matching(0, 32) != RandomMatchingSelector(2).matching(0, 32)


def test_random_matching_is_the_shuffle_paired_in_order():
    order = list(range(6))
    SplitMix64(SeedDerivation.derive(9, 4)).shuffle(order)
    expected = sorted(WorkerPair(order[k], order[k + 1]) for k in range(0, 6, 2))
    assert RandomMatchingSelector(9).matching(4, 6).pairs == expected
    # A negative round is its Int64 bit pattern as a UInt64.
    order = list(range(6))
    SplitMix64(SeedDerivation.derive(9, 2**64 - 1)).shuffle(order)
    expected = sorted(WorkerPair(order[k], order[k + 1]) for k in range(0, 6, 2))
    assert RandomMatchingSelector(9).matching(-1, 6).pairs == expected


def test_random_matching_is_uniform():
    selector, counts = RandomMatchingSelector(3), {}
    for r in range(3000):
        matching = selector.matching(r, 4)
        counts[matching] = counts.get(matching, 0) + 1
    assert len(counts) == 3 and all(900 <= c <= 1100 for c in counts.values()), counts


def test_random_matching_rests_in_turn_for_odd_n():
    selector, bandwidth = RandomMatchingSelector(5), uniform_random(7, 1)
    for r in range(21):
        matching = selector.matching(r, bandwidth)
        assert is_valid_matching(matching.partner) and matching.resting == [r % 7]
    assert selector.matching(-1, 7).resting == [6], "Swift's ((round % n) + n) % n"


# ---------------------------------------------------------------------------------------------
# mixing.py (MaskedExchangeTests.swift, DenseMixingTests.swift)


def fl(*values):
    return np.array(values, dtype=np.float32)


def test_merge_averages_only_masked_coordinates():
    params = fl(1, 2, 3, 4, 5)
    assert masked_merge_average(params, [1, 4], fl(4, -5)).tolist() == [1, 3, 3, 4, 0]
    assert params.tolist() == [1, 2, 3, 4, 5], "a new array; the input stays"
    assert gather(fl(10, 11, 12, 13, 14), [0, 3, 4]).tolist() == [10, 13, 14]


def test_partners_agree_after_the_exchange():
    indices = RandomKMask(MaskLayout([50, 30]), 0.2).indices(4, 9)
    a0 = np.arange(80, dtype=np.float32)
    b0 = np.float32(200) - np.arange(80, dtype=np.float32)
    a = masked_merge_average(a0, indices, gather(b0, indices))
    b = masked_merge_average(b0, indices, gather(a0, indices))
    masked = np.zeros(80, dtype=bool)
    masked[indices] = True
    assert (a[masked] == b[masked]).all() and (a[masked] == (a0[masked] + b0[masked]) / np.float32(2)).all()
    assert (a[~masked] == a0[~masked]).all() and (b[~masked] == b0[~masked]).all()


def test_merge_is_float32_halves_then_sum():
    big = np.finfo(np.float32).max
    assert masked_merge_average(fl(big), [0], fl(big)).tolist() == [float(big)]
    # Subnormals halve with rounding (ties to even), as IEEE float32 without flush to zero:
    # 1 ulp -> 0.5 ulp rounds to 0, 3 ulp -> 1.5 ulp rounds to 2, so x averaged with itself moves.
    for ulps, merged in [(1, 0), (3, 4)]:
        tiny = np.array([ulps], dtype=np.uint32).view(np.float32)
        assert bits(masked_merge_average(tiny, [0], tiny)) == [merged]
    x = fl(1.1, 2.7, -3.3)
    y = fl(0.3, 1e-8, 7.9)
    expected = [np.float32(np.float32(p) * np.float32(0.5)) + np.float32(np.float32(q) * np.float32(0.5)) for p, q in zip(x, y)]
    assert bits(masked_merge_average(x, [0, 1, 2], y)) == bits(expected)


def test_merge_refuses_non_finite_values_and_changes_nothing():
    for bad in [math.nan, math.inf, -math.inf]:
        params = fl(1, 2, 3, 4)
        with pytest.raises(ValueError, match=r"^partner value 2 \(parameter 3\) is not finite$"):
            masked_merge_average(params, [0, 1, 3], fl(9, 9, bad))
        assert params.tolist() == [1, 2, 3, 4]


def test_merge_refuses_wrong_counts_and_bad_indices_and_changes_nothing():
    params = fl(1, 2, 3, 4)
    for indices, values, message in [
            ([0, 1], fl(5, 6, 7), "partner sent 3 values for a mask of 2"),
            ([2, 2], fl(5, 6), "mask index 1 does not increase: a mask is sorted and has no repeats"),
            ([0, -1], fl(5, 6), "mask index 1 is -1, outside the 4 parameters"),
            ([4], fl(5), "mask index 0 is 4, outside the 4 parameters"),
            ([3, 9], fl(5, math.nan), "mask index 1 is 9, outside the 4 parameters")]:
        with pytest.raises(ValueError) as caught:
            masked_merge_average(params, np.array(indices, dtype=np.int32), values)
        assert str(caught.value) == message
    assert params.tolist() == [1, 2, 3, 4]
    with pytest.raises(TypeError):
        masked_merge_average(np.array([1.0, 2.0]), [0], fl(1))  # float64 would change the bits


def test_wire_bytes_round_trip_and_merge_like_arrays():
    values = fl(1, -2.5, 3e-38)
    data = values_to_bytes(values)
    assert data[:4] == bytes([0, 0, 128, 63])  # 1.0f little-endian
    assert bits(bytes_to_values(data)) == bits(values)
    params = fl(1, 2, 3, 4)
    assert masked_merge_average_bytes(params, [0, 3], values_to_bytes(fl(3, 6))).tolist() == [2, 2, 3, 5]
    nan = np.array([np.nan], dtype=np.float32)
    for data, message in [(bytes([0, 0, 128]), "partner sent 3 bytes of float32 values, not a multiple of 4"),
                          (bytes([0, 0, 128, 63]), "partner sent 1 values for a mask of 2"),
                          (bytes([0, 0, 128, 63]) + values_to_bytes(nan), "partner value 1 (parameter 3) is not finite")]:
        with pytest.raises(ValueError) as caught:
            masked_merge_average_bytes(params, [0, 3], data)
        assert str(caught.value) == message
    assert params.tolist() == [1, 2, 3, 4]


def test_dense_mix_takes_a_third_of_itself_and_each_neighbour():
    params = fl(3, 6, -9)
    assert dense_mix(params, [fl(0, 3, 0), fl(0, 0, 3)]).tolist() == [1, 3, -2]
    assert params.tolist() == [3, 6, -9]


def test_dense_mix_is_float32_sum_in_order_then_scale():
    rng = np.random.default_rng(11)
    own, left, right = (rng.uniform(-2, 2, 257).astype(np.float32) for _ in range(3))
    weight = np.float32(1) / np.float32(3)
    expected = [np.float32(np.float32(np.float32(o + l) + r) * weight) for o, l, r in zip(own, left, right)]
    assert bits(dense_mix(own, [left, right])) == bits(expected)
    assert bits(dense_mix_bytes(own, [values_to_bytes(left), values_to_bytes(right)])) == bits(expected)


def test_dense_mix_one_neighbour_is_the_pairwise_average_and_none_changes_nothing():
    assert dense_mix(fl(2, 4), [fl(4, 0)]).tolist() == [3, 2]
    assert dense_mix(fl(3, 2), []).tolist() == [3, 2]
    assert dense_mix_bytes(fl(3, 2), []).tolist() == [3, 2]


def test_dense_mix_refuses_bad_neighbours_and_changes_nothing():
    params = fl(1, 2, 3)
    good = values_to_bytes(fl(1, 1, 1))
    for bad, message in [(values_to_bytes(fl(1, math.nan, 1)), "partner value 1 (parameter 1) is not finite"),
                         (values_to_bytes(fl(1, 1, math.inf)), "partner value 2 (parameter 2) is not finite"),
                         (values_to_bytes(fl(1, 1)), "partner sent 2 values for a mask of 3"),
                         (values_to_bytes(fl(1, 1, 1))[:-1], "partner sent 11 bytes of float32 values, not a multiple of 4")]:
        with pytest.raises(ValueError) as caught:
            dense_mix_bytes(params, [good, bad])
        assert str(caught.value) == message
    with pytest.raises(ValueError, match="differ in size"):
        dense_mix(params, [fl(1, 2)])
    assert params.tolist() == [1, 2, 3]
