"""`/docs`: the OpenAPI description in Swagger UI, served from the vendored copy in
`static/swagger-ui/` (no CDN: county networks block them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent / "static"
ASSETS = "/static/swagger-ui"
DOCS = "/docs"
OAUTH2_REDIRECT = "/docs/oauth2-redirect"
PAGES = (DOCS, OAUTH2_REDIRECT)


BEARER = {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                     "description": "a token of `trainrec token issue`, or the `token` of POST /api/v1/session"}}


def install(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    build = app.openapi

    def openapi() -> dict[str, Any]:
        """The description, with the bearer scheme declared (every route takes the token from the
        `Authorization` header itself): /docs then has an Authorize button that sends it."""
        if app.openapi_schema is None:
            schema = build()
            schema.setdefault("components", {}).setdefault("securitySchemes", {}).update(BEARER)
            schema["security"] = [{"bearer": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get(DOCS, include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} API v1",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
            oauth2_redirect_url=OAUTH2_REDIRECT,
        )

    @app.get(OAUTH2_REDIRECT, include_in_schema=False)
    async def oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
