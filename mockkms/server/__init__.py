"""Server mode: AWS KMS over HTTP for the AWS CLI, other SDKs and other processes.

* :func:`make_app` / ``application`` (``mockkms.server:application``, one built at import):
  the WSGI application (``app.py``; its admin endpoints in ``admin.py``, its HTTP-level errors
  in ``errors.py``).
* :func:`make_server`: a threaded HTTP server around an application (``httpd.py``: accepting
  connections and the pool of workers; ``connection.py``: one connection and its requests).
* :func:`serve_forever`: what ``mockkms serve`` runs (``cli.py``): state directory, seed, signals.
"""
from __future__ import annotations

from .app import KmsApp, application, make_app
from .cli import serve_forever
from .httpd import make_server

__all__ = ["KmsApp", "application", "make_app", "make_server", "serve_forever"]
