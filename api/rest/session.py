"""Authentication for API clients, and who the caller is."""
from __future__ import annotations

from flask import request
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ledger.accounts import issue_token, revoke_token
from ledger.directory import unit_names

from ..auth import Unauthorized, api_user
from ..ratelimit import sign_in
from . import engine

blp = Blueprint("session", __name__, url_prefix="/api/v1", description="Authentication and the caller")


class Credentials(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=120))
    password = fields.String(required=True, validate=validate.Length(min=1, max=200), load_only=True)


class TokenSchema(Schema):
    token = fields.String()
    expires_at = fields.DateTime()


@blp.post("/auth/token")
@blp.arguments(Credentials)
@blp.response(201, TokenSchema)
def create_token(credentials):
    """Exchange username and password for a bearer token (12 h). 401 on bad credentials;
    429 with ``Retry-After`` (seconds) while this source must wait after failed tries
    (``ledger.login_throttle``; the same counts as the login page)."""
    eng = engine()
    signed_in = sign_in(credentials["username"], credentials["password"],
                        lambda session, user: issue_token(session, user, eng.clock()), device_cookie=False)
    if signed_in is None:
        raise Unauthorized("用户名或密码错误 (wrong username or password)")
    token, expires = signed_in.credential
    return {"token": token, "expires_at": expires}


@blp.delete("/auth/token")
@blp.response(204)
def delete_token():
    """Revoke the bearer token of this request."""
    api_user()
    eng = engine()
    with eng.db.transaction() as session:
        revoke_token(session, request.headers["Authorization"][7:].strip(), eng.clock())


@blp.get("/me")
def me():
    """``{username, display_name, roles: [{role, org_unit, org_unit_name}]}``."""
    principal = api_user()
    with engine().db.transaction() as session:
        names = unit_names(session, {a.org_unit for a in principal.assignments})
    return {"username": principal.username, "display_name": principal.display_name,
            "roles": [{"role": a.role, "org_unit": a.org_unit, "org_unit_name": names.get(a.org_unit)}
                      for a in principal.assignments]}
