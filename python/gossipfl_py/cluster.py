"""How a Python node reaches the cluster without running Raft.

It registers at the gateway (gateway.v1, the seed's newcomer flow) to learn the members, then
follows the committed training entries from one of them (gossip.v1 FollowTraining) into its own
TrainingLedger, and proposes its own entries (its admission, horizons, progress) through
raft.v1.Cluster/Propose, following the leader hint a follower answers with. Once it follows a
member, the gateway being down changes nothing: the members it knows are enough.
"""

import threading
import time
from typing import Callable, Dict, Optional, Sequence

import grpc

from . import protos
from .codec import TrainingEvent, command_from_event, event_from_command
from .ledger import TrainingLedger
from .tls import ClusterTLS

CHANNEL_OPTIONS = [("grpc.max_receive_message_length", (8 << 20) + (64 << 10)),
                   ("grpc.max_send_message_length", (8 << 20) + (64 << 10))]


class NoCluster(Exception):
    """The gateway knows no cluster yet (a Python node cannot found one: it does not run Raft)."""


class Channels:
    """One channel per address, with the cluster's TLS (or plaintext when insecure)."""

    def __init__(self, tls: Optional[ClusterTLS]):
        self.tls = tls
        self._channels = {}
        self._lock = threading.Lock()

    def get(self, address: str) -> grpc.Channel:
        with self._lock:
            channel = self._channels.get(address)
            if channel is None:
                if self.tls is None:
                    channel = grpc.insecure_channel(address, options=CHANNEL_OPTIONS)
                else:
                    channel = grpc.secure_channel(address, self.tls.channel_credentials(), options=CHANNEL_OPTIONS)
                self._channels[address] = channel
            return channel

    def close(self) -> None:
        with self._lock:
            for channel in self._channels.values():
                channel.close()
            self._channels = {}


def register(channels: Channels, gateway: str, node_id: str, host: str, port: int, timeout: float = 5.0) -> Dict[str, str]:
    """Registers at the gateway; the nodes it knows (id -> address), leader first."""
    pb2, grpc_mod = protos.gateway()
    stub = grpc_mod.GatewayStub(channels.get(gateway))
    response = stub.Register(pb2.RegisterRequest(node_id=node_id, address=pb2.NodeAddress(host=host, port=port),
                                                 capabilities=["gossip.v1", "follows-training"]), timeout=timeout)
    if response.bootstrap:
        # Told to found the cluster: leave the registry to a node that can.
        try:
            stub.Deregister(pb2.DeregisterRequest(node_id=node_id), timeout=timeout)
        except grpc.RpcError:
            pass
        raise NoCluster("the gateway at %s knows no cluster yet: start a Swift peer first (a Python node follows one)" % gateway)
    nodes = {}
    if response.leader.address.host:
        nodes[response.leader.node_id] = "%s:%d" % (response.leader.address.host, response.leader.address.port)
    for peer in response.peers:
        if peer.node_id != node_id:
            nodes.setdefault(peer.node_id, "%s:%d" % (peer.address.host, peer.address.port))
    return nodes


class Follower:
    """Keeps `ledger` current from a member's FollowTraining stream, in a thread. Each stream
    starts with the member's whole history, so every (re)connection rebuilds the ledger; the
    loop reads it under `lock`."""

    def __init__(self, channels: Channels, node_id: str, members: Sequence[str], log: Callable[[str], None]):
        self.channels, self.node_id, self.log = channels, node_id, log
        self.members = list(members)
        # Raft members by node id (where Swift peers serve gossip.v1), from Cluster/Status.
        self.member_addresses: Dict[str, str] = {}
        self.lock = threading.Lock()
        self.ledger = TrainingLedger()
        self.connected = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="follow-training", daemon=True)

    def start(self) -> None:
        self._thread.start()
        threading.Thread(target=self._refresh_members, name="raft-members", daemon=True).start()

    def _refresh_members(self) -> None:
        """Learns the Raft members from any member it knows (raft.v1 Cluster/Status), so that it
        can follow another one when its member dies, gateway or not."""
        pb2, grpc_mod = protos.raft()
        while not self._stopping.is_set():
            with self.lock:
                known = list(self.members)
            for address in known:
                try:
                    status = grpc_mod.ClusterStub(self.channels.get(address)).Status(pb2.StatusRequest(), timeout=1)
                except grpc.RpcError:
                    continue
                self.add_members([m.address for m in status.members if m.address])
                with self.lock:
                    self.member_addresses = {m.node_id: m.address for m in status.members if m.address}
                break
            self._stopping.wait(1.0 if not self.member_addresses else 2.0)

    def stop(self) -> None:
        self._stopping.set()

    def add_members(self, addresses: Sequence[str]) -> None:
        with self.lock:
            for address in addresses:
                if address not in self.members:
                    self.members.append(address)

    def _run(self) -> None:
        pb2, grpc_mod = protos.gossip()
        attempt = 0
        while not self._stopping.is_set():
            with self.lock:
                members = list(self.members)
            if not members:
                time.sleep(0.2)
                continue
            member = members[attempt % len(members)]
            attempt += 1
            fresh = TrainingLedger()
            try:
                stream = grpc_mod.GossipStub(self.channels.get(member)).FollowTraining(pb2.FollowTrainingRequest(follower_id=self.node_id))
                first = True
                for entry in stream:
                    if self._stopping.is_set():
                        stream.cancel()
                        return
                    with self.lock:
                        if first:
                            # The stream has begun: from now on its history replaces ours.
                            self.ledger, first = fresh, False
                        self.ledger.apply(event_from_command(entry.command))
                    self.connected.set()
            except grpc.RpcError as error:
                self.log("following %s: %s %s" % (member, error.code().name, error.details()))
            except ValueError as error:
                self.log("following %s: a committed entry did not decode: %s" % (member, error))
            time.sleep(0.1)


class Proposer:
    """Proposes training entries through any member; a follower answers with the leader."""

    def __init__(self, channels: Channels, follower: Follower):
        self.channels, self.follower = channels, follower
        self.leader: Optional[str] = None

    def propose(self, event: TrainingEvent, within: float = 5.0) -> bool:
        """True once the entry is committed."""
        pb2, grpc_mod = protos.raft()
        data = command_from_event(event).SerializeToString(deterministic=True)
        end = time.monotonic() + within
        delay, attempt = 0.02, 0
        while time.monotonic() < end:
            with self.follower.lock:
                members = list(self.follower.members)
            address = self.leader or (members[attempt % len(members)] if members else None)
            attempt += 1
            if address:
                try:
                    response = grpc_mod.ClusterStub(self.channels.get(address)).Propose(pb2.ProposeRequest(data=data), timeout=2)
                    if response.committed:
                        self.leader = address
                        return True
                    self.leader = response.leader_address or None
                    if self.leader:
                        continue
                except grpc.RpcError:
                    self.leader = None
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
        return False

    def propose_in_background(self, event: TrainingEvent) -> None:
        threading.Thread(target=self.propose, args=(event,), daemon=True).start()
