"""`trainrec user add|disable|enable|list|reset-password` and `trainrec token issue` on a SQLite
store: passwords asked or read from a file, never printed; refusals with a code and exit 2; the
secret found beside the database, whatever the current folder."""

from __future__ import annotations

import getpass
import io
import os
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest

from domain.account import Account
from domain.ids import account_uuid
from service.app import TrainRec
from service.auth.tokens import SECRET_FILE, data_dir, load_secret, read_token
from service.cli.main import main
from service.storage.config import storage_from_url
from tests.conftest import build_county

PASSWORD = "correct horse battery"


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A county in a SQLite file under tmp/db, named by an absolute URL; no secret configured."""
    database = tmp_path / "db" / "trainrec.db"
    url = f"sqlite:///{database}"
    app = TrainRec(storage_from_url(url))
    build_county(app)
    app.close()
    monkeypatch.setenv("TRAINREC_DATABASE_URL", url)
    monkeypatch.delenv("TRAINREC_SECRET", raising=False)
    monkeypatch.delenv("TRAINREC_DATA_DIR", raising=False)
    return database


def account(database: Path, username: str) -> Account:
    app = TrainRec(storage_from_url(f"sqlite:///{database}"))
    try:
        return app.load(Account, account_uuid(username), "", "")
    finally:
        app.close()


def test_user_add_reads_the_password_from_a_file_and_never_prints_it(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret_file = tmp_path / "pw.txt"
    secret_file.write_text(PASSWORD + "\n", encoding="utf-8")
    code = main(["user", "add", "--username", "li.na", "--role", "school_admin", "--org", "S1",
                 "--password-file", str(secret_file), "--as", "ops", "--reason", "new head"])
    out, err = capsys.readouterr()
    assert (code, out, err) == (0, "account li.na created (school_admin)\n", "")
    created = account(store, "li.na")
    assert created.password_hash.startswith("$argon2id$")
    app = TrainRec()
    try:
        assert app.sign_in("li.na", PASSWORD, "cli-test")[0].org_id == "S1"  # the newline was not kept
        (event,) = app.recorder.select_events(account_uuid("li.na"), lte=1)
        assert b'"sub":"ops"' in event.state.replace(b" ", b"")
        assert PASSWORD.encode() not in event.state
    finally:
        app.close()


def test_user_add_asks_twice_and_refuses_different_answers(
    store: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = iter([PASSWORD, PASSWORD + "x"])
    monkeypatch.setattr(getpass, "getpass", lambda _prompt="": next(answers))
    assert main(["user", "add", "--username", "a001", "--role", "teacher", "--teacher-no", "A001"]) == 2
    assert capsys.readouterr().err == "trainrec: the passwords differ\n"
    answers = iter([PASSWORD, PASSWORD])
    assert main(["user", "add", "--username", "a001", "--role", "teacher", "--teacher-no", "A001"]) == 0
    assert account(store, "a001").teacher_no == "A001"


@pytest.mark.parametrize(("args", "password", "message"), [
    (["--role", "teacher", "--teacher-no", "A001"], "short",
     "trainrec: weak_password: the password is shorter than 10 characters\n"),
    (["--role", "teacher", "--teacher-no", "A001"], "", "trainrec: weak_password: the password is empty\n"),
    (["--role", "supervisor", "--org", "C9"], PASSWORD, "trainrec: org_not_found: no org unit C9\n"),
    (["--role", "teacher", "--teacher-no", "X9"], PASSWORD, "trainrec: teacher_not_found: no teacher X9\n"),
    (["--role", "supervisor"], PASSWORD, "trainrec: org_required: a supervisor token needs --org\n"),
])
def test_user_add_refusals_exit_2_with_their_code(
    store: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    args: list[str], password: str, message: str,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    assert main(["user", "add", "--username", "u1", *args, "--password-file", "-"]) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", message)


def test_user_list_disable_enable_and_reset(
    store: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def with_stdin(text: str) -> None:
        monkeypatch.setattr("sys.stdin", io.StringIO(text))

    with_stdin(PASSWORD + "\n")
    assert main(["user", "add", "--username", "s1", "--role", "school_admin", "--org", "S1",
                 "--password-file", "-"]) == 0
    with_stdin(PASSWORD + "\n")
    assert main(["user", "add", "--username", "a001", "--role", "teacher", "--teacher-no", "A001",
                 "--password-file", "-"]) == 0
    capsys.readouterr()
    assert main(["user", "list"]) == 0
    assert capsys.readouterr().out == "s1\tschool_admin\tS1\tenabled\na001\tteacher\tA001\tenabled\n"
    assert main(["user", "disable", "s1", "--reason", "left"]) == 0
    assert capsys.readouterr().out == "account s1 disabled; its sessions ended\n"
    assert main(["user", "disable", "s1"]) == 2
    assert capsys.readouterr().err == "trainrec: account_already_disabled: account s1 is already disabled\n"
    assert main(["user", "list"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "s1\tschool_admin\tS1\tdisabled"
    assert main(["user", "enable", "s1"]) == 0
    with_stdin("a brand new phrase\n")
    assert main(["user", "reset-password", "s1", "--password-file", "-", "--reason", "forgot"]) == 0
    assert capsys.readouterr().out.endswith("password of s1 reset; its sessions ended\n")
    assert main(["user", "disable", "nobody"]) == 2
    assert capsys.readouterr().err == "trainrec: account_not_found: no account nobody\n"
    app = TrainRec()
    try:
        assert app.sign_in("s1", "a brand new phrase", "cli-test")[0].subject == "s1"
        kinds = [e.topic.rsplit(".", 1)[1] for e in app.recorder.select_events(account_uuid("s1"))]
        assert kinds == ["Created", "Disabled", "Enabled", "PasswordReset", "SignedIn"]
    finally:
        app.close()
    capsys.readouterr()
    assert main(["user", "history", "s1"]) == 0
    rows = [line.split("\t")[1:] for line in capsys.readouterr().out.splitlines()]
    operator = getpass.getuser()
    assert rows == [["Created", operator, ""], ["Disabled", operator, "left"], ["Enabled", operator, ""],
                    ["PasswordReset", operator, "forgot"], ["SignedIn", "s1", ""]]
    assert main(["user", "history", "nobody"]) == 2
    assert capsys.readouterr().err == "trainrec: account_not_found: no account nobody\n"


def test_token_issue_from_another_folder_uses_the_servers_secret(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Was a bug: the secret was looked for in ./var of the current folder, so a token minted
    elsewhere was signed with a new secret the server did not know."""
    server_folder, other = tmp_path / "server", tmp_path / "elsewhere"
    server_folder.mkdir()
    other.mkdir()
    monkeypatch.chdir(server_folder)
    server_secret = load_secret()  # what create_app uses
    assert data_dir() == store.parent
    monkeypatch.chdir(other)
    assert main(["token", "issue", "--role", "school_admin", "--sub", "ops", "--org", "S1"]) == 0
    token = capsys.readouterr().out.strip()
    assert read_token(server_secret, token).org_id == "S1"
    assert (store.parent / SECRET_FILE).read_text(encoding="ascii") == server_secret
    assert not (other / "var").exists()
    assert not (server_folder / "var").exists()


def test_the_data_directory_is_the_configured_one_else_a_per_user_folder_for_postgres(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRAINREC_DATA_DIR", str(tmp_path / "data"))
    assert data_dir() == tmp_path / "data"
    monkeypatch.delenv("TRAINREC_DATA_DIR")
    monkeypatch.setenv("TRAINREC_DATABASE_URL", "postgresql://u@db.example:5432/records")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert data_dir() == tmp_path / "xdg" / "trainrec"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data_dir() == tmp_path / "home" / ".local" / "share" / "trainrec"
    monkeypatch.setenv("TRAINREC_DATABASE_URL", "sqlite:///relative/x.db")
    monkeypatch.chdir(tmp_path)
    assert data_dir() == tmp_path / "relative"
    assert os.path.isabs(data_dir())


@pytest.mark.parametrize(("args", "message"), [
    (["--role", "school_admin", "--sub", "x", "--org", "S9"], "trainrec: org_not_found: no org unit S9\n"),
    (["--role", "admin", "--sub", "x", "--hours", "0"],
     "trainrec: invalid_ttl: --hours must be more than 0 and at most 8784\n"),
    (["--role", "admin", "--sub", "x", "--hours", "-1"],
     "trainrec: invalid_ttl: --hours must be more than 0 and at most 8784\n"),
    (["--role", "admin", "--sub", "x", "--hours", "nan"],
     "trainrec: invalid_ttl: --hours must be more than 0 and at most 8784\n"),
])
def test_token_issue_refuses_an_unknown_org_and_non_positive_hours(
    store: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["token", "issue", *args]) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", message)


def test_token_issue_still_prints_a_token_of_the_asked_hours(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token", "issue", "--role", "teacher", "--sub", "t", "--teacher-no", "A001", "--hours", "0.5"]) == 0
    claims = jwt.decode(capsys.readouterr().out.strip(), options={"verify_signature": False})
    assert (claims["role"], claims["teacher_no"], claims["exp"] - claims["iat"]) == ("teacher", "A001", 1800)
