"""The transparency log: a Merkle tree over every stored event, signed checkpoints, proofs."""
