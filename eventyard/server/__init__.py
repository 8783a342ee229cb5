"""The ASGI application: one port for every service, plus Eventyard's own /_eventyard endpoints."""
