"""ASGI entry point for process managers (`uvicorn service.api.asgi:app`), configured from the environment."""

from service.api.main import create_app

app = create_app(server=True)
