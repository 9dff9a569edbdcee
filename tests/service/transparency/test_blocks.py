"""The tree keeps only level ≥ K nodes, block ranges and id keys; proofs rehash blocks' events.
Here K is 2 (blocks of 4 leaves) and a page 5 events, so a small county spans several blocks and
pages, and every proof meets complete blocks, the partial last block and stored nodes."""

from __future__ import annotations

import base64
from pathlib import Path
from uuid import UUID

import pytest

from domain.ids import event_id
from service.app import TrainRec
from service.transparency import merkle, tree
from service.transparency.tree import LogTree, recompute
from tests.conftest import Backend, Clock, build_county, define


@pytest.fixture(autouse=True)
def _small_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAINREC_DATA_DIR", str(tmp_path / "keys"))
    monkeypatch.setattr(tree, "K", 2)
    monkeypatch.setattr(tree, "BLOCK", 4)
    monkeypatch.setattr(tree, "PAGE", 5)


def _ids(app: TrainRec) -> list[str]:
    return [event_id(UUID(str(n.originator_id)), n.originator_version)
            for n in app.recorder.select_notifications(start=1, limit=10_000)]


def _b64(text: str) -> bytes:
    return base64.b64decode(text)


def test_proofs_over_blocks_and_the_partial_last_block(backend: Backend, clock: Clock) -> None:
    app = TrainRec(backend.fresh(), clock=clock)
    try:
        build_county(app)
        first = app.transparency.tree.extend()
        define(app, "K1")
        middle = app.transparency.tree.extend()  # reads the partial block of the first again
        define(app, "K2")
        size = LogTree(app.recorder, app.read_model.db).extend()  # as another process: reads it again
        assert 4 < first < middle < size == app.recorder.max_notification_id()
        assert app.transparency.tree.size() == size
        sizes = sorted({1, 2, 3, 4, 5, 7, 8, first, middle, size - 1, size})
        roots = recompute(app.recorder, sizes).roots
        log = app.transparency
        for n in sizes:
            assert log.root(n) == roots[n], n
        ids = _ids(app)
        for index, public_id in enumerate(ids):
            assert log.tree.leaf_index(public_id) == index
            for n in (m for m in sizes if m > index):
                proof = log.inclusion(public_id, n)
                assert proof["leaf_index"] == index
                hashes = [_b64(h) for h in proof["hashes"]]
                assert merkle.verify_inclusion(_b64(proof["leaf_hash"]), index, n, hashes, roots[n]), (index, n)
        for old in sizes:
            for new in (m for m in sizes if m >= old):
                hashes = [_b64(h) for h in log.consistency(old, new)["hashes"]]
                assert merkle.verify_consistency(old, new, hashes, roots[old], roots[new]), (old, new)
        db = app.read_model.db
        assert db.query("SELECT MIN(level) FROM tlog_nodes")[0][0] == 2, "nothing below level K is stored"
        assert db.query("SELECT COUNT(*) FROM tlog_blocks")[0][0] == size // 4
        assert db.query("SELECT COUNT(*) FROM tlog_keys")[0][0] == size, "one key per event, each once"
    finally:
        app.close()


def test_unknown_ids_and_a_shared_key(backend: Backend, clock: Clock) -> None:
    app = TrainRec(backend.fresh(), clock=clock)
    try:
        build_county(app)
        app.transparency.tree.extend()
        ids = _ids(app)
        assert app.transparency.tree.leaf_index("not-a-uuid") is None
        assert app.transparency.tree.leaf_index("00000000-0000-5000-8000-000000000000") is None
        # another event filed under the key of event 5: both still found, each by its own id
        key = tree.id_key(ids[5])
        with app.read_model.db.transaction() as tx:
            tx.execute("INSERT INTO tlog_keys (key, position) VALUES (?, ?)", (key, 2))
        assert app.transparency.tree.leaf_index(ids[5]) == 5
        assert app.transparency.tree.leaf_index(ids[1]) == 1
    finally:
        app.close()


def test_a_store_with_the_earlier_layout_is_rebuilt(durable_backend: Backend, clock: Clock) -> None:
    storage = durable_backend.fresh()
    app = TrainRec(storage, clock=clock)
    try:
        build_county(app)
        db = app.read_model.db
        blob = "BYTEA" if db.backend == "postgres" else "BLOB"
        with db.transaction() as tx:  # the earlier release's tables, with a node per level and a row per event
            tx.execute("CREATE TABLE tlog_state (name TEXT PRIMARY KEY, size BIGINT NOT NULL, "
                       "position BIGINT NOT NULL)")
            tx.execute(f"CREATE TABLE tlog_nodes (level INTEGER NOT NULL, idx BIGINT NOT NULL, hash {blob} NOT NULL, "
                       "PRIMARY KEY (level, idx))")
            tx.execute("CREATE TABLE tlog_leaves (event_id TEXT PRIMARY KEY, leaf_index BIGINT NOT NULL)")
            tx.execute("INSERT INTO tlog_state (name, size, position) VALUES ('tree', 3, 3)")
            tx.execute("INSERT INTO tlog_nodes (level, idx, hash) VALUES (0, 0, ?)", (b"\x00" * 32,))
    finally:
        app.close()
    again = TrainRec(storage, clock=clock)
    try:
        head = again.recorder.max_notification_id()
        assert again.transparency.current()["size"] == head
        assert again.transparency.root(head) == recompute(again.recorder, [head]).roots[head]
        db = again.read_model.db
        exists = ("SELECT to_regclass('tlog_leaves') IS NOT NULL" if db.backend == "postgres" else
                  "SELECT COUNT(*) > 0 FROM sqlite_master WHERE name = 'tlog_leaves'")
        assert not db.query(exists)[0][0]
        assert again.transparency.tree.leaf_index(_ids(again)[0]) == 0
    finally:
        again.close()
