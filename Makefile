# GossipFL: the two commands a user needs are `make demo` and `make test`.
# Both install what is missing first (Debian packages, Python venv).

SWIFT ?= swift
VENV := .venv
PYTHON := $(VENV)/bin/python
INTEROP_DEBUG := .build/debug/gossipfl-interop
INTEROP_RELEASE := .build/release/gossipfl-interop

.PHONY: all deps build demo demo-mixed test test-swift test-interop protos check-protos bench clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build

## demo: the main job: a gateway and five training peers (mutual TLS, loopback) train Fashion-MNIST
## with SAPS through a newcomer, a gateway outage and a kill -9; a live table, then accuracy per
## peer and out/demo-accuracy.png.
demo: build
	$(PYTHON) scripts/train_demo.py --gossipfl-bin $(CURDIR)/.build/debug/gossipfl

## demo-mixed: the main demo with one Python peer (python/gossipfl_py) among the Swift ones.
demo-mixed: build
	$(PYTHON) scripts/train_demo.py --gossipfl-bin $(CURDIR)/.build/debug/gossipfl --mixed

## demo-checks: every interop case over h2c and TLS, gateway discovery, then a Raft cluster with
## mutual TLS (certificates from `gossipfl certs`).
.PHONY: demo-checks
demo-checks: build
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	.build/debug/gossipfl certs init --dir "$$tmp" >/dev/null && \
	.build/debug/gossipfl certs node --dir "$$tmp" --id demo-server >/dev/null && \
	.build/debug/gossipfl demo --checks --cert "$$tmp/demo-server.pem" --key "$$tmp/demo-server-key.pem" --ca "$$tmp/ca.pem"

## test: generated code up to date, Swift tests, then the grpcio interop suite.
test: deps check-protos test-swift test-interop

test-swift: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

test-interop: deps
	$(SWIFT) build --product gossipfl-interop
	$(SWIFT) build --product gossipfl
	GOSSIPFL_INTEROP_BIN=$(CURDIR)/$(INTEROP_DEBUG) GOSSIPFL_BIN=$(CURDIR)/.build/debug/gossipfl \
	  $(PYTHON) -m pytest -q Tests/interop

protos: deps
	scripts/gen-protos.sh

check-protos: deps
	scripts/check-protos.sh

## bench: our gRPC server vs C++ gRPC (bench/cpp, built here) vs grpcio vs nghttpd under h2load, plain and TLS; gateway throughput and RSS;
## Raft vs etcd, plain and with mutual TLS; training throughput vs PyTorch; time to accuracy of SAPS,
## the baselines and ours on Fashion-MNIST; training peers on the network vs the simulation, bytes on
## the wire, SAPS on shaped links; Swift, mixed and Python clusters (not tests).
bench:
	@scripts/install-deps.sh --bench
	$(SWIFT) build -c release --product gossipfl-interop
	$(SWIFT) build -c release --product gossipfl
	$(PYTHON) bench/grpc_bench.py --swift-bin $(CURDIR)/$(INTEROP_RELEASE)
	$(PYTHON) bench/grpc_bench.py --swift-bin $(CURDIR)/$(INTEROP_RELEASE) --tls
	$(PYTHON) bench/gateway_bench.py --gossipfl-bin $(CURDIR)/.build/release/gossipfl
	$(PYTHON) bench/raft_bench.py --gossipfl-bin $(CURDIR)/.build/release/gossipfl
	$(PYTHON) bench/raft_bench.py --gossipfl-bin $(CURDIR)/.build/release/gossipfl --tls
	$(PYTHON) bench/train_bench.py --gossipfl-bin $(CURDIR)/.build/release/gossipfl
	$(PYTHON) bench/gossip_bench.py --gossipfl-bin $(CURDIR)/.build/release/gossipfl
	$(PYTHON) bench/network_bench.py --gossipfl-bin $(CURDIR)/.build/release/gossipfl
	$(PYTHON) bench/mixed_bench.py --gossipfl-bin $(CURDIR)/.build/release/gossipfl

## bench-training: only the training benches.
.PHONY: bench-training
bench-training: deps
	$(SWIFT) build -c release --product gossipfl
	$(PYTHON) bench/train_bench.py --gossipfl-bin $(CURDIR)/.build/release/gossipfl
	$(PYTHON) bench/gossip_bench.py --gossipfl-bin $(CURDIR)/.build/release/gossipfl
	$(PYTHON) bench/network_bench.py --gossipfl-bin $(CURDIR)/.build/release/gossipfl

clean:
	rm -rf .build $(VENV)

## fuzz: libFuzzer targets in Fuzz/ (protobuf decodes, gRPC deframer, HTTP/2 + gRPC server), each
## for FUZZ_SECONDS (default 60); fails on any crash, leak or mismatch (artifacts: .build-fuzz/artifacts/).
## fuzz-smoke: the same, 10 s each (CI).
FUZZ_SECONDS ?= 60
.PHONY: fuzz fuzz-smoke

fuzz: deps
	SWIFT=$(SWIFT) Fuzz/run.sh $(FUZZ_SECONDS)

fuzz-smoke: deps
	SWIFT=$(SWIFT) Fuzz/run.sh 10
