"""C2SP `tlog-checkpoint` signed notes (c2sp.org/signed-note, c2sp.org/tlog-checkpoint), no I/O.

    <origin>
    <size>
    <base64 root>

    — <origin> <base64(key ID (4 bytes) ‖ Ed25519 signature (64 bytes))>

The signature covers the note text (the three lines, each ending in a newline). The key ID is
SHA-256(key name ‖ "\\n" ‖ 0x01 ‖ public key)[:4]; the key name is the origin.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from service.signing.keys import SigningKey, note_key_hash

DASH = "\u2014"
SIZE = re.compile(r"^(0|[1-9][0-9]{0,18})$")
MAX_NOTE = 16_384


class NoteError(ValueError):
    """Not a checkpoint note, or not one a known key signed."""


@dataclass(frozen=True)
class Signature:
    name: str
    key_hash: bytes  # 4 bytes
    signature: bytes

    def encoded(self) -> str:
        return base64.b64encode(self.key_hash + self.signature).decode("ascii")


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    signatures: tuple[Signature, ...] = ()

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode('ascii')}\n"

    def note(self) -> str:
        lines = "".join(f"{DASH} {s.name} {s.encoded()}\n" for s in self.signatures)
        return f"{self.text()}\n{lines}"


def sign(origin: str, size: int, root: bytes, key: SigningKey) -> Checkpoint:
    """The checkpoint of a tree of `size` with `root`, signed by `key` under the name `origin`."""
    unsigned = Checkpoint(origin, size, root)
    signature = key.sign(unsigned.text().encode("utf-8"))
    return Checkpoint(origin, size, root, (Signature(origin, note_key_hash(origin, key.public_raw()), signature),))


def parse(note: str) -> Checkpoint:
    """A checkpoint note's parts; refuses what is not one (signatures are not checked here)."""
    if len(note) > MAX_NOTE or any(ord(c) < 0x20 and c != "\n" for c in note):
        raise NoteError("not a signed note: too long, or control characters")
    text, separator, block = note.rpartition("\n\n")
    if not separator or not block.endswith("\n"):
        raise NoteError("not a signed note: no blank line before signature lines ending in a newline")
    lines = text.split("\n")
    if len(lines) != 3:
        raise NoteError("a checkpoint of this log has three lines: origin, size, root hash (no extension lines)")
    origin, size, root = lines[0], lines[1], lines[2]
    if not origin or not SIZE.match(size):
        raise NoteError("a checkpoint's first lines are its origin and its decimal size")
    try:
        root_bytes = base64.b64decode(root, validate=True)
    except binascii.Error:
        raise NoteError("a checkpoint's third line is its base64 root hash") from None
    if len(root_bytes) != 32:
        raise NoteError("a checkpoint's root hash is 32 bytes")
    signatures = []
    for line in block[:-1].split("\n"):
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != DASH or not parts[1]:
            raise NoteError(f"not a signature line: {line[:80]!r}")
        try:
            raw = base64.b64decode(parts[2], validate=True)
        except binascii.Error:
            raise NoteError("a signature is base64") from None
        if len(raw) < 5:
            raise NoteError("a signature is a 4-byte key ID and the signature proper")
        signatures.append(Signature(parts[1], raw[:4], raw[4:]))
    checkpoint = Checkpoint(origin, int(size), root_bytes, tuple(signatures))
    if checkpoint.note() != note:
        raise NoteError("the note is not in its canonical form")
    return checkpoint


def verify(checkpoint: Checkpoint, public_keys: Iterable[bytes]) -> bytes:
    """Check the note against trusted Ed25519 public keys, by the signed-note rules: a signature of
    a known key (name = origin, key ID of that key) must verify, and at least one must. Returns the
    public key that signed. Signatures of unknown keys (witnesses' cosignatures) are ignored."""
    name = checkpoint.origin
    message = checkpoint.text().encode("utf-8")
    known = {note_key_hash(name, public): public for public in public_keys}
    signer = None
    for signature in checkpoint.signatures:
        public = known.get(signature.key_hash)
        if signature.name != name or public is None:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(signature.signature, message)
        except InvalidSignature:
            raise NoteError(f"the signature of key {signature.key_hash.hex()} does not verify") from None
        signer = public
    if signer is None:
        raise NoteError("no signature by a known key of this origin")
    return signer

