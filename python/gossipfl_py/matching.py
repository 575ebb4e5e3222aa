"""Who exchanges with whom each round: SAPS and the random-matching baseline.

Ports Sources/Gossip/{Matching,BandwidthMatrix,MaximumMatching,BottleneckMatching,
SAPSSelector,RandomMatchingSelector}.swift line by line: the iteration orders, tie-breaks and
history updates are what make every node pick the same matching, so they are kept as they are.
"""

import copy
import math
from typing import Callable, List, Optional, Sequence, Tuple, Union

from .seeded import U64_MASK, SeedDerivation, SplitMix64

Allowed = Callable[[int, int], bool]


# ---------------------------------------------------------------------------------------------
# Matching.swift


class WorkerPair:
    """Mirrors `WorkerPair`: normalised so first < second, ordered by (first, second)."""

    __slots__ = ("first", "second")

    def __init__(self, a: int, b: int) -> None:
        a, b = int(a), int(b)
        if a == b:
            raise ValueError("a worker cannot pair with itself")
        self.first = min(a, b)
        self.second = max(a, b)

    def _key(self) -> Tuple[int, int]:
        return (self.first, self.second)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WorkerPair) and self._key() == other._key()

    def __lt__(self, other: "WorkerPair") -> bool:
        return self._key() < other._key()

    def __le__(self, other: "WorkerPair") -> bool:
        return self._key() <= other._key()

    def __gt__(self, other: "WorkerPair") -> bool:
        return self._key() > other._key()

    def __ge__(self, other: "WorkerPair") -> bool:
        return self._key() >= other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __iter__(self):
        return iter(self._key())

    def __repr__(self) -> str:
        return f"WorkerPair({self.first}, {self.second})"

    def __str__(self) -> str:
        return f"{self.first}-{self.second}"


class Matching:
    """Mirrors `Matching`: partner[i] == j <=> partner[j] == i; None rests.

    Swift's failable initialisers return nil on bad input; here they raise ValueError.
    """

    __slots__ = ("partner",)

    def __init__(self, partner: Sequence[Optional[int]]) -> None:
        """`init?(partner:)`: symmetric, in range, nobody paired with itself."""
        partner = [None if p is None else int(p) for p in partner]
        for i, j in enumerate(partner):
            if j is None:
                continue
            # The range test comes first: Python would read partner[-1] where Swift traps.
            if not (0 <= j < len(partner) and j != i and partner[j] == i):
                raise ValueError(f"partner {partner} is not a matching (worker {i})")
        self.partner = tuple(partner)

    @classmethod
    def from_pairs(cls, workers: int, pairs: Sequence[Union[WorkerPair, Tuple[int, int]]]) -> "Matching":
        """`init?(workers:pairs:)`: fails if a worker appears twice or is out of range."""
        partner: List[Optional[int]] = [None] * workers
        for pair in pairs:
            pair = pair if isinstance(pair, WorkerPair) else WorkerPair(*pair)
            if not (pair.first >= 0 and pair.second < workers
                    and partner[pair.first] is None and partner[pair.second] is None):
                raise ValueError(f"pair {pair} repeats a worker or is outside {workers} workers")
            partner[pair.first] = pair.second
            partner[pair.second] = pair.first
        matching = cls.__new__(cls)
        matching.partner = tuple(partner)
        return matching

    @property
    def workers(self) -> int:
        return len(self.partner)

    @property
    def pairs(self) -> List[WorkerPair]:
        """Sorted by first worker."""
        return [WorkerPair(i, p) for i, p in enumerate(self.partner) if p is not None and p > i]

    @property
    def resting(self) -> List[int]:
        """Workers without a partner this round."""
        return [i for i, p in enumerate(self.partner) if p is None]

    @property
    def is_perfect(self) -> bool:
        return all(p is not None for p in self.partner)

    def bottleneck(self, bandwidth: "BandwidthMatrix") -> Optional[float]:
        """The weakest link in use; None with no pairs."""
        if bandwidth.workers != self.workers:
            raise ValueError(f"a {bandwidth.workers}-worker matrix for {self.workers} workers")
        links = [bandwidth[p.first, p.second] for p in self.pairs]
        return min(links) if links else None

    def round_time(self, payload: float, bandwidth: "BandwidthMatrix") -> float:
        """The slowest pair's time to swap `payload`: 0 with no pairs, inf over a 0 link."""
        slowest = self.bottleneck(bandwidth)
        if slowest is None:
            return 0.0
        return payload / slowest if slowest > 0 else math.inf

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Matching) and self.partner == other.partner

    def __hash__(self) -> int:
        return hash(self.partner)

    def __repr__(self) -> str:
        rest = f" rest {self.resting}" if self.resting else ""
        return f"Matching({' '.join(str(p) for p in self.pairs)}{rest})"


# ---------------------------------------------------------------------------------------------
# BandwidthMatrix.swift


class BandwidthMatrixError(ValueError):
    """Mirrors `BandwidthMatrixError` (its description is the message)."""


def _swift_double(x: float) -> str:
    """Close to Swift's Double description (1.0, 1.5, nan, inf) for error messages."""
    return repr(float(x))


class BandwidthMatrix:
    """Mirrors `BandwidthMatrix(rows:)`: square, finite, non-negative, symmetric off the
    diagonal. The diagonal is not validated and reads as 0."""

    __slots__ = ("workers", "_values")

    def __init__(self, rows: Sequence[Sequence[float]]) -> None:
        n = len(rows)
        if n == 0:
            raise BandwidthMatrixError("a bandwidth matrix needs at least one worker")
        for i, row in enumerate(rows):
            if len(row) != n:
                raise BandwidthMatrixError(
                    f"row {i} has {len(row)} values, expected {n}: the matrix must be square "
                    "(one row and one column per worker)")
        values = [0.0] * (n * n)
        for i in range(n):
            for j in range(n):
                if j == i:
                    continue
                b = float(rows[i][j])
                if not math.isfinite(b):
                    raise BandwidthMatrixError(
                        f"entry [{i}][{j}]: bandwidth must be finite, got {_swift_double(b)}")
                if not b >= 0:
                    raise BandwidthMatrixError(
                        f"entry [{i}][{j}]: bandwidth must not be negative, got {_swift_double(b)}")
                if j < i and float(rows[j][i]) != b:
                    raise BandwidthMatrixError(
                        f"entry [{j}][{i}] is {_swift_double(rows[j][i])} but entry [{i}][{j}] is "
                        f"{_swift_double(b)}: the matrix must be symmetric")
                values[i * n + j] = b
        self.workers = n
        self._values = values

    def __getitem__(self, index: Tuple[int, int]) -> float:
        """Bandwidth of the link between i and j; 0 when i == j."""
        i, j = index
        if not (0 <= i < self.workers and 0 <= j < self.workers):
            raise IndexError(f"link [{i}][{j}] outside {self.workers} workers")
        return self._values[i * self.workers + j]

    @property
    def rows(self) -> List[List[float]]:
        n = self.workers
        return [self._values[i * n:(i + 1) * n] for i in range(n)]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BandwidthMatrix) and self._values == other._values

    def __hash__(self) -> int:
        return hash(tuple(self._values))

    def __repr__(self) -> str:
        return f"BandwidthMatrix({self.rows})"


def as_bandwidth(bandwidth: Union[BandwidthMatrix, Sequence[Sequence[float]]]) -> BandwidthMatrix:
    """Accept rows as well as a matrix, validating them as `init(rows:)` does."""
    return bandwidth if isinstance(bandwidth, BandwidthMatrix) else BandwidthMatrix(bandwidth)


# ---------------------------------------------------------------------------------------------
# MaximumMatching.swift


class _BlossomSearch:
    """Mirrors the private `BlossomSearch`: flat int lists, -1 for none."""

    def __init__(self, adjacency: Sequence[Sequence[int]]) -> None:
        n = len(adjacency)
        self.adjacency = adjacency
        self.mate = [-1] * n
        self.parent = [-1] * n  # parent[v]: the even vertex that reached odd vertex v
        self.base = list(range(n))  # each vertex's blossom base
        self.even = [False] * n  # even ("outer") vertices of the current tree
        self.in_blossom = [False] * n
        self.on_path = [False] * n
        self.queue: List[int] = []

    def match_greedily(self) -> None:
        """A maximal matching first: each free v takes its first free neighbour."""
        mate = self.mate
        for v in range(len(self.adjacency)):
            if mate[v] != -1:
                continue
            for u in self.adjacency[v]:
                if u != v and mate[u] == -1:
                    mate[v] = u
                    mate[u] = v
                    break

    def augment(self, root: int) -> bool:
        """Grows an alternating tree from free `root`; flips the path on reaching a free vertex."""
        n = len(self.mate)
        mate, parent, base, even = self.mate, self.parent, self.base, self.even
        for i in range(n):
            even[i] = False
            parent[i] = -1
            base[i] = i
        even[root] = True
        queue = self.queue
        queue.clear()
        queue.append(root)
        head = 0
        while head < len(queue):
            v = queue[head]
            head += 1
            for to in self.adjacency[v]:
                if base[v] == base[to] or mate[v] == to:
                    continue
                if to == root or (mate[to] != -1 and parent[mate[to]] != -1):
                    # Even-even edge: an odd cycle. Contract it into its base.
                    b = self._lowest_common_ancestor(v, to)
                    in_blossom = self.in_blossom
                    for i in range(n):
                        in_blossom[i] = False
                    self._mark_path(v, b, to)
                    self._mark_path(to, b, v)
                    for i in range(n):
                        if in_blossom[base[i]]:
                            base[i] = b
                            if not even[i]:
                                even[i] = True
                                queue.append(i)
                elif parent[to] == -1:
                    parent[to] = v
                    if mate[to] == -1:
                        self._flip(to)
                        return True
                    even[mate[to]] = True
                    queue.append(mate[to])
        return False

    def _lowest_common_ancestor(self, a: int, b: int) -> int:
        """The base where the tree paths from even a and b meet."""
        on_path, base, mate, parent = self.on_path, self.base, self.mate, self.parent
        for i in range(len(on_path)):
            on_path[i] = False
        while True:
            a = base[a]
            on_path[a] = True
            if mate[a] == -1:  # the root
                break
            a = parent[mate[a]]
        while True:
            b = base[b]
            if on_path[b]:
                return b
            b = parent[mate[b]]

    def _mark_path(self, v: int, b: int, child: int) -> None:
        """Marks the blossoms from v down to base b; points odd vertices back across the cycle."""
        base, mate, parent, in_blossom = self.base, self.mate, self.parent, self.in_blossom
        while base[v] != b:
            in_blossom[base[v]] = True
            in_blossom[base[mate[v]]] = True
            parent[v] = child
            child = mate[v]
            v = parent[mate[v]]

    def _flip(self, end: int) -> None:
        mate, parent = self.mate, self.parent
        v = end
        while v != -1:
            pv = parent[v]
            nxt = mate[pv]
            mate[v] = pv
            mate[pv] = v
            v = nxt


class MaximumMatching:
    """Mirrors `MaximumMatching`: Edmonds' blossom algorithm, deterministic in the adjacency order."""

    @staticmethod
    def compute(adjacency: Sequence[Sequence[int]],
                starting_from: Optional[Sequence[Optional[int]]] = None) -> List[Optional[int]]:
        """`compute(adjacency:)` and the internal `compute(adjacency:startingFrom:)`: each
        vertex's partner. `starting_from` must be a matching of this graph."""
        search = _BlossomSearch(adjacency)
        if starting_from is not None:
            if len(starting_from) != len(adjacency):
                raise ValueError("the starting matching is for another vertex count")
            for v, u in enumerate(starting_from):
                search.mate[v] = -1 if u is None else u
        else:
            search.match_greedily()
        # One pass: a vertex with no augmenting path never gains one as others augment.
        for root in range(len(adjacency)):
            if search.mate[root] == -1:
                search.augment(root)
        return [None if m == -1 else m for m in search.mate]

    @staticmethod
    def compute_edges(vertex_count: int, edges: Sequence[Tuple[int, int]]) -> List[Optional[int]]:
        """`compute(vertexCount:edges:)`: self-loops dropped, edges appended in order both ways."""
        adjacency: List[List[int]] = [[] for _ in range(vertex_count)]
        for u, v in edges:
            if u == v:
                continue
            if not (0 <= u < vertex_count and 0 <= v < vertex_count):
                raise ValueError(f"edge ({u}, {v}) out of range")
            adjacency[u].append(v)
            adjacency[v].append(u)
        return MaximumMatching.compute(adjacency)


# ---------------------------------------------------------------------------------------------
# BottleneckMatching.swift


def _size(mate: Sequence[Optional[int]]) -> int:
    return sum(1 for p in mate if p is not None) // 2


class BottleneckMatching:
    """Mirrors `BottleneckMatching`: the maximum matching whose weakest link is strongest."""

    @staticmethod
    def pairs(among: Sequence[int], bandwidth: BandwidthMatrix,
              allowed: Optional[Allowed] = None) -> List[WorkerPair]:
        """`pairs(among:bandwidth:allowed:)`: binary search over the distinct link bandwidths,
        each probe a blossom matching on the links at least that strong. Sorted pairs."""
        workers = list(among)
        m = len(workers)
        edges: List[Tuple[int, int, float]] = []
        for a in range(m):
            for b in range(a + 1, m):
                if allowed is None or allowed(workers[a], workers[b]):
                    edges.append((a, b, bandwidth[workers[a], workers[b]]))
        if not edges:
            return []
        # Strongest first: probe i keeps the links of bandwidth >= weights[i].
        weights = sorted(set(w for _, _, w in edges), reverse=True)

        def probe(i: int, initial: Optional[List[Optional[int]]]) -> List[Optional[int]]:
            adjacency: List[List[int]] = [[] for _ in range(m)]
            for a, b, w in edges:
                if w >= weights[i]:
                    adjacency[a].append(b)
                    adjacency[b].append(a)
            return MaximumMatching.compute(adjacency, initial)

        best = probe(len(weights) - 1, None)
        target = _size(best)
        if target == 0:
            return []
        # Feasibility is monotone in i; a failed probe's matching warms the later probes.
        lo, hi = 0, len(weights) - 1
        warm: Optional[List[Optional[int]]] = None
        while lo < hi:
            mid = (lo + hi) // 2
            mate = probe(mid, warm)
            if _size(mate) == target:
                hi = mid
                best = mate
            else:
                lo = mid + 1
                warm = mate
        return sorted(WorkerPair(workers[a], workers[p])
                      for a, p in enumerate(best) if p is not None and p > a)


# ---------------------------------------------------------------------------------------------
# SAPSSelector.swift


class OverdueRule:
    """`SAPSSelector.OverdueRule`, by its Swift case name."""
    ORIGINAL = "original"
    BRIDGE_COMPONENTS = "bridgeComponents"
    ALL = (ORIGINAL, BRIDGE_COMPONENTS)


class AllowedLinks:
    """`SAPSSelector.AllowedLinks`, by its Swift case name."""
    HIGH_BANDWIDTH = "highBandwidth"
    OVERDUE = "overdue"
    BRIDGING = "bridging"


class SAPSDecision:
    """Mirrors `SAPSDecision`: one round's matching and how it was reached."""

    __slots__ = ("matching", "allowed_links", "allowed_pairs", "completion_pairs", "resting")

    def __init__(self, matching: Matching, allowed_links: str, allowed_pairs: List[WorkerPair],
                 completion_pairs: List[WorkerPair], resting: Optional[int]) -> None:
        self.matching = matching
        self.allowed_links = allowed_links
        self.allowed_pairs = allowed_pairs
        self.completion_pairs = completion_pairs
        self.resting = resting

    @property
    def used_fallback(self) -> bool:
        return bool(self.completion_pairs)

    def _key(self):
        return (self.matching, self.allowed_links, tuple(self.allowed_pairs),
                tuple(self.completion_pairs), self.resting)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SAPSDecision) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (f"SAPSDecision({self.matching!r}, {self.allowed_links}, allowed={self.allowed_pairs}, "
                f"completion={self.completion_pairs}, resting={self.resting})")


class SAPSSelector:
    """Mirrors `SAPSSelector`: the same history and inputs give the same matching on every node.

    A matrix of another worker count starts a fresh history, as in Swift.
    """

    def __init__(self, bandwidth_threshold: float = 3.0, round_threshold: int = 3,
                 overdue_rule: str = OverdueRule.ORIGINAL) -> None:
        bandwidth_threshold = float(bandwidth_threshold)
        if math.isnan(bandwidth_threshold):
            raise ValueError("B_thres must be a number")
        if round_threshold < 0:
            raise ValueError("T_thres must not be negative")
        if overdue_rule not in OverdueRule.ALL:
            raise ValueError(f"overdue rule must be one of {OverdueRule.ALL}, got {overdue_rule!r}")
        self.bandwidth_threshold = bandwidth_threshold
        self.round_threshold = int(round_threshold)
        self.overdue_rule = overdue_rule
        self.workers = 0
        # R[i][j], row-major: the last round i and j were matched; None if never.
        self._last_matched: List[Optional[int]] = []
        self._last_rested: List[Optional[int]] = []

    def matching(self, round: int, bandwidth: Union[BandwidthMatrix, Sequence[Sequence[float]]]) -> Matching:
        return self.decide(round, bandwidth).matching

    def decide(self, round: int, bandwidth: Union[BandwidthMatrix, Sequence[Sequence[float]]]) -> SAPSDecision:
        """This round's matching with how it was reached; recorded in the history."""
        bandwidth = as_bandwidth(bandwidth)
        round = int(round)
        if bandwidth.workers != self.workers:
            self._reset(bandwidth.workers)
        decision = self.plan(round, bandwidth)
        n = self.workers
        for pair in decision.matching.pairs:
            self._last_matched[pair.first * n + pair.second] = round
            self._last_matched[pair.second * n + pair.first] = round
        if decision.resting is not None:
            self._last_rested[decision.resting] = round
        return decision

    def plan(self, round: int, bandwidth: Union[BandwidthMatrix, Sequence[Sequence[float]]]) -> SAPSDecision:
        """What `decide` would choose, without recording it."""
        bandwidth = as_bandwidth(bandwidth)
        round = int(round)
        if round < 0:
            raise ValueError("rounds count from 0")
        n = bandwidth.workers
        if n != self.workers:
            fresh = copy.deepcopy(self)
            fresh._reset(n)
            return fresh.plan(round, bandwidth)
        resting = self._next_to_rest() if n % 2 == 1 else None
        active = [i for i in range(n) if i != resting]
        part = self.recent_components(round)
        if all(p == 0 for p in part):
            allowed_links = AllowedLinks.HIGH_BANDWIDTH
        elif self.overdue_rule == OverdueRule.ORIGINAL:
            allowed_links = AllowedLinks.OVERDUE
        else:
            allowed_links = AllowedLinks.BRIDGING

        def allowed(i: int, j: int) -> bool:
            if allowed_links == AllowedLinks.HIGH_BANDWIDTH:
                return bandwidth[i, j] > self.bandwidth_threshold
            if allowed_links == AllowedLinks.OVERDUE:
                return self.is_overdue(i, j, round)
            return part[i] != part[j]

        allowed_pairs = BottleneckMatching.pairs(active, bandwidth, allowed)
        left = _unmatched(active, allowed_pairs)
        completion_pairs: List[WorkerPair] = []
        if allowed_links == AllowedLinks.BRIDGING and len(left) > 1:
            # Those no bridge reached pair on overdue links first, as the original rule would.
            completion_pairs = BottleneckMatching.pairs(
                left, bandwidth, lambda i, j: self.is_overdue(i, j, round))
            left = _unmatched(left, completion_pairs)
        # Whoever is left (an even number) can always pair up when every link may be used.
        completion_pairs = completion_pairs + BottleneckMatching.pairs(left, bandwidth)
        try:
            matching = Matching.from_pairs(n, allowed_pairs + completion_pairs)
        except ValueError as error:  # Swift: preconditionFailure
            raise AssertionError("bottleneck matching returned overlapping pairs") from error
        return SAPSDecision(matching, allowed_links, allowed_pairs, completion_pairs, resting)

    def last_matched_round(self, i: int, j: int) -> Optional[int]:
        """The last round i and j were matched; None if never (or for another worker count)."""
        if 0 <= i < self.workers and 0 <= j < self.workers:
            return self._last_matched[i * self.workers + j]
        return None

    def last_rested_round(self, i: int) -> Optional[int]:
        return self._last_rested[i] if 0 <= i < self.workers else None

    def is_recent(self, i: int, j: int, round: int) -> bool:
        """Matched within the last T_thres rounds: round - R <= T_thres (complement of overdue)."""
        last = self._last_matched[i * self.workers + j]
        if last is None:
            return False
        return round - last <= self.round_threshold

    def is_overdue(self, i: int, j: int, round: int) -> bool:
        return not self.is_recent(i, j, round)

    def recent_components(self, round: int) -> List[int]:
        """Connected parts of the union of recent pairs, a label per worker (0 for worker 0's);
        depth-first from each unlabelled worker in index order, the stack popped from its end."""
        n = self.workers
        part = [-1] * n
        parts = 0
        for start in range(n):
            if part[start] != -1:
                continue
            part[start] = parts
            stack = [start]
            while stack:
                v = stack.pop()
                for u in range(n):
                    if part[u] == -1 and self.is_recent(v, u, round):
                        part[u] = parts
                        stack.append(u)
            parts += 1
        return part

    def _next_to_rest(self) -> int:
        """The worker that rested longest ago (never first), ties to the lowest index."""
        best = 0
        rested = self._last_rested
        for i in range(1, self.workers):
            mine, theirs = rested[i], rested[best]
            if mine is None and theirs is not None:
                best = i
            elif mine is not None and theirs is not None and mine < theirs:
                best = i
        return best

    def _reset(self, n: int) -> None:
        self.workers = n
        self._last_matched = [None] * (n * n)
        self._last_rested = [None] * n

    def _key(self):
        return (self.bandwidth_threshold, self.round_threshold, self.overdue_rule, self.workers,
                tuple(self._last_matched), tuple(self._last_rested))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SAPSSelector) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())


def _unmatched(workers: Sequence[int], pairs: Sequence[WorkerPair]) -> List[int]:
    matched = {w for p in pairs for w in (p.first, p.second)}
    return [w for w in workers if w not in matched]


# ---------------------------------------------------------------------------------------------
# RandomMatchingSelector.swift

_INT64_MIN, _INT64_MAX = -2**63, 2**63 - 1


class RandomMatchingSelector:
    """Mirrors `RandomMatchingSelector`: a uniformly random perfect matching from (seed, round);
    with odd n, worker round mod n rests."""

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)

    def matching(self, round: int, workers: Union[int, BandwidthMatrix]) -> Matching:
        """`matching(round:workers:)`; a BandwidthMatrix stands for its worker count, as in
        `matching(round:bandwidth:)`."""
        n = workers.workers if isinstance(workers, BandwidthMatrix) else int(workers)
        round = int(round)
        if n < 0:
            raise ValueError("worker count must not be negative")
        if not _INT64_MIN <= round <= _INT64_MAX:
            raise ValueError(f"round {round} is outside Int64")
        order = list(range(n))
        if n % 2 == 1:
            # Python's % is already the floored ((round % n) + n) % n of the Swift code.
            order.pop(round % n)
        # UInt64(bitPattern: Int64(round)): negative rounds wrap to their two's complement.
        rng = SplitMix64(SeedDerivation.derive(self.seed, round & U64_MASK))
        rng.shuffle(order)
        pairs = [WorkerPair(order[k], order[k + 1]) for k in range(0, len(order) - 1, 2)]
        return Matching.from_pairs(n, pairs)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RandomMatchingSelector) and self.seed == other.seed

    def __hash__(self) -> int:
        return hash(self.seed)
