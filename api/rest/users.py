"""Account administration for system administrators (use cases in ``ledger.users``).

Every endpoint is admin only: 401 without a valid bearer token, 403 for anyone else, checked
before the body is read so a non-admin learns nothing from validation messages. Errors:
404 unknown user, 409 username taken / pair already held / self-lock-out, 422 with
``errors`` {field: message}. Passwords are accepted, never returned.
"""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ledger import users
from ledger.agreement_check import withdraw_leavers

from ..auth import api_user, require_admin
from . import engine

blp = Blueprint("users", __name__, url_prefix="/api/v1/users", description="Accounts (administrators only)")


@blp.before_request
def _admins_only():
    require_admin(api_user())


class Pair(Schema):
    role = fields.String(required=True, validate=validate.Length(min=1, max=64))
    org_unit = fields.String(required=True, validate=validate.Length(min=1, max=64))


class RoleView(Pair):
    role_name = fields.String()
    org_unit_name = fields.String()


class UserView(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    phone = fields.String(allow_none=True)
    active = fields.Boolean()
    created_at = fields.DateTime()
    disabled_at = fields.DateTime(allow_none=True)
    roles = fields.List(fields.Nested(RoleView))
    claimed_open_tasks = fields.Integer(metadata={"description": "open tasks this user has claimed"})


class RevokedView(UserView):
    released_tasks = fields.Integer(metadata={
        "description": "claims on open tasks of the revoked (role, org unit) given back to its holders"})


class UserList(Schema):
    items = fields.List(fields.Nested(UserView))
    total = fields.Integer()


class ListArgs(Schema):
    role = fields.String(load_default=None)
    org_unit = fields.String(load_default=None)
    q = fields.String(load_default=None, validate=validate.Length(max=64))


class CreateArgs(Schema):
    username = fields.String(required=True)
    display_name = fields.String(required=True)
    phone = fields.String(load_default=None, allow_none=True)
    password = fields.String(required=True, load_only=True)
    roles = fields.List(fields.Nested(Pair), load_default=list)


class UpdateArgs(Schema):
    display_name = fields.String()
    phone = fields.String(allow_none=True)
    active = fields.Boolean()
    password = fields.String(load_only=True)


def _run(use_case, *args, **kwargs):
    """Run a ``ledger.users`` use case in one transaction as the calling admin."""
    eng = engine()
    with eng.db.transaction() as session:
        return use_case(session, api_user().username, *args, now=eng.clock(), **kwargs)


@blp.get("")
@blp.arguments(ListArgs, location="query")
@blp.response(200, UserList)
def list_users(args):
    """``{items: [user], total}`` by username; ``role``/``org_unit`` match one held pair, ``q`` a
    part of the username or display name."""
    with engine().db.transaction() as session:
        items = users.list_users(session, **args)
    return {"items": items, "total": len(items)}


@blp.post("")
@blp.arguments(CreateArgs)
@blp.response(201, UserView)
def create_user(args):
    """Create an active account holding ``roles``: the user view (with ``id``)."""
    return _run(users.create_account, **args)


@blp.get("/<int:user_id>")
@blp.response(200, UserView)
def get_user(user_id):
    """One user, with how many open tasks they have claimed."""
    with engine().db.transaction() as session:
        return users.get_user(session, user_id)


@blp.patch("/<int:user_id>")
@blp.arguments(UpdateArgs)
@blp.response(200, UserView)
def update_user(args, user_id):
    """Change ``display_name, phone, active, password``. ``active: false`` disables the account
    (history and tasks stay) and revokes its web sessions and API tokens; so does a new password.
    Disabling withdraws the person's open agreement signings at once (``withdraw_leavers``)."""
    result = _run(lambda session, actor, now: users.update_account(session, actor, user_id, args, now))
    if args.get("active") is False:
        withdraw_leavers(engine())
    return result


@blp.post("/<int:user_id>/assignments")
@blp.arguments(Pair)
@blp.response(201, UserView)
def grant(args, user_id):
    """Give the user ``{role, org_unit}``; 409 if already held."""
    return _run(users.grant, user_id, args["role"], args["org_unit"])


@blp.delete("/<int:user_id>/assignments")
@blp.arguments(Pair)
@blp.response(200, RevokedView)
def revoke(args, user_id):
    """Take ``{role, org_unit}`` away; 404 if not held. The user's claims on open tasks of
    that pair go back to its holders (``released_tasks``) and the access it gave ends now; an
    open agreement signing of theirs for that post is withdrawn at once (``withdraw_leavers``)."""
    result = _run(users.revoke, user_id, args["role"], args["org_unit"])
    withdraw_leavers(engine())
    return result
