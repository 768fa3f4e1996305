"""Validating a completion against its JSON Schema form: every violation, per field, in the
caller's words, with the date keywords JSON Schema cannot say (``CompleteTask``)."""
from __future__ import annotations

from datetime import date

from jsonschema import ValidationError
from referencing.exceptions import Unresolvable

from ..errors import InvalidInput
from ..formschema import UnsafePattern, form_validator


def _date_keywords(today: date):
    """Date bounds JSON Schema cannot say, for ``format: date`` strings (ISO, so they compare
    as text): ``x-notAfterToday`` (an activity already happened), ``x-notBeforeToday`` (a
    next check is ahead), ``x-notBefore: "<sibling field>"`` (served on or after issued).
    The error's ``validator`` is the keyword, its ``validator_value`` the bound (ISO date)."""
    def bound(check, value_of):
        def keyword(validator, value, instance, schema):
            limit = value_of(value)
            if value and isinstance(instance, str) and isinstance(limit, str) and check(instance, limit):
                yield ValidationError(f"{instance} is out of bounds ({limit})", validator_value=limit)
        return keyword
    iso = today.isoformat()
    return {"x-notAfterToday": bound(lambda got, limit: got > limit, lambda value: iso),
            "x-notBeforeToday": bound(lambda got, limit: got < limit, lambda value: iso)}


def _sibling_bound(validator, field, instance, schema):
    """``x-notBefore`` on an object: {"served_on": "issued_on"} = served_on >= issued_on."""
    if not isinstance(instance, dict) or not isinstance(field, dict):
        return
    for later, earlier in field.items():
        got, limit = instance.get(later), instance.get(earlier)
        if isinstance(got, str) and isinstance(limit, str) and got < limit:
            yield ValidationError(f"{later} {got} is before {earlier} {limit}", path=[later], validator_value=limit)


def validate_form(schema: dict, data, message=None, today: date | None = None) -> None:
    """Raise InvalidInput with ``{field path: message}`` for every JSON Schema violation.

    ``message(error)`` turns a jsonschema error into the text shown (the caller's language);
    the default is jsonschema's own English, and "required" for a missing field. With
    ``today`` (the engine clock's local date) the date keywords of ``_date_keywords`` and
    ``x-notBefore`` apply. Validation never backtracks or fetches (``engine.formschema``).
    """
    if not isinstance(data, dict):
        raise InvalidInput("form data must be a JSON object", errors={"data": "must be an object"})
    keywords = {**_date_keywords(today), "x-notBefore": _sibling_bound} if today is not None else None
    errors = {}
    try:
        for err in form_validator(schema, keywords).iter_errors(data):
            path = ".".join(str(p) for p in err.absolute_path)
            if err.validator == "required" and isinstance(err.instance, dict):
                missing = [name for name in err.validator_value if name not in err.instance]
                for name in missing:
                    errors.setdefault(".".join(filter(None, [path, name])), message(err) if message else "required")
                continue
            errors.setdefault(path or "data", message(err) if message else err.message)
    except (UnsafePattern, Unresolvable) as exc:
        # Only a form deployed before these deploy checks gets here: refuse, never backtrack or fetch.
        raise InvalidInput(f"the form cannot be checked safely; redeploy it: {exc}",
                           errors={"data": "the form cannot be checked; tell the administrator"}) from None
    if errors:
        raise InvalidInput("form data is invalid", errors=errors)
