"""The generated secret file: processes starting together all read one complete secret, mode 0600."""

from __future__ import annotations

import multiprocessing
import os
import stat
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import pytest

from service.auth import tokens
from service.auth.tokens import SECRET_FILE, SecretFileError, load_secret

PROCESSES = 8
TRIALS = 30


def _start_together(folders: list[str], barrier: Barrier, answers: Any) -> None:
    """One process: for each trial, wait for the others, then read (or make) the secret of its folder."""
    os.environ.pop("TRAINREC_SECRET", None)
    for trial, folder in enumerate(folders):
        os.environ["TRAINREC_DATA_DIR"] = folder
        barrier.wait()
        try:
            answers.put((trial, load_secret()))
        except Exception as error:  # noqa: BLE001 - reported to the test, which fails on it
            answers.put((trial, f"error: {error!r}"))


def test_processes_starting_together_read_the_same_complete_secret(tmp_path: Path) -> None:
    """Was a bug: the file was created, then written; a process reading in between got an empty
    secret (168 of 300 trials with 8 processes)."""
    folders = [str(tmp_path / f"trial-{trial}") for trial in range(TRIALS)]
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(PROCESSES)
    answers = context.Queue()
    workers = [context.Process(target=_start_together, args=(folders, barrier, answers)) for _ in range(PROCESSES)]
    for worker in workers:
        worker.start()
    got: dict[int, list[str]] = {trial: [] for trial in range(TRIALS)}
    for _ in range(PROCESSES * TRIALS):
        trial, secret = answers.get(timeout=60)
        got[trial].append(secret)
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    for trial, secrets in got.items():
        assert len(secrets) == PROCESSES
        assert len(set(secrets)) == 1, f"trial {trial}: {PROCESSES} processes read {len(set(secrets))} secrets"
        assert len(secrets[0]) == 64, f"trial {trial}: {secrets[0]!r}"  # token_urlsafe(48): 48 bytes, 64 characters
        secret_file = Path(folders[trial]) / SECRET_FILE
        assert secret_file.read_text(encoding="ascii") == secrets[0]
        assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
        assert sorted(p.name for p in Path(folders[trial]).iterdir()) == [SECRET_FILE]  # no temporary file left


def test_the_secret_is_made_once_and_read_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRAINREC_SECRET", raising=False)
    monkeypatch.setenv("TRAINREC_DATA_DIR", str(tmp_path / "var"))
    first = load_secret()
    assert len(first) == 64
    assert load_secret() == first
    assert (tmp_path / "var" / SECRET_FILE).read_text(encoding="ascii") == first


def test_a_configured_secret_wins_and_no_file_is_made(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAINREC_SECRET", "configured-secret")
    monkeypatch.setenv("TRAINREC_DATA_DIR", str(tmp_path / "var"))
    assert load_secret() == "configured-secret"
    assert not (tmp_path / "var").exists()


def test_an_empty_secret_file_is_refused_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty file (left by a crash of an older version between creating and writing it) is never
    taken for a secret: every token signed with it could be forged."""
    monkeypatch.delenv("TRAINREC_SECRET", raising=False)
    monkeypatch.setenv("TRAINREC_DATA_DIR", str(tmp_path))
    (tmp_path / SECRET_FILE).write_text("\n", encoding="ascii")
    with pytest.raises(SecretFileError, match="is empty"):
        load_secret()


def test_a_lost_race_reads_the_winners_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process links its file in between this one's first read and its own link."""
    monkeypatch.delenv("TRAINREC_SECRET", raising=False)
    monkeypatch.setenv("TRAINREC_DATA_DIR", str(tmp_path))
    link = os.link

    def winner_first(source: str, target: str) -> None:
        Path(target).write_text("the-winners-secret", encoding="ascii")
        link(source, target)  # FileExistsError, as for the loser of a race

    monkeypatch.setattr(tokens.os, "link", winner_first)
    assert load_secret() == "the-winners-secret"
    assert sorted(p.name for p in tmp_path.iterdir()) == [SECRET_FILE]
