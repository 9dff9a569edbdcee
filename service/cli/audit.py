"""`trainrec audit verify`: the tamper-evidence check from the command line, as
`GET /api/v1/audit/verify` answers it (service/queries/verify_read_model.py), run as an admin."""

from __future__ import annotations

import argparse
import json
import sys

from domain.actor import Actor
from domain.errors import DomainError
from domain.vocabulary import Role


def add_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    audit = commands.add_parser("audit", help="tamper evidence: the hash chains and the read model against the log")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_commands.add_parser(
        "verify", help="check the hash chains and that every read-model table equals the log; exit 1 on a finding")
    verify.add_argument("--scope", choices=["chain", "readmodel", "all"], default="all",
                        help="what to check (default all: an operator's run; the API's default is chain)")
    verify.add_argument("--full", action="store_true", help="check every event's chain again, not only the new ones")
    verify.set_defaults(run=_verify)


def _verify(args: argparse.Namespace) -> int:
    from service.app import TrainRec

    app = TrainRec()
    try:
        answer = app.verify_all(Actor("trainrec-audit-verify", Role.ADMIN), scope=args.scope, full=args.full)
    except DomainError as error:
        print(f"trainrec: {error.code}: {error.detail}", file=sys.stderr)
        return 2
    finally:
        app.close()
    print(json.dumps(answer, ensure_ascii=False, indent=2, default=str))
    return 0 if answer["ok"] else 1
