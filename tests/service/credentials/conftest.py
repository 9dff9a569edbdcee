"""The API's fixtures (a service on each backend, its TestClient) for the credential tests."""

from __future__ import annotations

from tests.service.api.conftest import client, service

__all__ = ["client", "service"]
