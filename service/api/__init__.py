"""The HTTP adapter of API.md v1: primitives in, service calls, primitives out."""
