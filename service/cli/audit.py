"""`trainrec audit checkpoint|verify-checkpoint|verify`: the transparency log from the command line.

- `checkpoint [--export FILE]`: extend the tree to the log's head, sign a checkpoint if the log grew,
  print its note (and write it to FILE, to keep outside the database);
- `verify-checkpoint OLD NEW [--keys FILE]`: both notes signed by a published checkpoint key, and
  NEW consistent with OLD by a proof computed from the stored events (not the stored tree);
- `verify [--scope chain|readmodel|all] [--full] [--checkpoint FILE] [--keys FILE]`: the hash chains and
  every read-model table against the log (as `GET /api/v1/audit/verify?scope=`, service/queries/
  verify_read_model.py; default `all`: an operator's deliberate run), printed as that answer's JSON;
  and, with a kept checkpoint, the root recomputed from the stored events at its size.

Exit status 0 when everything checked holds, 1 when something does not, 2 on bad input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from domain.actor import Actor
from domain.errors import DomainError
from domain.vocabulary import Role

OPERATOR = Actor(subject="trainrec-cli", role=Role.ADMIN)


def _read(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


def _keys(args: argparse.Namespace) -> list[bytes]:
    from service.transparency.checks import checkpoint_keys

    return checkpoint_keys(Path(args.keys) if args.keys else None)


def _print(report: object) -> int:
    from service.transparency.checks import Report

    assert isinstance(report, Report)
    for fact in report.facts:
        print(f"ok: {fact}")
    for problem in report.problems:
        print(f"FAILED: {problem}")
    return 0 if report.ok else 1


def run(args: argparse.Namespace) -> int:
    import json

    from service.app import TrainRec
    from service.signing.keys import KeyFileError
    from service.transparency.checks import check_consistency, check_store
    from service.transparency.origin import OriginError

    try:
        if args.audit_command == "verify-checkpoint":
            old, new, keys = _read(args.old), _read(args.new), _keys(args)
        elif args.audit_command == "verify" and args.checkpoint:
            note, keys = _read(args.checkpoint), _keys(args)
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, KeyFileError, OriginError) as error:
        print(f"trainrec: {type(error).__name__}: {error}", file=sys.stderr)
        return 2
    app = TrainRec()
    try:
        if args.audit_command == "checkpoint":
            current = app.transparency.current()
            if args.export:
                Path(args.export).write_text(current["note"], encoding="utf-8")
            sys.stdout.write(current["note"])
            return 0
        if args.audit_command == "verify-checkpoint":
            return _print(check_consistency(app.recorder, old, new, keys))
        answer = app.verify_all(OPERATOR, scope=args.scope, full=args.full)
        print(json.dumps(answer, ensure_ascii=False, indent=2, default=str))
        status = 0 if answer["ok"] else 1
        if args.checkpoint:
            status = max(status, _print(check_store(app.recorder, note, keys)))
        return status
    except (KeyFileError, OriginError) as error:
        print(f"trainrec: {error}", file=sys.stderr)
        return 2
    except DomainError as error:
        print(f"trainrec: {error.code}: {error.detail}", file=sys.stderr)
        return 2
    finally:
        app.close()


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    audit = commands.add_parser("audit", help="tamper evidence: hash chains, the read model, signed checkpoints")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    checkpoint = audit_commands.add_parser("checkpoint", help="sign (if the log grew) and print the log's checkpoint")
    checkpoint.add_argument("--export", default=None, help="also write the signed note to this file")
    consistent = audit_commands.add_parser(
        "verify-checkpoint", help="check two kept checkpoints: signatures, and NEW consistent with OLD by the log")
    consistent.add_argument("old")
    consistent.add_argument("new")
    verifying = audit_commands.add_parser("verify", help="check the hash chains, and the log against a checkpoint")
    verifying.add_argument("--scope", choices=["chain", "readmodel", "all"], default="all",
                           help="what to check (default all: an operator's run; the API's default is chain)")
    verifying.add_argument("--full", action="store_true", help="check every chain from the start of the log")
    verifying.add_argument("--checkpoint", default=None, help="a kept checkpoint note: its root must be the log's")
    for sub in (consistent, verifying):
        sub.add_argument("--keys", default=None,
                         help="a saved /.well-known/trainrec-keys.json (default: this installation's keys)")
    audit.set_defaults(run=run)
