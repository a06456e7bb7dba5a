"""Serving the app for real: waitress, a production WSGI server (``mapapp serve``)."""

from __future__ import annotations

from flask import Flask


def serve(app: Flask, host: str = "127.0.0.1", port: int = 5000) -> None:
    """Serve ``app`` with waitress (a production WSGI server) until interrupted."""
    from waitress import serve as waitress_serve

    shown = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
    shown = f"[{shown}]" if ":" in shown else shown
    print(f"mapapp is serving on http://{shown}:{port}/ (Ctrl+C to stop)", flush=True)
    waitress_serve(
        app,
        host=host,
        port=int(port),
        ident="mapapp",
        max_request_body_size=app.config["MAX_CONTENT_LENGTH"],
        max_request_header_size=64 * 1024,
    )
