"""/metrics: Prometheus text for admins only; requests by route template; the process's state."""

from __future__ import annotations

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from domain.actor import Actor
from domain.vocabulary import Role
from service.api.main import create_app
from service.app import TrainRec
from service.storage.availability import StoreMonitor
from tests.service.api.conftest import SECRET, bearer

ADMIN = bearer(Actor("admin", Role.ADMIN))


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_metrics_are_for_admins_only(service: TrainRec) -> None:
    client = TestClient(create_app(service, SECRET), raise_server_exceptions=False)
    assert client.get("/metrics").status_code == 401
    auditor = bearer(Actor("a", Role.AUDITOR, org_id="C1"))
    answer = client.get("/metrics", headers=auditor)
    assert answer.status_code == 403
    assert answer.json()["code"] == "forbidden_scope"


def test_requests_are_counted_by_route_template_and_status(service: TrainRec) -> None:
    service.enable_group_commit()
    with TestClient(create_app(service, SECRET), raise_server_exceptions=False) as client:
        client.app.state.store_monitor = StoreMonitor(lambda: None)  # type: ignore[attr-defined]
        for number in ("A1", "B2", "C3"):
            assert client.get(f"/api/v1/teachers/{number}/transcript", headers=ADMIN).status_code == 404
        assert client.get("/no/such/page").status_code == 404
        for org_id in ("C1", "C2"):  # one after another: a group of one command each
            assert client.put(f"/api/v1/orgs/{org_id}", json={"name": "县", "kind": "county"},
                              headers=ADMIN).status_code == 201
        text = client.get("/metrics", headers=ADMIN).text
    found = samples(text)
    route = "/api/v1/teachers/{teacher_no}/transcript"
    assert found[("trainrec_http_requests_total", (("method", "GET"), ("route", route), ("status", "404")))] == 3
    assert found[("trainrec_http_requests_total", (("method", "GET"), ("route", "unmatched"), ("status", "404")))] == 1
    assert found[("trainrec_http_request_duration_seconds_count", (("method", "GET"), ("route", route)))] == 3
    assert not any("A1" in str(labels) for _, labels in found)  # never a label per teacher
    assert found[("trainrec_committer_queue_depth", ())] == 0
    assert found[("trainrec_committer_group_commands_bucket", (("le", "1"),))] == 2
    assert found[("trainrec_committer_group_commands_bucket", (("le", "+Inf"),))] == 2
    assert found[("trainrec_committer_group_commands_sum", ())] == 2
    assert found[("trainrec_store_reachable", ())] == 1
    assert ("trainrec_store_errors_total", ()) in found
    assert ("trainrec_http_requests_in_flight", ()) in found
    if service.storage.backend == "postgres":
        assert found[("trainrec_pool_requests_waiting", (("pool", "events"),))] == 0
        assert found[("trainrec_pool_connections", (("pool", "read_model"),))] >= 1
