"""The `trainrec` command: serve, token issue, demo, import, projections rebuild|check|follow."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import timedelta

from domain.errors import DomainError
from domain.vocabulary import Role


def _token(args: argparse.Namespace) -> int:
    from service.auth.tokens import actor_for, issue_token, load_secret

    try:
        actor = actor_for(Role(args.role), args.sub, args.org, args.teacher_no)
    except DomainError as error:
        print(f"trainrec: {error.detail}", file=sys.stderr)
        return 2
    print(issue_token(load_secret(), actor, ttl=timedelta(hours=args.hours)))
    return 0


def _log_followers() -> None:
    """The follower's warnings and recoveries (logger `trainrec.follower`) on stderr, unless the
    process configured that logger itself."""
    logger = logging.getLogger("trainrec.follower")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def _serve(args: argparse.Namespace) -> int:
    import os

    from service.api.main import create_app
    from service.api.server import HttpLimits, LimitsError, serve
    from service.app import TrainRec
    from service.cli.demo import load_demo_if_empty, print_examples

    try:
        limits = HttpLimits.configured(os.environ, **{name: getattr(args, name) for name in SERVER_BOUNDS})
    except LimitsError as error:
        print(f"trainrec: {error}", file=sys.stderr)
        return 2
    if args.demo and load_demo_if_empty(600) != 0:
        return 1
    _log_followers()
    app = TrainRec()
    if args.demo:
        print_examples(app, args.host, args.port)
    serve(create_app(app, server=True), args.host, args.port, limits)
    return 0


# `trainrec serve` flags for the bounds of service/api/server.py: name → (type, help)
SERVER_BOUNDS: dict[str, tuple[type, str]] = {
    "max_header_bytes": (int, "largest request head, in bytes (default 16384; TRAINREC_HTTP_MAX_HEADER_BYTES)"),
    "max_headers": (int, "most header fields in a request (default 100; TRAINREC_HTTP_MAX_HEADERS)"),
    "header_timeout": (float, "seconds for a request head to arrive (default 10; TRAINREC_HTTP_HEADER_TIMEOUT)"),
    "body_timeout": (float, "seconds for a body to arrive after its head (default 30; TRAINREC_HTTP_BODY_TIMEOUT)"),
    "keep_alive_timeout": (float, "seconds a connection may idle between requests (default 5; "
                                  "TRAINREC_HTTP_KEEP_ALIVE_TIMEOUT)"),
    "max_connections": (int, "connections open at once; beyond, 503 (default 1000; TRAINREC_HTTP_MAX_CONNECTIONS)"),
}


def _demo(args: argparse.Namespace) -> int:
    from service.cli.demo import load_demo_if_empty

    return load_demo_if_empty(args.teachers, refuse_if_not_empty=not args.if_empty)


def _rebuild(args: argparse.Namespace) -> int:
    from projections.schema import PROJECTIONS
    from service.app import TrainRec
    from service.cli.demo import progress_bar

    names = [args.name] if args.name else list(PROJECTIONS)
    unknown = [n for n in names if n not in PROJECTIONS]
    if unknown:
        print(f"trainrec: unknown projection {unknown[0]!r}; known: {', '.join(PROJECTIONS)}", file=sys.stderr)
        return 2
    app = TrainRec()
    for name in names:
        position = app.read_model.rebuild(progress=progress_bar(name))
        print(f"{name}: rebuilt up to event {position}; the old tables served reads until the swap")
    app.close()
    return 0


def _check(args: argparse.Namespace) -> int:
    from projections.check import check
    from service.app import TrainRec
    from service.cli.demo import progress_bar

    app = TrainRec()
    app.read_model.catch_up(progress=progress_bar("catch-up"))
    position, differences = check(app.read_model)
    app.close()
    for difference in differences:
        print(difference)
    print(f"checked every projection against a replay of events 1..{position}: {len(differences)} difference(s)")
    return 1 if differences else 0


def _follow(args: argparse.Namespace) -> int:
    from service.app import TrainRec
    from service.followers.follow import follow

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    _log_followers()
    app = TrainRec()
    follower = follow(app)
    status = follower.status()
    print(f"following the log into the read model (event {status.position}"
          f"{f'; retrying after {status.last_error}' if status.last_error else ''}); stop with Ctrl-C", flush=True)
    stop.wait()
    follower.stop()
    app.close()
    return 0


def _import(args: argparse.Namespace) -> int:
    from pathlib import Path

    from service.app import TrainRec
    from service.auth.tokens import actor_for
    from service.cli.demo import progress_bar
    from service.importing.importer import ImportFileError, import_file

    try:
        actor = actor_for(Role(args.role), args.subject, args.org, None)
    except DomainError as error:
        print(f"trainrec: {error.detail}", file=sys.stderr)
        return 2
    app = TrainRec()
    try:
        report = import_file(app, args.kind, Path(args.file), actor, progress=progress_bar(f"import {args.kind}"),
                             exclusive=True)  # this process runs nothing else
    except (ImportFileError, DomainError) as error:
        print(f"trainrec: {error.code}: {error.detail}", file=sys.stderr)
        return 2
    finally:
        app.close()
    if report.ignored_columns:
        print(f"ignored columns: {', '.join(report.ignored_columns)}")
    for rejected in report.rejected:
        who = f" [工号 {rejected.teacher_no}]" if rejected.teacher_no else ""
        who += f" [姓名 {rejected.name}]" if rejected.name else ""
        print(f"row {rejected.row}: {rejected.code}: {rejected.reason}{who}")
    print(report.summary())
    if args.report:
        report.write_csv(Path(args.report))
        print(f"rejected rows written to {args.report}")
    return 1 if report.rejected else 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="trainrec", description="Teachers' continuing-education records")
    commands = top.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--demo", action="store_true",
                       help="load the demo county into an empty database first; print an admin token and examples")
    for name, (kind, description) in SERVER_BOUNDS.items():
        serve.add_argument(f"--{name.replace('_', '-')}", dest=name, type=kind, default=None, help=description)
    serve.set_defaults(run=_serve)

    token = commands.add_parser("token", help="bearer tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    issue = token_commands.add_parser("issue", help="print one bearer token")
    issue.add_argument("--role", required=True, choices=[r.value for r in Role])
    issue.add_argument("--sub", required=True)
    issue.add_argument("--org", default=None)
    issue.add_argument("--teacher-no", dest="teacher_no", default=None)
    issue.add_argument("--hours", type=float, default=12.0, help="validity in hours (default 12)")
    issue.set_defaults(run=_token)

    demo = commands.add_parser("demo", help="load a demo county into the database")
    demo.add_argument("--teachers", type=int, default=600)
    demo.add_argument("--if-empty", action="store_true", help="do nothing when records exist")
    demo.set_defaults(run=_demo)

    projections = commands.add_parser("projections", help="read-model tables")
    projection_commands = projections.add_subparsers(dest="projection_command", required=True)
    rebuild = projection_commands.add_parser("rebuild", help="rebuild from the log, then swap in")
    rebuild.add_argument("name", nargs="?", default=None)
    rebuild.set_defaults(run=_rebuild)
    checking = projection_commands.add_parser("check", help="compare every projection with a replay")
    checking.set_defaults(run=_check)
    following = projection_commands.add_parser(
        "follow", help="keep the read model live in this process (for servers run with TRAINREC_PROJECTOR=separate)")
    following.set_defaults(run=_follow)

    importing = commands.add_parser("import", help="import rows from a CSV or XLSX file (docs/import.md)")
    importing.add_argument("kind", choices=["teachers", "programmes", "enrolments", "attendance", "assessments",
                                            "credits", "prior-hours"])
    importing.add_argument("file")
    importing.add_argument("--as", dest="subject", default="import", help="the acting subject (default import)")
    importing.add_argument("--role", default="admin", choices=[r.value for r in Role])
    importing.add_argument("--org", default=None, help="the org the role acts for (all roles but admin)")
    importing.add_argument("--report", default=None, help="write the rejected rows to this CSV (UTF-8 with BOM)")
    importing.set_defaults(run=_import)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    code: int = args.run(args)
    return code

