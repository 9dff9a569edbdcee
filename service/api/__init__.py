"""The HTTP adapter of API v1 (docs/api.md): primitives in, service calls, primitives out."""
