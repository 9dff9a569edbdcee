"""`trainrec demo` and `trainrec serve --demo`: load the demo county, print a token and examples."""

from __future__ import annotations

import sys
from collections.abc import Callable

from domain.actor import Actor
from domain.vocabulary import Role
from service.app import TrainRec


def progress_bar(label: str) -> Callable[[int, int], None]:
    """A bar redrawn in place on a terminal, or a line per 10 % when the output is a log."""
    width = 30
    shown = {"step": -1}
    terminal = sys.stdout.isatty()

    def show(done: int, total: int) -> None:
        step = 100 * done // max(total, 1) if terminal else 10 * (10 * done // max(total, 1))
        if step == shown["step"] and done < total:
            return
        shown["step"] = step
        filled = width * done // max(total, 1)
        line = f"{label:<24} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}"
        if terminal:
            print(f"\r{line}", end="" if done < total else "\n", flush=True)
        else:
            print(line, flush=True)

    return show


_bars: dict[str, Callable[[int, int], None]] = {}


def _stage_progress(stage: str, done: int, total: int) -> None:
    if stage not in _bars:
        _bars[stage] = progress_bar(stage)
    _bars[stage](done, total)


def load_demo_if_empty(teachers: int, *, refuse_if_not_empty: bool = False) -> int:
    from service.demo.accounts import DEMO_PASSWORD, add_demo_accounts
    from service.demo.calendar import DemoClock
    from service.demo.driver import load_demo

    clock = DemoClock()
    app = TrainRec(clock=clock)
    try:
        if (app.recorder.max_notification_id() or 0) > 0:
            if refuse_if_not_empty:
                print("trainrec: the database is not empty; the demo loads into an empty one", file=sys.stderr)
                return 1
            print(f"demo: {app.storage.masked_url} already holds records; loading nothing")
            return 0
        print(f"demo: loading a county of {teachers} teachers into {app.storage.masked_url} …")
        summary = load_demo(app, clock, teachers=teachers, progress=_stage_progress)
        app.read_model.catch_up(progress=progress_bar("read model"))
        print(f"demo: {summary.orgs} org units, {summary.teachers} teachers, {summary.programmes} programmes, "
              f"{summary.events} events; open dispute {summary.open_dispute_id} "
              f"(teacher {summary.open_dispute_teacher_no}); revoked credit {summary.revoked_credit[1]} "
              f"(teacher {summary.revoked_credit[0]})")
        late_code, late_school, late_trainees = summary.late_programme
        print(f"demo: earlier hours (历史学时) 2021–2024 for {summary.prior_hours_teachers} teachers "
              f"({summary.prior_hours_records} records); late entries: {late_code} of {late_school} "
              f"({late_trainees} trainees, autumn 2024) and {summary.late_sheet[0]} session "
              f"{summary.late_sheet[1]}'s sheet; name corrected for {summary.correction[0]}; "
              f"{summary.retirement[0]} retired {summary.retirement[2]}; {summary.withdrawal[1]} withdrawn "
              f"from {summary.withdrawal[0]}; {summary.rescheduled[0]} session {summary.rescheduled[1]} moved to "
              f"{summary.rescheduled[3]}; {summary.cancelled[0]} session {summary.cancelled[1]} cancelled")
        accounts = add_demo_accounts(app)
        print(f"demo: {len(accounts)} accounts, one per role ({', '.join(a.username for a in accounts)}), "
              f"password {DEMO_PASSWORD}")
        return 0
    finally:
        app.close()


def print_examples(app: TrainRec, host: str, port: int) -> None:
    """The sign-in page and the demo's accounts, an admin token and three requests to try, with ids
    read from the records themselves."""
    from service.auth.tokens import issue_token, load_secret
    from service.demo.accounts import DEMO_PASSWORD, add_demo_accounts

    model = app.read_model
    model.catch_up()
    p = model.prefix
    county = model.db.query(f"SELECT org_id FROM {p}orgs WHERE kind = 'county' ORDER BY org_id LIMIT 1")  # noqa: S608
    teacher = model.db.query(
        f"SELECT teacher_no FROM {p}credits WHERE status = 'valid' GROUP BY teacher_no "  # noqa: S608
        "ORDER BY COUNT(*) DESC, teacher_no LIMIT 1")
    programme = model.db.query(
        f"SELECT programme_code FROM {p}enrolments GROUP BY programme_code "  # noqa: S608
        "ORDER BY COUNT(*) DESC, programme_code LIMIT 1")
    busiest = model.db.query(f"SELECT year FROM {p}credits GROUP BY year ORDER BY COUNT(*) DESC LIMIT 1")  # noqa: S608
    year = busiest[0][0] if busiest else None
    if not (county and teacher and programme):
        return
    token = issue_token(load_secret(), Actor("demo-admin", Role.ADMIN))
    base = f"http://{host}:{port}/api/v1"
    accounts = add_demo_accounts(app)
    width = max(len(a.username) for a in accounts)
    listed = "\n".join(f"  {a.username:<{width}}  {a.what}" + (f"（{a.org_id}）" if a.org_id else "")
                       + (f"（工号 {a.teacher_no}）" if a.teacher_no else "") for a in accounts)
    print(f"""
trainrec serves on http://{host}:{port}   (OpenAPI: http://{host}:{port}/docs)

Open http://{host}:{port}/ in a browser and sign in (every demo account's password: {DEMO_PASSWORD}):
{listed}

An admin token, valid 12 hours:
  export TOKEN={token}

Try:
  curl -s -H "Authorization: Bearer $TOKEN" '{base}/orgs/{county[0][0]}/compliance?year={year}'
  curl -s -H "Authorization: Bearer $TOKEN" '{base}/teachers/{teacher[0][0]}/transcript'
  curl -s -H "Authorization: Bearer $TOKEN" '{base}/programmes/{programme[0][0]}/roster'
""", flush=True)
