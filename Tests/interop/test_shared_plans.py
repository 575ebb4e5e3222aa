"""The Python training ledger and round planner (python/gossipfl_py) against the Swift peers.

Tests/vectors/plans.json is written by the Swift side (Sources/TrainingNode/PlanVectors.swift):
committed TrainingCommand bytes, in log order, and the plans every peer derives from them. A
Python node that follows the log must decode the same events, keep the same ledger and plan the
same rounds. The tests after that mirror Tests/TrainingNodeTests/TrainingCommandCodecTests.swift
and Tests/TrainingTests/TrainingLedgerTests.swift.
"""

import json
import os
import subprocess
import sys

import pytest

PYTHON_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python")
sys.path.insert(0, PYTHON_DIR)

from gossipfl_py import protos  # noqa: E402
from gossipfl_py.ledger import (  # noqa: E402
    APPLIED, Admit, Algorithm, Bandwidth, Configure, Horizon, PartitionScheme, PeerAddress, Progress, Report,
    Retire, RunConfiguration, TrainingCommandError, TrainingLedger, command_from_event, event_from_command,
)
from gossipfl_py.matching import BandwidthMatrix, SAPSSelector  # noqa: E402
from gossipfl_py.planner import RoundPlanner  # noqa: E402
from gossipfl_py.seeded import SeedDerivation, SplitMix64  # noqa: E402

VECTORS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vectors")

pb = protos.gossip().pb2


def load_plan_vectors():
    path = os.path.join(VECTORS, "plans.json")
    if not os.path.exists(path):
        pytest.skip("Tests/vectors/plans.json does not exist yet (the Swift side writes it)")
    with open(path) as f:
        return json.load(f)


def decode(hex_command):
    return pb.TrainingCommand.FromString(bytes.fromhex(hex_command))


def committed(command):
    """The command as a peer receives it: through its wire bytes."""
    return pb.TrainingCommand.FromString(command.SerializeToString())


def clustered(workers, clusters, seed, intra=(10.0, 100.0), inter=(0.1, 2.0)):
    """`BandwidthMatrix.clustered` (Sources/Gossip/BandwidthGenerators.swift), for the tests:
    the upper triangle drawn row by row, U(intra) within a site, U(inter) between sites."""
    rng = SplitMix64(seed)
    rows = [[0.0] * workers for _ in range(workers)]
    for i in range(workers):
        for j in range(i + 1, workers):
            low, high = intra if i % clusters == j % clusters else inter
            rows[i][j] = rows[j][i] = low + (high - low) * rng.unit_double()
    return BandwidthMatrix(rows)


def plan_lists(plan):
    """A plan as PlanVectors.Plan records it."""
    return {"round": plan.round, "participants": [[p.node, str(p.slot)] for p in plan.participants],
            "pairs": [[a, b] for a, b in plan.pairs], "resting": plan.resting}


# ---------------------------------------------------------------------------------------------
# Shared vectors from the Swift side


def vector_cases():
    path = os.path.join(VECTORS, "plans.json")
    if not os.path.exists(path):
        return ["missing"]
    with open(path) as f:
        return [case["name"] for case in json.load(f)["cases"]]


@pytest.mark.parametrize("name", vector_cases())
def test_plan_vectors(name):
    case = next(c for c in load_plan_vectors()["cases"] if c["name"] == name)
    ledger = TrainingLedger()
    events = [event_from_command(decode(h)) for h in case["commands_hex"]]
    outcomes = [ledger.apply(event) for event in events]
    # Everything takes except n5's admission: py1 holds slot 4 from round 40.
    refused = [(e.node, o.reason) for e, o in zip(events, outcomes) if not o.applied]
    assert refused == [("n5", "slot 4 is py1's")]

    planner = RoundPlanner(ledger.configuration)
    assert len(case["plans"]) > 0
    for expected in case["plans"]:
        got = plan_lists(planner.plan_next(ledger))
        # Swift's encoder leaves a nil `resting` out.
        assert got == {**expected, "resting": expected.get("resting")}, f"{name} round {expected['round']}"

    assert ledger.horizon == case["horizon"]
    admitted = {e.node for e in events if isinstance(e, Admit)}
    admissions = {node: list(ledger.admission(node)) for node in admitted if ledger.admission(node) is not None}
    assert admissions == case["admissions"]
    assert ledger.external_addresses == case["external_addresses"]


def test_plan_vectors_say_what_the_swift_test_checks():
    """PlanVectorsTests.plansAreCurrent's own checks, on the committed file."""
    cases = load_plan_vectors()["cases"]
    saps = cases[0]
    assert ["n2", "1"] in saps["plans"][31]["participants"] and ["n2", "1"] not in saps["plans"][32]["participants"]
    assert saps["admissions"]["py1"] == [4, 40] and "n5" not in saps["admissions"]
    assert saps["external_addresses"] == {"py1": "127.0.0.1:7300"}
    assert len(cases[2]["plans"][0]["pairs"]) == 4


def test_commands_reencode_to_their_committed_bytes():
    """PlanVectorsTests.commandsDecodeToTheEventsThatMadeThem: decoding loses nothing."""
    for case in load_plan_vectors()["cases"]:
        for h in case["commands_hex"]:
            command = command_from_event(event_from_command(decode(h)))
            assert command == decode(h)
            # Deterministic: map entries sorted by key bytes, as the Swift encoder writes them.
            assert command.SerializeToString(deterministic=True).hex() == h


def test_the_vector_matrix_is_the_clustered_generator():
    bandwidth = next(decode(h).bandwidth for h in load_plan_vectors()["cases"][0]["commands_hex"]
                     if decode(h).HasField("bandwidth"))
    assert list(bandwidth.mbps) == [v for row in clustered(4, 2, 3).rows for v in row]


# ---------------------------------------------------------------------------------------------
# TrainingCommandCodecTests.swift

CODEC_RUN = RunConfiguration(run_id="run-1", architecture="cnn", partition=PartitionScheme.dirichlet(0.5), slots=6,
                             seed=(2**64 - 1) >> 3, algorithm=Algorithm.POWER, rounds_per_epoch=150, rounds=None,
                             min_participants=4, horizon_rounds=32)


def test_events_round_trip_through_the_wire():
    events = [
        Configure(CODEC_RUN),
        Admit("n1", 0, 5),
        Admit("py1", 64, 2, "10.0.0.7:7300"),
        Retire("nœud-2", 1 << 40, "missed 5 rounds"),
        Bandwidth(["a", "b"], BandwidthMatrix([[0, 12.5], [12.5, 0]]), 30),
        Progress("n3", 150, 0.8125),
        Horizon(4096),
        Report("n2", {"n1": 12.5, "n3": 0.75}),
    ]
    for event in events:
        assert event_from_command(committed(command_from_event(event))) == event


def codec_config(**changes):
    config = command_from_event(Configure(CODEC_RUN)).configure
    for name, value in changes.items():
        setattr(config, name, value)
    return pb.TrainingCommand(configure=config)


@pytest.mark.parametrize("command, words", [
    (pb.TrainingCommand(), "exactly one field"),
    (pb.TrainingCommand(admit=pb.Admission(), retire=pb.Retirement()), "sets 2"),
    (codec_config(model="resnet"), '"resnet"'),
    (codec_config(algorithm="fedavg"), '"fedavg"'),
    (codec_config(algorithm="random-dense"), "is not saps, random, dpsgd or power"),
    (codec_config(partition="zipf"), "configure:"),
    (codec_config(partition="dirichlet:0"), "dirichlet:ALPHA needs a positive number"),
    (codec_config(momentum=1), "out of range"),
    (codec_config(min_participants=7), "out of range"),
    (codec_config(batch_size=10_001), "out of range"),
    (codec_config(learning_rate=float("nan")), "out of range"),
    (codec_config(run_id="\0hidden"), "out of range"),  # protobuf-c hands Swift an empty id
    (codec_config(rounds=(1 << 62) + 1), "round 4611686018427387905 is out of range"),
    (pb.TrainingCommand(bandwidth=pb.BandwidthMatrix(workers=["a", "b"], mbps=[0, 1, 1])), "3 values for 2"),
    (pb.TrainingCommand(bandwidth=pb.BandwidthMatrix(workers=["a", "b"], mbps=[0, 1, 2, 0])), "bandwidth:"),
    (pb.TrainingCommand(bandwidth=pb.BandwidthMatrix(workers=["a", "b"], mbps=[0, 1, 2, 0])), "symmetric"),
    (pb.TrainingCommand(bandwidth=pb.BandwidthMatrix()), "at least one worker"),
    (pb.TrainingCommand(admit=pb.Admission(node_id="n", from_round=2**64 - 1)), "out of range"),
    (pb.TrainingCommand(admit=pb.Admission(node_id="py1", address="no port")), "is not HOST:PORT"),
    (pb.TrainingCommand(admit=pb.Admission(node_id="py1", address="host:0")), '"host:0" is not HOST:PORT'),
    (pb.TrainingCommand(horizon=pb.RoundHorizon(until_round=2**63)), "out of range"),
], ids=lambda value: value if isinstance(value, str) else None)
def test_unusable_commands_are_clear_errors(command, words):
    with pytest.raises(ValueError) as raised:
        event_from_command(committed(command))
    assert isinstance(raised.value, TrainingCommandError)
    assert words in str(raised.value)


def test_configuration_defaults_as_in_swift():
    config = codec_config(min_participants=0, horizon_rounds=0, rounds=0, learning_rate=0.1).configure
    run = event_from_command(committed(pb.TrainingCommand(configure=config))).configuration
    assert run.min_participants == 1 and run.horizon_rounds == 16 and run.rounds is None
    assert run.learning_rate == 0.10000000149011612  # a Swift Float
    assert run.partition == PartitionScheme.dirichlet(0.5) and str(run.partition) == "dirichlet:0.5"
    config.rounds, config.partition = 1 << 62, ":shards:+2"
    run = event_from_command(committed(pb.TrainingCommand(configure=config))).configuration
    assert run.rounds == 1 << 62 and run.partition == PartitionScheme.shards(2)


def test_wire_strings_end_at_a_nul_as_protobuf_c_hands_them_over():
    command = pb.TrainingCommand(admit=pb.Admission(node_id="n1\0evil", slot=1, address="127.0.0.1:7300\0:x"))
    assert event_from_command(committed(command)) == Admit("n1", 0, 1, "127.0.0.1:7300")


def test_peer_addresses():
    assert PeerAddress.parse("127.0.0.1:7300") == ("127.0.0.1", 7300)
    assert PeerAddress.parse("[::1]:80") == ("::1", 80) and str(PeerAddress.parse("[::1]:80")) == "[::1]:80"
    assert PeerAddress.parse("h:+80") == ("h", 80)  # Swift's Int("+80")
    assert PeerAddress.parse("h:0", allowing_port_zero=True) == ("h", 0)
    for bad in ["no port", "h:0", "h:65536", ":80", "[]:80", "[::1]80", "h: 80", "h:٨٠", "h:8_0"]:
        assert PeerAddress.parse(bad) is None, bad


# ---------------------------------------------------------------------------------------------
# TrainingLedgerTests.swift

RUN = RunConfiguration(run_id="run-1", architecture="mlp", partition=PartitionScheme.iid(), slots=5, seed=9,
                       rounds_per_epoch=150, rounds=600)


def four_peers(run=RUN):
    ledger = TrainingLedger()
    assert ledger.apply(Configure(run)) == APPLIED
    for i, node in enumerate(["n1", "n2", "n3", "n4"]):
        assert ledger.apply(Admit(node, 0, i)) == APPLIED
    return ledger


def nodes(participants):
    return [p.node for p in participants]


def test_admissions_retirements_and_slots():
    ledger = four_peers()
    assert nodes(ledger.participants(0)) == ["n1", "n2", "n3", "n4"]
    assert ledger.apply(Admit("n5", 100, 4)) == APPLIED
    assert len(ledger.participants(99)) == 4 and len(ledger.participants(100)) == 5
    assert ledger.apply(Retire("n2", 200, "missed 5 rounds")) == APPLIED
    assert nodes(ledger.participants(200)) == ["n1", "n3", "n4", "n5"]
    # n2's slot is free from round 200 on, not before; n2 may come back on a free slot.
    assert ledger.apply(Admit("n6", 150, 1)).reason == "slot 1 is n2's"
    assert ledger.apply(Admit("n6", 250, 1)) == APPLIED
    assert next(p.slot for p in ledger.participants(260) if p.node == "n6") == 1
    assert ledger.apply(Admit("n3", 300, 3)).reason == "n3 is already admitted"
    assert ledger.apply(Admit("n9", 300, 5)).reason == "admission of n9: slot 5 outside 0..<5 or round 300 < 0"
    assert ledger.apply(Retire("n9", 1, "")).reason == "n9 is not training"
    assert ledger.apply(Configure(RUN)).reason == "the run is already configured"


def test_entries_before_the_configuration_and_bad_progress_are_ignored():
    ledger = TrainingLedger()
    assert ledger.apply(Admit("n1", 0, 0)).reason == "admission of n1 before the run is configured"
    ledger = four_peers()
    assert ledger.apply(Progress("n1", 150, 0.8)) == APPLIED
    assert ledger.apply(Progress("n1", 100, 0.9)).reason == "n1's progress for round 100 is old"
    assert ledger.apply(Progress("n1", 300, float("nan"))).reason == \
        "progress from n1, which never trained, or accuracy nan"
    assert ledger.apply(Progress("zz", 300, 0.5)).ignored
    assert ledger.progress["n1"].accuracy == 0.8


def test_a_configuration_needs_an_id_slots_a_batch_size_and_rounds_per_epoch():
    for bad in [RUN.replacing(run_id=""), RUN.replacing(slots=0), RUN.replacing(batch_size=0),
                RUN.replacing(rounds_per_epoch=0)]:
        assert TrainingLedger().apply(Configure(bad)).reason == \
            "a run needs an id, slots, a batch size and rounds per epoch"


def test_the_newest_matrix_in_force_fills_unmeasured_pairs():
    ledger = four_peers()
    first = BandwidthMatrix([[0, 10, 2], [10, 0, 5], [2, 5, 0]])
    assert ledger.apply(Bandwidth(["n1", "n2", "n3"], first, 10)) == APPLIED
    before = ledger.bandwidth(["n1", "n2", "n3", "n4"], 9, unmeasured=1)
    assert before[0, 1] == 1 and before[1, 2] == 1
    during = ledger.bandwidth(["n1", "n2", "n3", "n4"], 10, unmeasured=1)
    assert during[0, 1] == 10 and during[0, 2] == 2 and during[1, 2] == 5 and during[0, 3] == 1
    assert ledger.apply(Bandwidth(["n1", "n1", "n2"], first, 20)).reason == \
        "a bandwidth matrix of 3 workers for 3 names"
    # A newer matrix takes over from its round; the older one still decides the rounds before.
    assert ledger.apply(Bandwidth(["n3", "n4"], BandwidthMatrix([[0, 7], [7, 0]]), 30)) == APPLIED
    later = ledger.bandwidth(["n1", "n2", "n3", "n4"], 30, unmeasured=1)
    assert later[0, 1] == 1 and later[2, 3] == 7
    assert ledger.bandwidth(["n1", "n2"], 29)[0, 1] == 10
    assert ledger.latest_matrix.from_round == 30 and ledger.latest_matrix.workers == ("n3", "n4")
    assert ledger.bandwidth([], 30).workers == 0


def test_planners_agree_round_by_round():
    """Two peers planning from the same ledger agree on every round, joins and retirements
    included; every pair is of participants, odd rounds rest exactly one."""
    ledger = four_peers()
    ledger.apply(Admit("n5", 20, 4))
    ledger.apply(Retire("n1", 40, "dead"))
    ledger.apply(Bandwidth(["n1", "n2", "n3", "n4", "n5"], clustered(5, 2, 3), 30))
    a, b = RoundPlanner(RUN), RoundPlanner(RUN)
    rested_in_odd_rounds = 0
    for round in range(60):
        plan_a, plan_b = a.plan_next(ledger), b.plan_next(ledger)
        assert plan_a == plan_b and plan_a.round == round
        members = set(nodes(plan_a.participants))
        paired = [n for pair in plan_a.pairs for n in pair]
        assert len(set(paired)) == len(paired) and set(paired) <= members
        assert len(paired) + (0 if plan_a.resting is None else 1) == len(members)
        if len(members) % 2 == 1:
            rested_in_odd_rounds += 1
        assert ("n5" in members) == (round >= 20) and ("n1" in members) == (round < 40)
    assert rested_in_odd_rounds == 20
    # A peer that restarts replays from round 0 and lands on the same plans.
    replay, live = RoundPlanner(RUN), RoundPlanner(RUN)
    for _ in range(45):
        replay.plan_next(ledger)
        live.plan_next(ledger)
    assert replay.plan_next(ledger) == live.plan_next(ledger)


def test_the_saps_history_starts_afresh_when_the_participants_change():
    """A swap that keeps the count (which alone would keep SAPSSelector's history): round 10
    is planned as by a selector that never saw rounds 0-9. plans.json does not cover this, as
    each of its changes also changes the count."""
    ledger = four_peers()
    ledger.apply(Bandwidth(["n1", "n2", "n3", "n4", "n5"], clustered(5, 2, 3), 0))
    ledger.apply(Retire("n4", 10, "dead"))
    ledger.apply(Admit("n5", 10, 3))
    planner = RoundPlanner(RUN)
    for _ in range(10):
        planner.plan_next(ledger)
    plan = planner.plan_next(ledger)
    members = nodes(plan.participants)
    assert members == ["n1", "n2", "n3", "n5"]
    fresh = SAPSSelector(bandwidth_threshold=RUN.bandwidth_threshold, round_threshold=RUN.round_threshold)
    expected = fresh.matching(10, ledger.bandwidth(members, 10))
    assert [list(p) for p in plan.pairs] == [[members[p.first], members[p.second]] for p in expected.pairs]
    # The history the swap discarded would have planned it otherwise.
    kept = SAPSSelector(bandwidth_threshold=RUN.bandwidth_threshold, round_threshold=RUN.round_threshold)
    for round in range(10):
        kept.matching(round, ledger.bandwidth(["n1", "n2", "n3", "n4"], round))
    assert kept.matching(10, ledger.bandwidth(members, 10)) != expected


def test_dpsgd_plans_the_ring_in_slot_order():
    run = RUN.replacing(algorithm=Algorithm.DPSGD)
    ledger = TrainingLedger()
    assert ledger.apply(Configure(run)) == APPLIED
    for node, slot in [("n1", 2), ("n2", 0), ("n3", 3), ("n4", 1)]:
        assert ledger.apply(Admit(node, 0, slot)) == APPLIED
    ledger.apply(Retire("n1", 10, "dead"))
    ledger.apply(Retire("n3", 20, "dead"))
    planner = RoundPlanner(run)
    first = planner.plan_next(ledger)
    # Slots 0, 1, 2, 3 are n2, n4, n1, n3.
    assert [list(p) for p in first.pairs] == [["n2", "n4"], ["n4", "n1"], ["n1", "n3"], ["n3", "n2"]]
    assert first.resting is None
    assert first.partners("n2") == ["n4", "n3"] and first.partners("n1") == ["n4", "n3"]
    for _ in range(1, 10):
        planner.plan_next(ledger)
    three = planner.plan_next(ledger)
    assert [list(p) for p in three.pairs] == [["n2", "n4"], ["n4", "n3"], ["n3", "n2"]]
    for _ in range(11, 20):
        planner.plan_next(ledger)
    two = planner.plan_next(ledger)
    assert [list(p) for p in two.pairs] == [["n2", "n4"]] and two.partners("n4") == ["n2"]
    # A matching's partners are its one partner.
    plan = RoundPlanner(RUN).plan_next(four_peers())
    assert plan.partners("n1") == [plan.partner("n1")]


def test_fewer_than_two_participants_rest_and_seeds_are_derived():
    ledger = TrainingLedger()
    ledger.apply(Configure(RUN))
    planner = RoundPlanner(RUN)
    assert (planner.plan_next(ledger).pairs, planner.plan_next(ledger).resting) == ((), None)
    ledger.apply(Admit("solo", 0, 0))
    alone = planner.plan_next(ledger)
    assert alone.round == 2 and alone.pairs == () and alone.resting == "solo" and alone.partner("solo") is None
    assert planner.mask_seed == SeedDerivation.derive(9, 6)


# RoundHorizonTests


def test_changes_take_effect_no_earlier_than_the_horizon():
    ledger = four_peers()
    assert ledger.horizon == 0
    assert ledger.apply(Horizon(64)) == APPLIED
    assert ledger.apply(Horizon(32)).reason == "horizon 32 is not beyond 64"
    assert ledger.horizon == 64
    # Asked for round 10, released rounds run to 63: n5 trains from 64, n2 stops at 64.
    assert ledger.apply(Admit("n5", 10, 4)) == APPLIED
    assert ledger.admission("n5") == (4, 64)
    assert len(ledger.participants(63)) == 4 and len(ledger.participants(64)) == 5
    assert ledger.apply(Retire("n2", 5, "missed 3 exchanges")) == APPLIED
    assert "n2" in nodes(ledger.participants(63))
    assert "n2" not in nodes(ledger.participants(64))
    assert ledger.retired_from("n2") == 64 and ledger.admission("n2") is None and ledger.has_trained("n2")
    assert ledger.admitted_count == 4
    # n2's slot is free from 64; a request for an earlier round lands there too.
    assert ledger.free_slot(0, preferred=1) == 1
    assert ledger.free_slot(0, preferred=0) == 1
    assert ledger.apply(Admit("n2", 0, 1)) == APPLIED
    assert ledger.admission("n2") == (1, 64)
    assert ledger.free_slot(100) is None


def test_a_horizon_needs_a_run():
    ledger = TrainingLedger()
    assert ledger.apply(Horizon(16)).reason == "a round horizon before the run is configured"
    assert ledger.horizon == 0


# BandwidthReportTests


def test_reports_from_training_peers_are_kept_newest_first():
    ledger = four_peers()
    assert ledger.apply(Report("n1", {"n2": 10, "n3": 2})) == APPLIED
    assert ledger.apply(Report("n1", {"n2": 12})) == APPLIED
    assert ledger.reports["n1"] == {"n2": 12}
    assert ledger.apply(Report("n9", {"n1": 1})).ignored
    assert ledger.apply(Report("n2", {"n1": float("nan")})).ignored
    assert ledger.apply(Report("n2", {"n1": -1})).ignored
    assert "n2" not in ledger.reports and ledger.latest_matrix is None


# ---------------------------------------------------------------------------------------------
# Node order, and the module split


def test_node_ids_sort_as_utf8_bytes():
    ledger = TrainingLedger()
    ledger.apply(Configure(RUN))
    for slot, node in enumerate(["n2", "n10", "Zed", "é", "a"]):
        assert ledger.apply(Admit(node, 0, slot)) == APPLIED
    assert nodes(ledger.participants(0)) == ["Zed", "a", "n10", "n2", "é"]


def test_the_ledger_re_exports_the_codec():
    """codec.py holds the run, the events and their encoding; `from gossipfl_py.ledger import`
    still finds every name it did before the split."""
    from gossipfl_py import codec, ledger
    names = ("APPLIED ARCHITECTURES Admission Admit Algorithm Bandwidth BandwidthMatrix BandwidthMatrixError Configure "
             "DEFAULT_HORIZON_ROUNDS Horizon MAX_BATCH_SIZE MAX_ROUND MatrixEntry Outcome Participant PartitionError "
             "PartitionScheme PeerAddress Progress ProgressEntry Report Retire RunConfiguration TrainingCommandError "
             "TrainingEvent TrainingLedger aggregate_bandwidth command_from_event event_from_command "
             "swift_debug_description swift_description").split()
    assert [name for name in names if not hasattr(ledger, name)] == []
    assert [name for name in names if hasattr(codec, name) and getattr(codec, name) is not getattr(ledger, name)] == []
    assert codec.RunConfiguration is RunConfiguration and codec.event_from_command is event_from_command


# ---------------------------------------------------------------------------------------------
# protos.py


def test_generated_modules_are_loaded_once():
    assert protos.load("gossip") is protos.load("gossip.v1")
    assert protos.load("gossip").pb2 is pb
    assert hasattr(protos.load("gossip").pb2_grpc, "GossipStub")
    assert hasattr(protos.raft().pb2_grpc, "RaftStub") and hasattr(protos.gateway().pb2, "NodeAddress")
    with pytest.raises(ValueError):
        protos.load("nonsense")


def test_modules_are_generated_into_the_cache_directory(tmp_path):
    if protos._generated_root():
        pytest.skip("gossipfl_py/_generated/ is built: nothing is generated")
    env = dict(os.environ, GOSSIPFL_PROTO_CACHE=str(tmp_path), PYTHONPATH=PYTHON_DIR)
    script = ("from gossipfl_py import protos; m = protos.gossip(); "
              "print(m.pb2.__file__); print(m.pb2_grpc.GossipStub.__name__)")
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    module_file, stub = out.stdout.split()
    assert module_file.startswith(str(tmp_path)) and stub == "GossipStub"
    # Keyed by the protos' content: one directory, reused by the next process.
    assert len([d for d in os.listdir(tmp_path) if not d.startswith(".")]) == 1
    again = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert again.stdout.split()[0] == module_file
