"""Checks an outside party runs against kept checkpoints: they trust the notes' signatures and the
stored events, never the tree's stored nodes (every leaf is rehashed from the event table).

- `check_store(recorder, note, keys)`: the root recomputed from the first `size` stored events
  equals the checkpoint's (a rewritten event, or one deleted before it or the log cut short, breaks it);
- `check_consistency(recorder, old, new, keys)`: both notes verify, and NEW is consistent with OLD by
  an RFC 9162 consistency proof computed from the stored events; the log as stored still gives both
  roots.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.signing.keys import key_ring
from service.transparency import merkle
from service.transparency.notes import Checkpoint, NoteError, parse, verify
from service.transparency.origin import log_origin
from service.transparency.tree import recompute


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def checkpoint_keys(keys_file: Path | None = None) -> list[bytes]:
    """The checkpoint keys' public keys: from a saved `/.well-known/trainrec-keys.json` (`keys_file`),
    else this installation's key ring (every key, retired ones too)."""
    document: Any = (json.loads(keys_file.read_text(encoding="utf-8")) if keys_file is not None
                     else key_ring().published(log_origin()))
    keys = []
    for entry in document.get("keys", []):
        if entry.get("purpose") == "checkpoint" and entry.get("alg") == "Ed25519":
            x = str(entry["jwk"]["x"])
            keys.append(base64.urlsafe_b64decode(x + "=" * (-len(x) % 4)))
    return keys


def _signed(note: str, label: str, keys: list[bytes], report: Report) -> Checkpoint | None:
    try:
        checkpoint = parse(note)
        verify(checkpoint, keys)
    except NoteError as error:
        report.problems.append(f"{label}: {error}")
        return None
    report.facts.append(f"{label}: signed by a published checkpoint key of {checkpoint.origin}, size {checkpoint.size}")
    return checkpoint


def check_store(recorder: Any, note: str, keys: list[bytes], label: str = "checkpoint") -> Report:
    report = Report()
    checkpoint = _signed(note, label, keys, report)
    if checkpoint is None:
        return report
    found = recompute(recorder, [checkpoint.size])
    if found.log_size < checkpoint.size:
        report.problems.append(f"the log holds {found.log_size} events, fewer than the {checkpoint.size} "
                               f"{label} covers: events were deleted")
    elif found.roots[checkpoint.size] != checkpoint.root:
        report.problems.append(f"the first {checkpoint.size} stored events hash to a root other than the "
                               f"{label}'s: stored events were changed, deleted or reordered")
    else:
        report.facts.append(f"the first {checkpoint.size} stored events hash to the {label}'s root")
    return report


def check_consistency(recorder: Any, old_note: str, new_note: str, keys: list[bytes]) -> Report:
    report = Report()
    old = _signed(old_note, "OLD", keys, report)
    new = _signed(new_note, "NEW", keys, report)
    if old is None or new is None:
        return report
    if old.origin != new.origin:
        report.problems.append(f"OLD is of log {old.origin}, NEW of log {new.origin}")
        return report
    if old.size > new.size:
        report.problems.append(f"OLD ({old.size}) is larger than NEW ({new.size}): the log shrank, or swap them")
        return report
    plan = merkle.consistency_plan(old.size, new.size)
    found = recompute(recorder, [old.size, new.size], merkle.plan_nodes(plan))
    if found.log_size < new.size:
        report.problems.append(f"the log holds {found.log_size} events, fewer than NEW's {new.size}: "
                               "events were deleted")
        return report
    proof = merkle.resolve(plan, found.nodes)
    if merkle.verify_consistency(old.size, new.size, proof, old.root, new.root):
        report.facts.append(f"NEW ({new.size}) is consistent with OLD ({old.size}): a consistency proof of "
                            f"{len(proof)} hashes computed from the stored events verifies")
    else:
        report.problems.append("the consistency proof computed from the stored events does not take OLD's "
                               "root to NEW's: the log was rewritten")
    for label, checkpoint in (("OLD", old), ("NEW", new)):
        if found.roots[checkpoint.size] != checkpoint.root:
            report.problems.append(f"the first {checkpoint.size} stored events no longer hash to {label}'s root")
    return report
