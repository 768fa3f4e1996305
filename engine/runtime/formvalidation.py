"""Validating a completion against its JSON Schema form: every violation, per field, in the
caller's words, with the date keywords JSON Schema cannot say (``CompleteTask``)."""
from __future__ import annotations

import json
from datetime import date, timedelta

from jsonschema import ValidationError
from referencing.exceptions import Unresolvable

from ..errors import InvalidInput
from ..formschema import CHOICES_KEYWORD, UnsafePattern, declared_fields, form_validator, search


def _date_keywords(today: date):
    """Date bounds JSON Schema cannot say, for ``format: date`` strings (ISO, so they compare
    as text): ``x-notAfterToday`` (an activity already happened), ``x-notBeforeToday`` (a
    next check is ahead), ``x-notAfterDays: N`` (a date ahead, at most N calendar days after
    today: a promised return in 2099 is a typing slip, not a plan); ``x-notBefore`` on the
    object orders dates (``_order_bound``).
    The error's ``validator`` is the keyword, its ``validator_value`` the bound (ISO date)."""
    def bound(check, value_of):
        def keyword(validator, value, instance, schema):
            limit = value_of(value)
            if value and isinstance(instance, str) and isinstance(limit, str) and check(instance, limit):
                yield ValidationError(f"{instance} is out of bounds ({limit})", validator_value=limit)
        return keyword
    iso = today.isoformat()

    def horizon(days):
        ok = isinstance(days, int) and not isinstance(days, bool) and days >= 0
        return (today + timedelta(days=days)).isoformat() if ok else None
    return {"x-notAfterToday": bound(lambda got, limit: got > limit, lambda value: iso),
            "x-notBeforeToday": bound(lambda got, limit: got < limit, lambda value: iso),
            "x-notAfterDays": bound(lambda got, limit: got > limit, horizon)}


def _order_bound(variables: dict, *, after: bool = False, strict: bool = False):
    """``x-notBefore`` on an object schema: ``{later: earlier}`` or ``{later: [earlier, ...]}``
    means the field ``later`` is on or after each bound; ``x-after`` (``strict``) the same,
    strictly after (a visit's end after its start: ``{"visit_end": "visit_start"}``);
    ``x-notAfter`` (``after``) the other way: ``{earlier: later}``, the field on or before
    each bound. Values are ISO dates (``YYYY-MM-DD``, compared by their first 10 characters)
    or times of day (``HH:MM``); a bound is a sibling field's name, or ``$name`` for a
    variable of the case (``{"call_on": "$first_absence"}``, read from ``variables``). A
    bound without a value of the same kind (not filled in, not set in this case, a date
    against a time) checks nothing. The error's ``validator_value`` is the bound's value and
    its ``bound`` attribute the bound as written (``issued_on``, ``$first_absence``), for the
    caller's message."""
    def keyword(validator, rules, instance, schema):
        if not isinstance(instance, dict) or not isinstance(rules, dict):
            return
        for later, bounds in rules.items():
            got = _ordered(instance.get(later))
            if got is None:
                continue
            for bound in [bounds] if isinstance(bounds, str) else bounds if isinstance(bounds, list) else []:
                limit = _ordered(variables.get(bound[1:]) if isinstance(bound, str) and bound.startswith("$")
                                 else instance.get(bound))
                if limit is None or len(limit) != len(got):
                    continue
                wrong = got > limit if after else (got < limit or (strict and got == limit))
                if wrong:
                    word = "after" if after else "not after" if strict else "before"
                    error = ValidationError(f"{later} {got} is {word} {bound} {limit}", path=[later],
                                            validator_value=limit)
                    error.bound = bound
                    yield error
                    break   # one reason per field
    return keyword


def _ordered(value) -> str | None:
    """The comparable text of an ISO date (its first 10 characters) or a time of day (``HH:MM``);
    None for anything else."""
    if _is_date(value):
        return value[:10]
    if isinstance(value, str) and len(value) == 5 and value[2] == ":" and (value[:2] + value[3:]).isdigit():
        return value
    return None


def _blank(value) -> bool:
    return isinstance(value, str) and not value.strip()


def _required_text(validator, names, instance, schema):
    """``required`` as a person means it: a name present only as blank text (spaces, line
    breaks) is missing, as the pages treat it (they strip what is typed); the REST API must
    not accept what the page refuses."""
    if not isinstance(instance, dict) or not isinstance(names, list):
        return
    missing = [name for name in names if name not in instance or _blank(instance[name])]
    if missing:
        yield ValidationError(f"{missing} are required", validator_value=names, instance=instance)


def _min_text(validator, length, instance, schema):
    """``minLength`` on the text a person typed: surrounding spaces do not count (a reason
    of three spaces is no reason)."""
    if isinstance(instance, str) and isinstance(length, int) and len(instance.strip()) < length:
        yield ValidationError(f"{instance!r} is too short", validator_value=length)


def _floor_bound(variables: dict):
    """``x-notBelow`` on an object schema: ``{field: bound}`` means the number ``field`` is at
    least the bound: a number, a sibling field's name, or ``$name`` for a variable of the case
    (``{"plan_visits_per_month": "$norm_visits_per_month"}``: a minimum set per installation
    and given to the case, which a static ``minimum`` cannot say). A bound that is not a
    number (not filled in, not set in this case) checks nothing. The error's
    ``validator_value`` is the bound's value, its ``bound`` attribute the bound as written."""
    def keyword(validator, rules, instance, schema):
        if not isinstance(instance, dict) or not isinstance(rules, dict):
            return
        for name, bound in rules.items():
            got = instance.get(name)
            limit = bound if _is_number(bound) else variables.get(bound[1:]) \
                if isinstance(bound, str) and bound.startswith("$") else instance.get(bound)
            if _is_number(got) and _is_number(limit) and got < limit:
                error = ValidationError(f"{name} {got} is below {bound} {limit}", path=[name], validator_value=limit)
                error.bound = bound
                yield error
    return keyword


def _choice_bound(choices):
    """``x-choicesFrom: rule`` on a string schema: the value is one of those ``choices(rule)``
    offers (``[(value, label)]``, the caller's ``form_choices`` hook for this task: people
    holding a role near the task, say), asked once per rule. On ``items`` it checks each
    item. The error's ``validator_value`` is the rule."""
    offered: dict[str, set] = {}

    def keyword(validator, rule, instance, schema):
        if not isinstance(instance, str):
            return   # "type" says what is wrong
        key = json.dumps(rule, sort_keys=True, default=str)
        if key not in offered:
            offered[key] = {str(value) for value, _label in (choices(rule) if choices else [])}
        if instance not in offered[key]:
            yield ValidationError(f"{instance!r} is not one of the choices this task offers", validator_value=rule)
    return keyword


def _case_choice_bound(variables: dict):
    """``x-choicesByCase: {"variable": name, "choices": {value: [allowed, ...]}}`` on a string
    schema: while the case variable ``name`` holds ``value``, only those choices are accepted
    (a proof of death for a child recorded as moved away is refused). A value of the variable
    the rule does not list, or no such variable, checks nothing. The error's
    ``validator_value`` is the list allowed, its ``case_value`` the variable's value."""
    def keyword(validator, rule, instance, schema):
        if not isinstance(instance, str) or not isinstance(rule, dict):
            return
        value = variables.get(rule.get("variable")) if isinstance(rule.get("variable"), str) else None
        allowed = (rule.get("choices") or {}).get(value) if isinstance(value, str) else None
        if isinstance(allowed, list) and instance not in allowed:
            error = ValidationError(f"{instance!r} does not fit {rule.get('variable')} {value!r}",
                                    validator_value=allowed)
            error.case_value = value
            yield error
    return keyword


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_date(value) -> bool:
    return isinstance(value, str) and len(value) >= 10 and value[4] == "-" and value[7] == "-"


def _extra_fields(err) -> list[str]:
    """The fields an ``additionalProperties: false`` / ``unevaluatedProperties: false`` error
    is about (jsonschema reports it on the object, which would name the whole form): those of
    the object its schema neither names in ``properties`` (for ``unevaluatedProperties`` also
    in its combinators, ``formschema.declared_fields``) nor matches by ``patternProperties``."""
    if err.validator not in ("additionalProperties", "unevaluatedProperties") or not isinstance(err.instance, dict):
        return []
    schema = err.schema if isinstance(err.schema, dict) else {}
    named = set(schema.get("properties") or {}) if err.validator == "additionalProperties" \
        else declared_fields(schema)
    patterns = [p for p in (schema.get("patternProperties") or {}) if isinstance(p, str)]
    return [name for name in err.instance if name not in named
            and not any(_matches(pattern, name) for pattern in patterns)]


def _matches(pattern: str, name: str) -> bool:
    # RE2, as jsonschema's own patternProperties check: a hostile pattern must not backtrack here.
    try:
        return search(pattern, name) is not None
    except UnsafePattern:
        return False


def validate_form(schema: dict, data, message=None, today: date | None = None,
                  variables: dict | None = None, choices=None) -> None:
    """Raise InvalidInput with ``{field path: message}`` for every JSON Schema violation.

    ``message(error)`` turns a jsonschema error into the text shown (the caller's language);
    the default is jsonschema's own English, and "required" for a missing field. With
    ``today`` (the engine clock's local date) the date keywords of ``_date_keywords``,
    ``x-notBefore``, ``x-after`` and ``x-notAfter`` (``_order_bound``: dates and times in order), ``x-notBelow`` (``_floor_bound``) and
    ``x-choicesByCase`` (``_case_choice_bound``) apply; ``$name`` bounds and case rules read
    ``variables``, the task's case variables (``runtime.casevariables``) apply. With ``choices(rule) -> [(value,
    label)]`` (the task's ``form_choices``) ``x-choicesFrom`` applies (``_choice_bound``).
    Validation never backtracks or fetches (``engine.formschema``).
    """
    if not isinstance(data, dict):
        raise InvalidInput("form data must be a JSON object", errors={"data": "must be an object"})
    keywords = {**_date_keywords(today), "x-notBefore": _order_bound(variables or {}),
                "x-notAfter": _order_bound(variables or {}, after=True),
                "x-after": _order_bound(variables or {}, strict=True),
                "x-notBelow": _floor_bound(variables or {}),
                "x-choicesByCase": _case_choice_bound(variables or {})} if today is not None else {}
    keywords.update({"required": _required_text, "minLength": _min_text})
    if choices is not None:
        keywords[CHOICES_KEYWORD] = _choice_bound(choices)
    errors = {}
    try:
        for err in form_validator(schema, keywords).iter_errors(data):
            path = ".".join(str(p) for p in err.absolute_path)
            if err.validator == "required" and isinstance(err.instance, dict):
                missing = [name for name in err.validator_value
                           if name not in err.instance or _blank(err.instance[name])]
                for name in missing:
                    errors.setdefault(".".join(filter(None, [path, name])), message(err) if message else "required")
                continue
            extra = _extra_fields(err)
            if extra:   # one error per field that is not the form's, under its own name
                for name in extra:
                    errors.setdefault(".".join(filter(None, [path, name])), message(err) if message else err.message)
                continue
            errors.setdefault(path or "data", message(err) if message else err.message)
    except (UnsafePattern, Unresolvable) as exc:
        # Only a form deployed before these deploy checks gets here: refuse, never backtrack or fetch.
        raise InvalidInput(f"the form cannot be checked safely; redeploy it: {exc}",
                           errors={"data": "the form cannot be checked; tell the administrator"}) from None
    if errors:
        raise InvalidInput("form data is invalid", errors=errors)
