"""Baoxue's web layer: the Flask app (REST API + pages) and the ``baoxue`` CLI."""
from .app import create_app

__all__ = ["create_app"]
