"""Security headers on every answer (service/api/headers.py): JSON, problems, a 500, the docs pages."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from fastapi.testclient import TestClient

from service.api.headers import API_CSP, docs_csp
from service.api.main import create_app
from service.app import TrainRec
from tests.conftest import ADMIN
from tests.service.api.conftest import SECRET, bearer

EVERY_ANSWER = {"x-content-type-options": "nosniff", "x-frame-options": "DENY", "referrer-policy": "no-referrer"}


def _assert_secured(response: object, api: bool) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    for name, value in EVERY_ANSWER.items():
        assert headers.get(name) == value, f"{name}: {headers.get(name)!r}"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "server" not in headers  # no banner from the app either
    if api:
        assert headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("path", "authorised", "status"),
    [
        ("/api/v1/teachers/A001/transcript", True, 404),  # a problem (no teacher in this store)
        ("/api/v1/orgs/C1/compliance", True, 422),  # a validation problem (no year)
        ("/api/v1/teachers/A001/transcript", False, 401),
        ("/api/v1/audit/events", True, 200),
        ("/api/v1/nothing-here", True, 404),
    ],
)
def test_every_api_answer_is_secured_and_not_stored(client: TestClient, path: str, authorised: bool,
                                                    status: int) -> None:
    response = client.get(path, headers=bearer(ADMIN) if authorised else {})
    assert response.status_code == status
    _assert_secured(response, api=True)
    assert response.headers["content-security-policy"] == API_CSP


def test_a_body_refused_as_too_large_is_secured(client: TestClient) -> None:
    response = client.post("/api/v1/teachers", content=b"x" * (2 * 1024 * 1024 + 1),
                           headers={**bearer(ADMIN), "Content-Type": "application/json"})
    assert response.status_code == 413
    _assert_secured(response, api=True)


def test_a_500_from_the_outermost_error_handler_is_secured(service: TrainRec) -> None:
    app = create_app(service, SECRET, catch_up=False)

    @app.get("/api/v1/boom")
    def boom() -> None:
        raise RuntimeError("boom")

    response = TestClient(app, raise_server_exceptions=False).get("/api/v1/boom")
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"
    _assert_secured(response, api=True)


@pytest.mark.parametrize("path", ["/healthz", "/openapi.json"])
def test_answers_outside_the_api_are_secured_and_may_be_cached(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    _assert_secured(response, api=False)
    assert response.headers["content-security-policy"] == API_CSP
    assert "cache-control" not in response.headers


def _sha256(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


@pytest.mark.parametrize("path", ["/docs", "/docs/oauth2-redirect"])
def test_the_docs_pages_get_a_policy_that_lets_them_load(client: TestClient, path: str) -> None:
    """Each page's scripts, styles and icon come from this server and are allowed, and its inline
    scripts by hash (so that an upgrade of FastAPI changing its pages fails here, not in a
    browser); no outside origin is named anywhere."""
    response = client.get(path)
    assert response.status_code == 200
    _assert_secured(response, api=False)
    policy = dict(d.strip().split(" ", 1) for d in response.headers["content-security-policy"].split(";"))
    assert policy["default-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    html = response.text
    inline = re.findall(r"<script>(.*?)</script>", html, re.S)
    for script in inline:
        assert _sha256(script) in policy["script-src"].split()
    assert "'unsafe-inline'" not in policy["script-src"]
    for source in re.findall(r'<script src="([^"]+)"', html):
        assert _allows(policy["script-src"], source), source
    for source in re.findall(r'<link[^>]*rel="stylesheet"[^>]*>', html):
        href = re.search(r'href="([^"]+)"', source)
        assert href is not None
        assert _allows(policy["style-src"], href[1]), href[1]
    for icon in re.findall(r'<link rel="shortcut icon" href="([^"]+)"', html):
        assert _allows(policy["img-src"], icon), icon
    assert "https://" not in html.replace("https://swagger.io", "")  # nothing fetched from outside
    assert "http" not in response.headers["content-security-policy"]
    if path == "/docs":
        assert len(inline) == 1  # SwaggerUIBundle({...})
        assert "SwaggerUIBundle" in inline[0]
        assert policy["connect-src"] == "'self'"  # fetches /openapi.json


def _allows(sources: str, url: str) -> bool:
    """A path on this server, which `'self'` allows."""
    return url.startswith("/") and not url.startswith("//") and "'self'" in sources.split()


def test_the_vendored_swagger_ui_is_served_from_this_server(client: TestClient) -> None:
    html = client.get("/docs").text
    for path in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        asset = client.get(path)
        assert asset.status_code == 200, path
        assert len(asset.content) > 500, path  # the file itself, not an error page
    assert "/static/swagger-ui/swagger-ui-bundle.js" in html
    assert client.get("/redoc").status_code == 404  # ReDoc would need a CDN: not served


def test_docs_csp_hashes_each_inline_script_and_no_script_with_a_source() -> None:
    html = (b'<script src="https://cdn.jsdelivr.net/x.js"></script><script>run()</script>'
            b'<SCRIPT type="module">go()</SCRIPT>')
    assert docs_csp(html).split("; ")[1] == (  # base64 of sha256("run()") and of sha256("go()")
        "script-src 'self' 'sha256-AvyuiL0SD1mVY3NNxR+V2uo+lhk6RMFrytWmRt6CrJQ=' "
        "'sha256-5KYv+PUboo5h+0+YAtGRPbwv5d/QxzHslP4YGnUaxRw='")
    assert docs_csp(b"<p>no script</p>").split("; ")[1] == "script-src 'self'"


def test_the_openapi_description_declares_the_bearer_scheme_so_docs_can_authorize(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert schema["components"]["securitySchemes"]["bearer"]["type"] == "http"
    assert schema["security"] == [{"bearer": []}]
