"""GossipFL's deterministic gossip algorithm in Python, bit-exact with the Swift peers.

seeded: SplitMix64 and seed derivation; mask: the shared random-k mask; matching: SAPS and
random matchings; mixing: the masked and dense merges on float32 values.
"""
