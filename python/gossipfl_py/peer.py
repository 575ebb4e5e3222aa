"""A Python training peer: the rounds of Sources/TrainingNode/RoundLoop.swift on PyTorch.

Each round, from the ledger it follows alone: (catch up if behind) -> plan -> exchange with the
partner (or the ring's two neighbours) over gossip.v1 -> one local SGD step -> evaluate on
schedule, report progress, checkpoint. The same plan, mask and merge as the Swift peers, so a
Python peer and a Swift peer meet in the same exchange.
"""

import threading
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional

import grpc
import numpy as np

from . import mixing, protos
from .checkpoint import CheckpointStore
from .cluster import Follower, Proposer
from .codec import Admit, Algorithm, Configure, Horizon, Progress, Retire, RunConfiguration
from .exchange import ExchangePoint, ModelBox
from .mask import MaskLayout, RandomKMask
from .models import layout
from .planner import RoundPlanner
from .prober import Prober, REPORT_WITHIN, grpc_probe
from .service import model_assembled
from .trainer import LocalTrainer

# As RoundLoop.swift: a newcomer's first round is this many horizons ahead; it fetches the model
# when the others are within FETCH_LEAD horizons of that round.
ADMISSION_LEAD = 4
FETCH_LEAD = 2


@dataclass
class PeerOptions:
    node_id: str
    address: str  # where this peer serves gossip.v1, as the others reach it
    data_directory: str
    checkpoint_directory: str
    exchange_timeout: float = 1.0
    misses_to_retire: int = 3
    checkpoint_every: int = 100
    evaluations_per_epoch: int = 1
    evaluation_samples: Optional[int] = None
    threads: int = 1
    proposal: Optional[RunConfiguration] = None
    # Bandwidth probing: probe one other peer's throughput this often, in seconds (None: never;
    # SAPS then sees equal links), as TrainingPeerOptions.probeInterval.
    probe_interval: Optional[float] = 1.0


@dataclass
class Status:
    run_id: str = ""
    round: int = 0
    epoch: float = 0.0
    training: bool = False
    partner: str = ""
    accuracy: float = 0.0
    evaluated_round: int = 0
    bytes_sent: int = 0
    exchanges: int = 0
    missed: int = 0


@dataclass
class Engine:
    run_id: str
    architecture: str
    values_per_exchange: int
    point: ExchangePoint
    exchange_timeout: float


class PythonPeer:
    """The gossip.v1 backend (service.Backend) and the round loop."""

    def __init__(self, options: PeerOptions, follower: Follower, proposer: Proposer, channels, tls_on: bool,
                 log: Callable[[str], None]):
        self.options, self.follower, self.proposer, self.channels = options, follower, proposer, channels
        self.node_id, self.tls_on, self.log = options.node_id, tls_on, log
        self.status = Status()
        self._status_lock = threading.Lock()
        self._engine: Optional[Engine] = None
        self.stopping = threading.Event()
        self._horizon_in_flight = threading.Lock()
        self.pb2 = protos.gossip().pb2
        self.prober: Optional[Prober] = None  # bandwidth probing: set while the round loop runs

    # -- service.Backend ----------------------------------------------------------------------

    def engine(self) -> Optional[Engine]:
        return self._engine

    def count_sent(self, byte_count: int) -> None:
        with self._status_lock:
            self.status.bytes_sent += byte_count

    def training_status(self):
        # Bandwidth probing: the measured links, sorted by peer (TrainingPeer+Gossip.swift).
        prober = self.prober
        links = prober.links() if prober is not None else {}
        link_peers = sorted(links)
        with self._status_lock:
            s = self.status
            return self.pb2.TrainingStatus(node_id=self.node_id, run_id=s.run_id, round=s.round, epoch=s.epoch, training=s.training,
                                           partner_id=s.partner, test_accuracy=s.accuracy, evaluated_round=s.evaluated_round,
                                           megabytes_sent=s.bytes_sent / 1e6, exchanges=s.exchanges, missed_exchanges=s.missed,
                                           link_peers=link_peers, link_mbps=[links[p] for p in link_peers])

    def _set(self, **changes) -> None:
        with self._status_lock:
            for key, value in changes.items():
                setattr(self.status, key, value)

    # -- the run ------------------------------------------------------------------------------

    def run(self) -> None:
        config = self._await_configuration()
        if config is None:
            return
        if config.algorithm not in Algorithm.ON_THE_NETWORK:
            raise RuntimeError("run %s uses %s; peers on the network train %s"
                               % (config.run_id, config.algorithm, ", ".join(Algorithm.ON_THE_NETWORK)))
        with self.follower.lock:
            admission = self.follower.ledger.admission(self.node_id)
        trainer = LocalTrainer(config, self.options.data_directory, slot=admission.slot if admission else 0,
                               evaluation_samples=self.options.evaluation_samples, threads=self.options.threads)
        mask = RandomKMask(MaskLayout([t.count for t in layout(trainer.model)]), config.keep_fraction)
        store = CheckpointStore(self.options.checkpoint_directory, config.architecture, self.log)
        round_ = 0
        resumed = store.load_latest(config.run_id)
        if resumed is not None:
            trainer.adopt(resumed.parameters, resumed.velocity)
            round_ = resumed.round
            self.log("resumed from the checkpoint of round %d" % round_)
        box = ModelBox(trainer.parameters())
        point = ExchangePoint(box)
        per_exchange = trainer.parameter_count if config.algorithm == Algorithm.DPSGD else mask.kept_count
        self._engine = Engine(config.run_id, config.architecture, per_exchange, point, self.options.exchange_timeout)
        self._set(run_id=config.run_id, round=round_)
        loop = RoundLoop(self, config, trainer, mask, point, box, store, round_)
        # Probes run beside the rounds while they run (TrainingPeer.swift).
        if self.options.probe_interval is not None:
            self.prober = self.make_prober(loop.address_of)
            self.prober.start()
        try:
            loop.run()
        finally:
            if self.prober is not None:
                self.prober.stop()

    def make_prober(self, address_of: Callable[[str], Optional[str]]) -> Prober:
        """Bandwidth probing: a Prober over this peer's ledger, channels and proposer."""
        def participants() -> List[str]:
            with self.follower.lock:
                ledger = self.follower.ledger
                return [p.node for p in ledger.participants(max(0, ledger.horizon - 1))]
        return Prober(self.node_id, self.options.probe_interval, participants, address_of, grpc_probe(self.channels, self.node_id),
                      lambda event: self.proposer.propose(event, within=REPORT_WITHIN), log=self.log)

    def _await_configuration(self) -> Optional[RunConfiguration]:
        last_proposal = 0.0
        while not self.stopping.is_set():
            with self.follower.lock:
                config = self.follower.ledger.configuration
            if config is not None:
                return config
            if self.options.proposal is not None and time.monotonic() - last_proposal > 2:
                last_proposal = time.monotonic()
                self.proposer.propose_in_background(Configure(self.options.proposal))
            time.sleep(0.02)
        return None

    def extend_horizon(self, until: int) -> None:
        """Proposes a wider horizon in the background, one proposal at a time."""
        if not self._horizon_in_flight.acquire(blocking=False):
            return

        def propose():
            try:
                self.proposer.propose(Horizon(until))
            finally:
                self._horizon_in_flight.release()
        threading.Thread(target=propose, daemon=True).start()


class RoundLoop:
    def __init__(self, peer: PythonPeer, config: RunConfiguration, trainer: LocalTrainer, mask: RandomKMask, point: ExchangePoint,
                 box: ModelBox, store: "CheckpointStore", round_: int):
        self.peer, self.config, self.trainer, self.mask, self.point, self.box, self.store = peer, config, trainer, mask, point, box, store
        self.id = peer.node_id
        self.round = round_
        self.last_checkpoint = round_
        self.planner = RoundPlanner(config)
        self.needs_catch_up = True
        self.misses: Dict[str, tuple] = {}
        self.retirements_proposed = set()
        self.last_admission_request = 0.0
        self.options = peer.options
        self.pb2, self.grpc = protos.gossip()

    def ledger_call(self, fn):
        with self.peer.follower.lock:
            return fn(self.peer.follower.ledger)

    def run(self) -> None:
        config = self.config
        try:
            while not self.peer.stopping.is_set():
                self.point.serve_copies(self.round)
                if config.rounds is not None and self.round >= config.rounds:
                    self.finish()
                    while not self.peer.stopping.is_set():
                        self.point.serve_copies(self.round)
                        time.sleep(0.02)
                    return
                admission = self.ledger_call(lambda l: l.admission(self.id))
                if admission is None:
                    self.point.leave()
                    self.peer._set(training=False)
                    self.request_admission()
                    self.needs_catch_up = True
                    time.sleep(0.02)
                    continue
                if admission.slot != self.trainer.slot:
                    self.trainer.move(admission.slot)
                if self.needs_catch_up:
                    self.point.leave()
                    if self.catch_up(admission.from_round):
                        self.needs_catch_up = False
                    else:
                        time.sleep(0.02)
                    continue
                self.point.enter(self.round)
                horizon, admitted = self.ledger_call(lambda l: (l.horizon, l.admitted_count))
                if (horizon > 0 or admitted >= config.min_participants) and horizon - self.round <= config.horizon_rounds // 2:
                    self.peer.extend_horizon(self.round + config.horizon_rounds)
                if self.round >= horizon:
                    time.sleep(0.002)
                    continue
                plan = self.plan()
                partners = plan.partners(self.id)
                self.peer._set(training=any(p.node == self.id for p in plan.participants), partner=",".join(partners))
                if config.algorithm == Algorithm.DPSGD:
                    self.mix(partners)
                elif partners:
                    self.exchange(partners[0])
                else:
                    self.point.settle(self.round)
                self.trainer.set_parameters(self.box.parameters)
                loss = self.trainer.step(self.round)
                if not np.isfinite(loss):
                    raise RuntimeError("training diverged in round %d: the loss is %s (try a lower learning rate)" % (self.round, loss))
                self.box.parameters = self.trainer.parameters()
                self.round += 1
                self.peer._set(round=self.round, epoch=self.round / config.rounds_per_epoch)
                e, r, per = self.options.evaluations_per_epoch, self.round, config.rounds_per_epoch
                if (r * e) // per != ((r - 1) * e) // per:
                    self.evaluate()
                if self.round - self.last_checkpoint >= self.options.checkpoint_every:
                    self.checkpoint()
        finally:
            self.point.leave()
        self.checkpoint()

    def plan(self):
        def advance(ledger):
            if self.planner.next_round > self.round:
                self.planner = RoundPlanner(self.config)
            while self.planner.next_round < self.round:
                self.planner.plan_next(ledger)
            return self.planner.plan_next(ledger)
        return self.ledger_call(advance)

    # -- joining and catching up --------------------------------------------------------------

    def request_admission(self) -> None:
        if time.monotonic() - self.last_admission_request < 1:
            return
        self.last_admission_request = time.monotonic()
        lead = ADMISSION_LEAD * self.config.horizon_rounds
        horizon, slot = self.ledger_call(lambda l: (l.horizon, l.free_slot(l.horizon + lead, preferred=self.trainer.slot)))
        if slot is None:
            self.peer.log("every data slot of run %s is taken: waiting for one to free up" % self.config.run_id)
            return
        start = 0 if horizon == 0 else horizon + lead
        self.peer.proposer.propose_in_background(Admit(self.id, start, slot, self.peer.options.address))

    def catch_up(self, admitted_from: int) -> bool:
        horizon = self.ledger_call(lambda l: l.horizon)
        others = [p.node for p in self.ledger_call(lambda l: l.participants(max(admitted_from, horizon - 1))) if p.node != self.id]
        best = None
        for other in others:
            address = self.address_of(other)
            if address is None:
                continue
            try:
                status = self.grpc.GossipStub(self.peer.channels.get(address)).Status(self.pb2.StatusRequest(), timeout=0.5)
            except grpc.RpcError:
                continue
            if status.run_id != self.config.run_id or not (status.training or self.finished(status.round)):
                continue
            if best is None or status.round > best[2]:
                best = (other, address, status.round)
        if best is None:
            if others:
                self.peer.log("none of %s answered with its round: training on from round %d" % (others, self.round))
            return True
        if not self.finished(best[2]) and best[2] + FETCH_LEAD * self.config.horizon_rounds < admitted_from:
            return False
        if best[2] <= self.round:
            return True
        started = time.monotonic()
        try:
            values, fetched_round = self.fetch_model(best[1])
        except (grpc.RpcError, ValueError) as error:
            self.peer.log("fetching the model from %s failed: %s" % (best[0], error))
            return False
        self.trainer.adopt(values, None)
        self.box.parameters = self.trainer.parameters()
        self.peer.log("fetched the model of round %d from %s in %.2f s (was at round %d, first round %d)"
                      % (fetched_round, best[0], time.monotonic() - started, self.round, admitted_from))
        self.round = fetched_round
        self.peer._set(round=fetched_round)
        return True

    def finished(self, round_: int) -> bool:
        return self.config.rounds is not None and round_ >= self.config.rounds

    def fetch_model(self, address: str):
        stream = self.grpc.GossipStub(self.peer.channels.get(address)).FetchModel(
            self.pb2.FetchModelRequest(run_id=self.config.run_id, requester_id=self.id), timeout=30)
        return model_assembled(stream, self.config.run_id, self.config.architecture, self.box.parameters.size)

    def address_of(self, node: str) -> Optional[str]:
        """Where `node` serves gossip.v1: its admission's address for another follower, else its
        Raft address (the members' list the follower keeps, by node id)."""
        external = self.ledger_call(lambda l: l.external_addresses.get(node))
        return external or self.peer.follower.member_addresses.get(node)

    # -- one exchange -------------------------------------------------------------------------

    def misses_in_a_row(self, partner: str) -> int:
        admitted_from = self.ledger_call(lambda l: (l.admission(partner) or (0, 0))[1])
        earlier = self.misses.get(partner)
        if earlier and earlier[0] != admitted_from:
            del self.misses[partner]
        return self.misses.get(partner, (0, 0))[1]

    def timeout_after(self, missed_before: int) -> float:
        return min(self.options.exchange_timeout, 0.2) if missed_before > 0 else self.options.exchange_timeout

    def initiates(self, partner: str) -> bool:
        return self.id.encode() < partner.encode()

    def exchange(self, partner: str) -> None:
        indices = self.mask.indices(self.planner.mask_seed, self.round)
        missed_before = self.misses_in_a_row(partner)
        timeout = self.timeout_after(missed_before)
        if self.initiates(partner):
            self.point.settle(self.round)
            reply = self.send(partner, mixing.values_to_bytes(mixing.gather(self.box.parameters, indices)), timeout)
            exchanged = False
            if reply is not None:
                try:
                    self.box.parameters = mixing.masked_merge_average_bytes(self.box.parameters, indices, reply)
                    exchanged = True
                except ValueError as error:
                    self.peer.log("round %d: %s's values refused: %s" % (self.round, partner, error))
        else:
            exchanged = self.point.await_partner(self.round, partner, indices, timeout) is not None
        self.account(partner, exchanged, missed_before)

    def mix(self, neighbours: List[str]) -> None:
        mine = mixing.values_to_bytes(self.box.parameters)
        missed_before = {n: self.misses_in_a_row(n) for n in neighbours}
        callers = {n for n in neighbours if not self.initiates(n)}
        callees = [n for n in neighbours if self.initiates(n)]
        received: Dict[str, bytes] = {}
        gathered: Dict[str, bytes] = {}
        gather_timeout = max([self.timeout_after(missed_before[n]) for n in callers], default=0)
        gatherer = threading.Thread(target=lambda: gathered.update(
            self.point.gather(self.round, callers, mine, self.box.parameters.size, gather_timeout)), daemon=True)
        gatherer.start()
        senders = []
        for callee in callees:
            def call(callee=callee):
                reply = self.send(callee, mine, self.timeout_after(missed_before[callee]))
                if reply is not None:
                    try:
                        mixing.check_dense_bytes(reply, self.box.parameters.size)
                        received[callee] = reply
                    except ValueError as error:
                        self.peer.log("%s's model for round %d refused: %s" % (callee, self.round, error))
            thread = threading.Thread(target=call, daemon=True)
            thread.start()
            senders.append(thread)
        for thread in senders:
            thread.join()
        gatherer.join()
        for node, data in gathered.items():
            received.setdefault(node, data)
        self.box.parameters = mixing.dense_mix_bytes(self.box.parameters, [received[n] for n in neighbours if n in received])
        for neighbour in neighbours:
            self.account(neighbour, neighbour in received, missed_before[neighbour])

    def send(self, partner: str, values: bytes, timeout: float) -> Optional[bytes]:
        """One Exchange request: the partner's values if it answered for this run and round."""
        address = self.address_of(partner)
        if address is None:
            return None
        request = self.pb2.ModelValues(run_id=self.config.run_id, round=self.round, sender_id=self.id,
                                       encoding=self.pb2.FLOAT32_LE, values=values)
        self.peer.count_sent(len(values))
        try:
            reply = self.grpc.GossipStub(self.peer.channels.get(address)).Exchange(request, timeout=timeout)
        except grpc.RpcError:
            return None
        if reply.run_id != self.config.run_id or reply.round != self.round or reply.encoding != self.pb2.FLOAT32_LE:
            self.peer.log("%s answered round %d with run %s round %d: ignored" % (partner, self.round, reply.run_id, reply.round))
            return None
        return reply.values

    def account(self, partner: str, exchanged: bool, missed_before: int) -> None:
        with self.peer._status_lock:
            if exchanged:
                self.peer.status.exchanges += 1
            else:
                self.peer.status.missed += 1
        if exchanged:
            self.misses.pop(partner, None)
            return
        if self.reachable(partner):
            return
        admission = self.ledger_call(lambda l: l.admission(partner))
        admitted_from = admission.from_round if admission else 0
        if self.round < admitted_from + FETCH_LEAD * self.config.horizon_rounds:
            return
        count = missed_before + 1
        self.misses[partner] = (admitted_from, count)
        key = "%s@%d" % (partner, admitted_from)
        if count < self.options.misses_to_retire or admission is None or key in self.retirements_proposed:
            return
        self.retirements_proposed.add(key)
        self.peer.log("%s missed %d exchanges in a row: proposing its retirement" % (partner, count))
        self.peer.proposer.propose_in_background(Retire(partner, self.round + 1, "missed %d exchanges with %s" % (count, self.id)))

    def reachable(self, partner: str) -> bool:
        address = self.address_of(partner)
        if address is None:
            return False
        try:
            self.grpc.GossipStub(self.peer.channels.get(address)).Status(self.pb2.StatusRequest(), timeout=0.3)
            return True
        except grpc.RpcError:
            return False

    # -- evaluation, checkpoints, the end -----------------------------------------------------

    def evaluate(self) -> None:
        self.trainer.set_parameters(self.box.parameters)
        accuracy = self.trainer.evaluate()
        self.peer._set(accuracy=accuracy, evaluated_round=self.round)
        self.peer.log("round %d (epoch %d): test accuracy %.4f" % (self.round, self.round // self.config.rounds_per_epoch, accuracy))
        self.peer.proposer.propose_in_background(Progress(self.id, self.round, accuracy))

    def checkpoint(self) -> None:
        try:
            self.trainer.set_parameters(self.box.parameters)
            self.store.save(self.config.run_id, self.trainer.state(self.round))
            self.last_checkpoint = self.round
        except OSError as error:
            self.peer.log("checkpoint of round %d failed: %s" % (self.round, error))

    def finish(self) -> None:
        self.point.leave()
        with self.peer._status_lock:
            evaluated = self.peer.status.evaluated_round
        if evaluated != self.round:
            self.evaluate()
        self.checkpoint()
        self.peer._set(training=False)
        self.peer.log("run %s finished at round %d" % (self.config.run_id, self.round))
