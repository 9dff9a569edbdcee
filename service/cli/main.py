"""The `trainrec` command: serve, token issue, user add|disable|enable|list|reset-password, demo, import,
projections rebuild|check|follow,
keys list|rotate, credential verify, audit checkpoint|verify-checkpoint|verify (service/cli/audit.py)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import timedelta

from domain.actor import Actor
from domain.errors import DomainError
from domain.vocabulary import Role


def _token(args: argparse.Namespace) -> int:
    """Print a bearer token (no account: it works until it expires). Refuses a non-positive or
    unbounded validity and an org unit that is not recorded."""
    import math

    from service.app import TrainRec
    from service.auth.tokens import actor_for, issue_token, load_secret

    if not math.isfinite(args.hours) or args.hours <= 0 or args.hours > MAX_TOKEN_HOURS:
        print(f"trainrec: invalid_ttl: --hours must be more than 0 and at most {MAX_TOKEN_HOURS}", file=sys.stderr)
        return 2
    try:
        actor = actor_for(Role(args.role), args.sub, args.org, args.teacher_no)
    except DomainError as error:
        print(f"trainrec: {error.detail}", file=sys.stderr)
        return 2
    if actor.org_id is not None:
        app = TrainRec()
        try:
            app.org_kind(actor.org_id)
        except DomainError as error:
            print(f"trainrec: {error.code}: {error.detail}", file=sys.stderr)
            return 2
        finally:
            app.close()
    print(issue_token(load_secret(), actor, ttl=timedelta(hours=args.hours)))
    return 0


MAX_TOKEN_HOURS = 24 * 366


def _operator(args: argparse.Namespace) -> Actor:
    """Who runs a `trainrec user` command: an admin, named by --as (default: the login name)."""
    import getpass

    subject = args.acting_as
    if not subject:
        try:
            subject = getpass.getuser()
        except (KeyError, OSError):
            subject = "operator"
    return Actor(subject=subject, role=Role.ADMIN)


def _read_password(args: argparse.Namespace) -> str:
    """From --password-file (`-` for standard input; one trailing line break dropped), else asked
    twice on the terminal. Never echoed, logged or printed."""
    import getpass
    from pathlib import Path

    if args.password_file == "-":  # noqa: S105 - a file name, not a password
        return sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    if args.password_file:
        return Path(args.password_file).read_text(encoding="utf-8").removesuffix("\n").removesuffix("\r")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        msg = "the passwords differ"
        raise PasswordEntryError(msg)
    return first


class PasswordEntryError(ValueError):
    """The password could not be read."""


def _user(args: argparse.Namespace) -> int:
    from service.app import TrainRec

    operator = _operator(args)
    password = ""
    if args.user_command in ("add", "reset-password"):
        try:
            password = _read_password(args)
        except (PasswordEntryError, OSError, UnicodeDecodeError) as error:
            print(f"trainrec: {error}", file=sys.stderr)
            return 2
    app = TrainRec()
    try:
        if args.user_command == "add":
            app.add_account(operator, args.username, Role(args.role), args.org, args.teacher_no, password, args.reason)
            print(f"account {args.username} created ({args.role})")
        elif args.user_command == "disable":
            app.disable_account(operator, args.username, args.reason)
            print(f"account {args.username} disabled; its sessions ended")
        elif args.user_command == "enable":
            app.enable_account(operator, args.username, args.reason)
            print(f"account {args.username} enabled")
        elif args.user_command == "history":
            for change in app.account_history(operator, args.username):
                print(f"{change['recorded_at']}\t{change['type']}\t{change['by']}\t{change['reason']}")
        elif args.user_command == "reset-password":
            app.reset_password(operator, args.username, password, args.reason)
            print(f"password of {args.username} reset; its sessions ended")
        else:
            for account in app.accounts(operator):
                scope = account["org_id"] or account["teacher_no"] or "-"
                state = "enabled" if account["enabled"] else "disabled"
                print(f"{account['username']}\t{account['role']}\t{scope}\t{state}")
    except DomainError as error:
        print(f"trainrec: {error.code}: {error.detail}", file=sys.stderr)
        return 2
    finally:
        app.close()
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


def _keys(args: argparse.Namespace) -> int:
    """`trainrec keys list` (every key, active and retired; public parts only) and `trainrec keys
    rotate --purpose P` (a new active key; the old one stays published with its end of validity)."""
    from datetime import UTC, datetime

    from service.signing.keys import KeyFileError, KeyRing, b64url
    from service.transparency.origin import OriginError, log_origin

    try:
        ring = KeyRing.open()
        if args.keys_command == "rotate":
            new = ring.rotate(args.purpose, datetime.now(tz=UTC))
            print(f"{new.key_id} is now the active {new.purpose} key; the previous one stays published")
            return 0
        origin = log_origin()
    except (KeyFileError, OriginError, OSError) as error:
        print(f"trainrec: {error}", file=sys.stderr)
        return 2
    for key in ring.all_keys():
        until = key.valid_until.isoformat() if key.valid_until else "active"
        line = f"{key.key_id}\t{key.purpose}\t{key.valid_from.isoformat()}\t{until}\t{b64url(key.public_raw())}"
        if key.purpose == "checkpoint":
            line += f"\t{key.published(origin)['vkey']}"
        print(line)
    return 0


def _credential_verify(args: argparse.Namespace) -> int:
    """`trainrec credential verify FILE [--keys FILE]`: verify a credential offline against a saved
    `/.well-known/trainrec-keys.json` (or, without --keys, the local key ring); print its subject and
    totals (exit 0), or one line saying why it does not verify (exit 1)."""
    import json
    from pathlib import Path

    from service.auth.tokens import data_dir
    from service.credentials.verify import (
        CredentialRejected,
        published_keys,
        ring_keys,
        token_of,
        verify_credential,
    )
    from service.signing.keys import KEYS_FILE, KeyFileError, KeyRing

    try:
        token = token_of(Path(args.file).read_text(encoding="utf-8"))
        if args.keys:
            try:
                document = json.loads(Path(args.keys).read_text(encoding="utf-8"))
            except ValueError:
                raise CredentialRejected(f"the keys file {args.keys} is not JSON") from None
            keys = published_keys(document)
        else:
            if not (data_dir() / KEYS_FILE).exists():
                raise CredentialRejected(f"no local key ring in {data_dir()}: give the published keys with --keys FILE")
            keys = ring_keys(KeyRing.open())
        verified = verify_credential(token, keys)
    except (CredentialRejected, KeyFileError) as error:
        print(f"trainrec: credential does not verify: {error}", file=sys.stderr)
        return 1
    except (OSError, UnicodeDecodeError) as error:
        print(f"trainrec: credential does not verify: cannot read {getattr(error, 'filename', None) or args.file}: "
              f"{error.strerror if isinstance(error, OSError) else error}", file=sys.stderr)
        return 1
    for line in verified.summary():
        print(line)
    return 0


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

    user = commands.add_parser("user", help="accounts that sign in (passwords are asked, or read from a file)")
    user_commands = user.add_subparsers(dest="user_command", required=True)
    adding = user_commands.add_parser("add", help="create an account")
    adding.add_argument("--username", required=True)
    adding.add_argument("--role", required=True, choices=[r.value for r in Role])
    adding.add_argument("--org", default=None)
    adding.add_argument("--teacher-no", dest="teacher_no", default=None)
    disabling = user_commands.add_parser("disable", help="disable an account: its sessions and tokens end at once")
    enabling = user_commands.add_parser("enable", help="enable a disabled account again")
    resetting = user_commands.add_parser("reset-password", help="set a new password: the account's sessions end")
    for sub in (disabling, enabling, resetting):
        sub.add_argument("username")
    for sub in (adding, resetting):
        sub.add_argument("--password-file", dest="password_file", default=None,
                         help="read the password from this file ('-': standard input) instead of asking")
    listing = user_commands.add_parser("list", help="list the accounts")
    history = user_commands.add_parser("history", help="an account's changes and sign-ins: when, what, by whom, why")
    history.add_argument("username")
    for sub in (adding, disabling, enabling, resetting, listing, history):
        sub.add_argument("--as", dest="acting_as", default=None, help="who acts, recorded (default: the login name)")
        sub.set_defaults(run=_user, reason="")
    for sub in (adding, disabling, enabling, resetting):
        sub.add_argument("--reason", default="", help="why, recorded with the change")

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

    keys = commands.add_parser("keys", help="the Ed25519 keys that sign credentials and checkpoints")
    keys_commands = keys.add_subparsers(dest="keys_command", required=True)
    keys_commands.add_parser("list", help="every key: id, purpose, valid from, until, public key (and vkey)")
    rotating = keys_commands.add_parser("rotate", help="a new active key for a purpose; the old one stays published")
    rotating.add_argument("--purpose", required=True, choices=["credential", "checkpoint"])
    keys.set_defaults(run=_keys)

    from service.cli.audit import add_parser as add_audit

    add_audit(commands)
    credential = commands.add_parser("credential", help="signed credentials (the transcript as a VC-JWT)")
    credential_commands = credential.add_subparsers(dest="credential_command", required=True)
    verifying = credential_commands.add_parser(
        "verify", help="verify a credential offline: signature, key and its validity at issue; print the totals")
    verifying.add_argument("file", help="the credential: the compact JWS, or the JSON answer {credential, jwt}")
    verifying.add_argument("--keys", default=None,
                           help="a saved /.well-known/trainrec-keys.json (default: the local key ring)")
    verifying.set_defaults(run=_credential_verify)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    code: int = args.run(args)
    return code

