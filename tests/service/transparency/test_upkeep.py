"""The tree is kept outside the commands' transactions: by the read-model follower after each round
(and a checkpoint signed when due), or on demand by a read; its stored nodes give the same root as
rehashing the events."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from service.app import TrainRec
from service.followers.follow import follow
from service.transparency.tree import recompute
from tests.conftest import Backend, Clock, build_county, define


@pytest.fixture(autouse=True)
def _keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAINREC_DATA_DIR", str(tmp_path / "keys"))


def test_writes_leave_the_tree_alone_and_a_read_extends_it(backend: Backend, clock: Clock) -> None:
    app = TrainRec(backend.fresh(), clock=clock)
    try:
        build_county(app)
        head = app.recorder.max_notification_id()
        assert app.transparency.tree.size() == 0, "no command extended the tree"
        checkpoint = app.transparency.current()
        assert checkpoint["size"] == app.transparency.tree.size() == head
        define(app, "K1")
        grown = app.transparency.current()
        size = app.recorder.max_notification_id()
        assert grown["size"] == size > head
        expected = recompute(app.recorder, [head, size]).roots
        assert app.transparency.root(head) == expected[head]
        assert app.transparency.root(size) == expected[size]
        assert [c["size"] for c in app.transparency.checkpoints()] == [size, head]
    finally:
        app.close()


def test_the_follower_extends_the_tree_and_signs_checkpoints(
        durable_backend: Backend, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAINREC_CHECKPOINT_INTERVAL", "0")
    app = TrainRec(durable_backend.fresh(), clock=clock)
    follower = follow(app)
    try:
        build_county(app)
        define(app, "K1")
        head = app.recorder.max_notification_id()
        deadline = time.monotonic() + 20
        while (app.transparency.latest() or {}).get("size") != head and time.monotonic() < deadline:
            time.sleep(0.05)
        latest = app.transparency.latest()
        assert latest is not None
        assert latest["size"] == head
        assert app.transparency.tree.size() == head
        assert app.transparency.root(head) == recompute(app.recorder, [head]).roots[head]
    finally:
        follower.stop()
        app.close()


def test_a_checkpoint_signed_before_a_key_rotation_still_verifies(
        backend: Backend, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import UTC, datetime

    from service.signing.keys import key_ring
    from service.transparency.checks import check_consistency, checkpoint_keys

    app = TrainRec(backend.fresh(), clock=clock)
    try:
        build_county(app)
        old = app.transparency.current()
        key_ring().rotate("checkpoint", datetime.now(tz=UTC))
        define(app, "K1")
        new = app.transparency.current()
        assert new["key_id"] != old["key_id"]
        report = check_consistency(app.recorder, old["note"], new["note"], checkpoint_keys())
        assert report.ok, report.problems
    finally:
        app.close()


def test_extensions_at_once_from_threads_and_two_applications_agree(durable_backend: Backend, clock: Clock) -> None:
    from concurrent.futures import ThreadPoolExecutor

    storage = durable_backend.fresh()
    first = TrainRec(storage, clock=clock)
    second = TrainRec(storage, clock=clock)  # as another process would
    try:
        build_county(first)
        head = first.recorder.max_notification_id()
        trees = [first.transparency.tree, second.transparency.tree] * 3
        with ThreadPoolExecutor(len(trees)) as pool:
            sizes = list(pool.map(lambda tree: tree.extend(), trees))
        assert sizes == [head] * len(trees)
        assert first.transparency.root(head) == recompute(first.recorder, [head]).roots[head]
        a, b = first.transparency.current(), second.transparency.current()
        assert a["note"] == b["note"]  # one checkpoint signed for one size
        assert len(second.transparency.checkpoints()) == 1
    finally:
        second.close()
        first.close()
