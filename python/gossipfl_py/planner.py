"""Round-by-round plans from the committed ledger alone, the same on every peer.

Mirrors Sources/Training/RoundPlanner.swift: SAPS (with the run's B_thres and T_thres) or the
random matching over the round's participants in node-id order, D-PSGD's ring in slot order.
"""

from typing import List, Optional, Sequence, Tuple

from .ledger import Algorithm, Participant, RunConfiguration, TrainingLedger
from .matching import RandomMatchingSelector, SAPSSelector
from .seeded import SeedDerivation

# SeedDerivation parts: the random matching's seed and the random-k mask's.
_RANDOM_MATCHING_PART = 5
_MASK_PART = 6


class RoundPlan:
    """Mirrors `RoundPlan`: round r's links by node id. A matching for SAPS and random (each
    node in at most one pair), the ring's edges for D-PSGD (each node in two)."""

    __slots__ = ("round", "participants", "pairs", "resting")

    def __init__(self, round: int, participants: Sequence[Participant], pairs: Sequence[Tuple[str, str]],
                 resting: Optional[str]) -> None:
        self.round = round
        self.participants = tuple(participants)
        self.pairs = tuple((a, b) for a, b in pairs)
        self.resting = resting

    def partner(self, of: str) -> Optional[str]:
        """`partner(of:)`: the node's partner this round, None while it rests or does not train."""
        partners = self.partners(of)
        return partners[0] if partners else None

    def partners(self, of: str) -> List[str]:
        """`partners(of:)`: everyone the node exchanges with this round, in plan order."""
        return [b if a == of else a for a, b in self.pairs if of in (a, b)]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RoundPlan) and (self.round, self.participants, self.resting, self.pairs) == (
            other.round, other.participants, other.resting, other.pairs)

    def __hash__(self) -> int:
        return hash((self.round, self.participants))

    def __repr__(self) -> str:
        return (f"RoundPlan(round={self.round}, participants={[(p.node, p.slot) for p in self.participants]}, "
                f"pairs={list(self.pairs)}, resting={self.resting!r})")


class RoundPlanner:
    """Mirrors `RoundPlanner`. SAPS keeps a history (who met when), so rounds are planned in
    order from the first; a peer that restarts replays them. The history starts afresh whenever
    the participants change, since their numbering does."""

    def __init__(self, configuration: RunConfiguration) -> None:
        self.configuration = configuration
        self._saps = self._fresh_saps()
        self._random = RandomMatchingSelector(SeedDerivation.derive(configuration.seed, _RANDOM_MATCHING_PART))
        self._participants: List[Participant] = []
        self.next_round = 0

    def _fresh_saps(self) -> SAPSSelector:
        return SAPSSelector(bandwidth_threshold=self.configuration.bandwidth_threshold,
                            round_threshold=self.configuration.round_threshold)

    def plan_next(self, ledger: TrainingLedger) -> RoundPlan:
        """`planNext(ledger:)`: the plan for `next_round` (then the next one)."""
        round = self.next_round
        self.next_round += 1
        current = ledger.participants(round)
        if current != self._participants:
            self._participants = current
            self._saps = self._fresh_saps()
        nodes = [p.node for p in current]
        if len(nodes) < 2:
            return RoundPlan(round, current, [], nodes[0] if nodes else None)
        if self.configuration.algorithm == Algorithm.DPSGD:
            return self._ring(round, current)
        bandwidth = ledger.bandwidth(nodes, round)
        if self.configuration.algorithm == Algorithm.RANDOM:
            matching = self._random.matching(round, bandwidth)
        else:
            matching = self._saps.matching(round, bandwidth)
        resting = matching.resting
        return RoundPlan(round, current, [(nodes[p.first], nodes[p.second]) for p in matching.pairs],
                         nodes[resting[0]] if resting else None)

    @staticmethod
    def _ring(round: int, participants: Sequence[Participant]) -> RoundPlan:
        """D-PSGD's fixed ring in slot order (the simulation's worker order): each node with the
        next, the last with the first, each edge once; two nodes share one edge."""
        nodes = [p.node for p in sorted(participants, key=lambda p: p.slot)]
        starts = [0] if len(nodes) == 2 else range(len(nodes))
        return RoundPlan(round, participants, [(nodes[i], nodes[(i + 1) % len(nodes)]) for i in starts], None)

    @property
    def mask_seed(self) -> int:
        """The seed of the rounds' random-k masks (both partners derive the same one)."""
        return SeedDerivation.derive(self.configuration.seed, _MASK_PART)
