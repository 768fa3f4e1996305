"""An app per test on a fresh database (SQLite and PostgreSQL)."""
from __future__ import annotations

import pytest

from api.app import create_app
from api.settings import Settings


@pytest.fixture
def app(db_url, tmp_path):
    settings = Settings.from_env(database_url=db_url, var_dir=tmp_path, secret_key="test-secret")
    app = create_app(settings)
    app.extensions["baoxue.engine"].migrate()
    yield app
    app.extensions["baoxue.engine"].close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def town(app):
    from .town import build_town
    build_town(app.extensions["baoxue.engine"])
    return app


@pytest.fixture
def as_user(client, town):
    """``as_user("ht31")`` → headers with a bearer token for that test user."""
    from .town import token
    cache = {}

    def headers(username):
        if username not in cache:
            cache[username] = token(client, username)
        return cache[username]
    return headers
