"""Where the round loop and a partner's Exchange request meet, with threads.

Mirrors Sources/TrainingNode/ExchangePoint.swift: the loop (the answering side of a pair) parks
with its round, partner and mask; the partner's request for that round averages the masked
values into the model and is answered with ours. A request that comes early waits, bounded,
for the loop; one that comes late, or from someone else, is refused and the model untouched.
D-PSGD's ring parks in `gather`: each calling neighbour is answered with the round's model bytes
and its values are kept for the loop to mix once the round's exchanges are over.

The model is `box.parameters`, a float32 vector the trainer's tensors share: the loop writes it
only while nothing is parked; handlers write it only under the lock while the loop is parked.
"""

import threading
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set, Tuple

import numpy as np

from . import mixing

UNAVAILABLE, FAILED_PRECONDITION, INVALID_ARGUMENT, DEADLINE_EXCEEDED = (
    "UNAVAILABLE", "FAILED_PRECONDITION", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED")


class Refused(Exception):
    """An Exchange request turned away: `code` names the gRPC status to answer with."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class ModelBox:
    """The parameters shared between the loop and the handlers (a float32 vector)."""

    def __init__(self, parameters: np.ndarray):
        self.parameters = parameters


@dataclass
class _Waiting:
    round: int
    partner: str
    indices: np.ndarray
    token: int
    received: Optional[int] = None  # bytes the partner sent, once it came


@dataclass
class _Gathering:
    round: int
    expected: Set[str]
    mine: bytes
    parameter_count: int
    token: int
    received: Dict[str, bytes] = field(default_factory=dict)
    done: bool = False


class ExchangePoint:
    BUSY, AWAY = "busy", "away"

    def __init__(self, box: ModelBox):
        self.box = box
        self._cv = threading.Condition()
        self._phase = self.AWAY  # BUSY, AWAY, a _Waiting or a _Gathering
        self._round = -1
        self._settled = -1
        self._abandoned: Set[Tuple[int, str]] = set()
        self._token = 0
        self._copy_requests: List[dict] = []

    # -- the loop's side ------------------------------------------------------------------

    def enter(self, round_: int) -> None:
        """The loop starts `round_` (not parked): early requests for it keep waiting."""
        with self._cv:
            self._round = round_
            self._phase = self.BUSY
            self._abandoned = {a for a in self._abandoned if a[0] >= round_}
            self._cv.notify_all()

    def leave(self) -> None:
        """Not training for now (joining, catching up): requests are refused at once."""
        with self._cv:
            self._phase = self.AWAY
            self._cv.notify_all()

    def settle(self, round_: int) -> None:
        """This peer sends `round_`'s request itself: requests for it are refused."""
        with self._cv:
            self._round = round_
            self._settled = max(self._settled, round_)

    def await_partner(self, round_: int, partner: str, indices: np.ndarray, timeout: float) -> Optional[int]:
        """Parks at `round_`'s exchange with `partner`: the bytes it sent, or None (missed)."""
        with self._cv:
            self._round = round_
            if (round_, partner) in self._abandoned:
                self._phase, self._settled = self.BUSY, round_
                return None
            self._token += 1
            waiting = _Waiting(round_, partner, indices, self._token)
            self._phase = waiting
            self._cv.notify_all()
            self._cv.wait_for(lambda: waiting.received is not None, timeout)
            if waiting.received is None and self._phase is waiting:
                self._phase, self._settled = self.BUSY, round_
            return waiting.received

    def gather(self, round_: int, neighbours: Set[str], mine: bytes, parameter_count: int, timeout: float) -> Dict[str, bytes]:
        """Parks at ring round `round_` until each of `neighbours` called (each answered with
        `mine`) or `timeout` passed; returns what came, checked, for the loop to mix."""
        with self._cv:
            self._round = round_
            expected = {n for n in neighbours if (round_, n) not in self._abandoned}
            if not expected:
                self._phase, self._settled = self.BUSY, round_
                return {}
            self._token += 1
            gathering = _Gathering(round_, expected, mine, parameter_count, self._token)
            self._phase = gathering
            self._cv.notify_all()
            self._cv.wait_for(lambda: gathering.done, timeout)
            if self._phase is gathering:
                self._phase, self._settled = self.BUSY, round_
            return dict(gathering.received)

    def serve_copies(self, round_: int) -> None:
        """Hands a copy of the model as it is at the start of `round_` to FetchModel callers;
        the loop calls this where it does not touch the parameters."""
        with self._cv:
            if not self._copy_requests:
                return
            copy = self.box.parameters.copy()
            for request in self._copy_requests:
                request["result"] = (copy, round_)
            self._copy_requests = []
            self._cv.notify_all()

    # -- the handlers' side ---------------------------------------------------------------

    def exchange(self, round_: int, sender: str, partner_bytes: bytes, timeout: float) -> bytes:
        """The partner's half of `round_`; returns ours. Waits up to `timeout` for the loop."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while True:
                phase = self._phase
                if phase == self.AWAY:
                    self._abandoned.add((round_, sender))
                    raise Refused(UNAVAILABLE, "not training round %d yet (joining or catching up)" % round_)
                if isinstance(phase, _Waiting) and phase.round == round_:
                    if phase.partner != sender:
                        raise Refused(FAILED_PRECONDITION, "%s is not this peer's partner in round %d (%s is)" % (sender, round_, phase.partner))
                    try:
                        mine = mixing.values_to_bytes(mixing.gather(self.box.parameters, phase.indices))
                        merged = mixing.masked_merge_average_bytes(self.box.parameters, phase.indices, partner_bytes)
                    except ValueError as error:
                        raise Refused(INVALID_ARGUMENT, "round %d from %s: %s; the model is untouched" % (round_, sender, error))
                    self.box.parameters[:] = merged
                    phase.received = len(partner_bytes)
                    self._phase, self._settled = self.BUSY, round_
                    self._cv.notify_all()
                    return mine
                if isinstance(phase, _Gathering) and phase.round == round_:
                    if sender not in phase.expected:
                        raise Refused(FAILED_PRECONDITION, "%s already exchanged round %d" % (sender, round_) if sender in phase.received
                                      else "%s is not a neighbour this peer waits for in round %d" % (sender, round_))
                    try:
                        mixing.check_dense_bytes(partner_bytes, phase.parameter_count)
                    except ValueError as error:
                        raise Refused(INVALID_ARGUMENT, "round %d from %s: %s; the model is untouched" % (round_, sender, error))
                    phase.expected.discard(sender)
                    phase.received[sender] = bytes(partner_bytes)
                    if not phase.expected:
                        phase.done = True
                        self._phase, self._settled = self.BUSY, round_
                        self._cv.notify_all()
                    return phase.mine
                if round_ < self._round or round_ <= self._settled:
                    raise Refused(FAILED_PRECONDITION, "round %d has passed here (this peer is in round %d)" % (round_, self._round))
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._abandoned.add((round_, sender))
                    raise Refused(DEADLINE_EXCEEDED, "this peer did not reach round %d in time (it is in round %d)" % (round_, self._round))
                self._cv.wait(remaining)

    def model_copy(self, timeout: float = 30.0) -> Optional[Tuple[np.ndarray, int]]:
        """A consistent copy of the model: at once while the loop is parked, else at its next
        round boundary or idle step; None if the loop did not get there in `timeout`."""
        with self._cv:
            phase = self._phase
            if isinstance(phase, (_Waiting, _Gathering)):
                return self.box.parameters.copy(), phase.round
            request: dict = {}
            self._copy_requests.append(request)
            self._cv.wait_for(lambda: "result" in request, timeout)
            if "result" not in request:
                self._copy_requests = [r for r in self._copy_requests if r is not request]
                return None
            return request["result"]
