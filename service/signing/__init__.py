"""Signing keys: Ed25519 keys with ids, validity and rotation (keys.py)."""
