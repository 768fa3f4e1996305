"""REST endpoints under /api/v1 (CONTRACT.md), one blueprint per area."""
from flask import current_app


def engine():
    return current_app.extensions["baoxue.engine"]
