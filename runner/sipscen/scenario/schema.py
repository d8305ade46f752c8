"""Validate a loaded scenario tree against ``schemas/scenario.schema.json``.

Every jsonschema error becomes a :class:`~sipscen.core.errors.ScenarioError` with a
``FILE:LINE:COL`` location (taken from the marked tree, see ``loader.py``), a
path like ``agents.alice.steps[2].dtmf.method`` and a message written for a
person: an unknown key points at that key and suggests the closest valid one,
an enum typo lists the allowed values, and a subschema's ``x-error`` (an
annotation jsonschema ignores) words the message for its values.

The schema is assembled from the language registry's fragments
(``sipscen.language.schema_gen``); the shipped copy
(``schemas/scenario.schema.json``, packaged as ``runner/sipscen/data/`` by a symlink) is
generated from it, and a test fails when the two drift.
"""
from __future__ import annotations

import copy
import datetime
import difflib
import functools
import re
from typing import Any, Iterable, Iterator

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from sipscen.core.errors import ScenarioError
from sipscen.core.regex import regex_problem, shown
from sipscen.scenario.marks import MarkedMap, MarkedSeq, format_path, locate
from sipscen.language.schema_gen import generate

_TYPE_WORDS = {
    "object": "a mapping", "array": "a list", "string": "a string", "integer": "an integer",
    "number": "a number", "boolean": "true or false", "null": "nothing (null)",
}


@functools.cache
def load_schema() -> dict[str, Any]:
    """The scenario JSON Schema, assembled from the language registry."""
    return generate()


@functools.cache
def _validator(library: bool) -> Draft202012Validator:
    schema = load_schema()
    if library:   # an included file: the same keys, none of them required
        schema = copy.deepcopy(schema)
        schema.pop("required", None)
    return Draft202012Validator(schema, format_checker=_FORMATS)


class _BadRegex(ValueError):
    """The ``regex`` format's finding (its text is the reason)."""


def _regex_format(instance: Any) -> bool:
    if isinstance(instance, str):
        problem = regex_problem(instance)
        if problem is not None:
            raise _BadRegex(problem)
    return True


# the draft's format checks, with the scenario's regexes judged by core.regex (jsonschema's
# own check lets OverflowError and RecursionError through: an internal error, exit 3)
_FORMATS = copy.copy(Draft202012Validator.FORMAT_CHECKER)
_FORMATS.checkers = {**_FORMATS.checkers, "regex": (_regex_format, _BadRegex)}


# jsonschema spends ~70 µs on each entry of ``variables:``; an include with
# hundreds of thousands of them took minutes. Entries that plainly meet
# $defs/variable_name and $defs/variable_value are checked here in Python and
# left out of what jsonschema sees (the others stay, so their errors read the same).
_PLAIN_VALUE = (str, int, float, bool)


@functools.cache
def _variable_name() -> re.Pattern[str]:
    return re.compile(load_schema()["$defs"]["variable_name"]["pattern"])


def _for_jsonschema(tree: Any) -> Any:
    """``tree`` without its plainly valid ``variables`` entries (a shallow copy
    that keeps the marks; ``tree`` itself when there is nothing to leave out)."""
    variables = tree.get("variables") if isinstance(tree, MarkedMap) else None
    if not isinstance(variables, MarkedMap) or len(variables) < 64:
        return tree
    name = _variable_name()
    kept = MarkedMap((k, v) for k, v in variables.items()
                     if not (isinstance(v, _PLAIN_VALUE) and name.search(k)))
    kept.share_marks(variables)
    smaller = MarkedMap(tree)
    smaller.share_marks(tree)
    smaller["variables"] = kept
    return smaller


def schema_errors(tree: Any, library: bool = False) -> list[ScenarioError]:
    """All schema violations in ``tree``, most specific (deepest path) first."""
    raw = list(_validator(library).iter_errors(_for_jsonschema(tree)))
    found: list[tuple[tuple, ScenarioError]] = []
    seen: set[str] = set()
    for error in raw:
        for depth, err in translate(error, tree):
            text = str(err)
            if text not in seen:
                seen.add(text)
                loc = err.location
                found.append(((-depth, loc.line if loc else 0, loc.col if loc else 0), err))
    found.sort(key=lambda pair: pair[0])
    return [err for _, err in found]


def coerce_substituted(tree: Any, whole_paths: set[tuple]) -> bool:
    """Turn substituted numeric/boolean strings into the type the schema wants.

    ``port: ${SIP_PORT}`` gives the string "5070"; where the schema accepts an
    integer (or number, or boolean) at that path and the string reads as one,
    the value becomes that type. Only values that were a whole ``${NAME}``
    reference are touched. Returns True when something changed.
    """
    changed = False
    for error in _walk(_validator(False).iter_errors(_for_jsonschema(tree))):
        path = tuple(error.absolute_path)
        value = error.instance
        if path not in whole_paths or not isinstance(value, str) or not path:
            continue
        wanted = error.schema.get("type") if isinstance(error.schema, dict) else None
        wanted = [wanted] if isinstance(wanted, str) else list(wanted or [])
        new = _convert(value, wanted)
        if new is not None:
            parent = _get(tree, path[:-1])
            parent[path[-1]] = new
            changed = True
    return changed


def _convert(value: str, wanted: list[str]) -> Any:
    text = value.strip()
    if ("integer" in wanted or "number" in wanted) and re.fullmatch(r"-?\d+", text):
        return int(text)
    if "number" in wanted and re.fullmatch(r"-?\d+\.\d*|-?\.\d+", text):
        return float(text)
    if "boolean" in wanted and text.lower() in ("true", "false"):
        return text.lower() == "true"
    return None


def _get(tree: Any, path: Iterable) -> Any:
    node = tree
    for part in path:
        node = node[part]
    return node


def _walk(errors: Iterable[ValidationError]) -> Iterator[ValidationError]:
    for error in errors:
        yield error
        yield from _walk(error.context or ())


def translate(error: ValidationError, tree: Any) -> list[tuple[int, ScenarioError]]:
    """One jsonschema error as ScenarioErrors (an error naming N unknown keys gives N)."""
    path = list(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    value = error.instance
    kind = error.validator

    if "propertyNames" in error.absolute_schema_path:    # the offending thing is a key
        key_path = path + [value]
        hint = schema.get("x-error")
        message = hint.format(value=_show(value)) if hint else f"invalid key {value!r}"
        return [(len(key_path), ScenarioError(message, locate(tree, key_path, key=True),
                                              format_path(key_path)))]

    if kind == "additionalProperties" and schema.get("additionalProperties") is False:
        return [_unknown_key(tree, path, key, schema) for key in _extra_keys(value, schema)]

    if kind in ("anyOf", "oneOf") and error.context:
        return _best_alternative(error, tree)

    message = _message(error, schema, value, kind)
    # a missing key is reported at the key that owns the mapping (`sut:`), not inside it
    loc = locate(tree, path, key=(kind == "required"))
    return [(len(path), ScenarioError(message, loc, format_path(path)))]


def _extra_keys(value: Any, schema: dict) -> list[str]:
    known = schema.get("properties", {})
    patterns = schema.get("patternProperties", {})
    return [key for key in value
            if key not in known and not any(re.search(p, str(key)) for p in patterns)]


def _unknown_key(tree: Any, path: list, key: str, schema: dict) -> tuple[int, ScenarioError]:
    key_path = path + [key]
    valid = sorted(schema.get("properties", {}))
    close = difflib.get_close_matches(str(key), valid, n=1, cutoff=0.6)
    if close:
        message = f"unknown key '{key}' — did you mean '{close[0]}'?"
    elif valid:
        message = f"unknown key '{key}' — valid keys are: {', '.join(valid)}"
    else:
        message = f"unknown key '{key}' — nothing is allowed here"
    return len(key_path), ScenarioError(message, locate(tree, key_path, key=True),
                                        format_path(key_path))


def _message(error: ValidationError, schema: dict, value: Any, kind: str) -> str:
    hint = schema.get("x-error")
    if hint and kind in ("type", "pattern", "minimum", "maximum", "exclusiveMinimum",
                         "exclusiveMaximum"):
        return hint.format(value=_show(value))
    if kind == "type":
        wanted = error.validator_value
        wanted = [wanted] if isinstance(wanted, str) else list(wanted)
        words = " or ".join(_TYPE_WORDS.get(w, w) for w in wanted)
        return f"expected {words}, got {_describe(value)}"
    if kind == "required":
        missing = re.match(r"'(.*)' is a required property", error.message)
        return f"missing required key '{missing.group(1) if missing else error.message}'"
    if kind in ("enum", "const"):
        allowed = error.validator_value if kind == "enum" else [error.validator_value]
        listed = ", ".join(str(a) for a in allowed)
        close = difflib.get_close_matches(str(value), [str(a) for a in allowed], n=1, cutoff=0.6)
        suggestion = f"; did you mean '{close[0]}'?" if close else ""
        return f"unknown value {value!r} — expected one of: {listed}{suggestion}"
    if kind == "maxProperties" and error.validator_value == 1 and isinstance(value, dict):
        return f"one kind per entry, found {len(value)}: {', '.join(map(str, value))}"
    if kind == "minProperties":
        return "must not be empty" if error.validator_value == 1 else \
            f"needs at least {error.validator_value} keys"
    if kind == "minItems":
        return f"needs at least {error.validator_value} item(s), got {len(value)}"
    if kind == "maxItems":
        return f"allows at most {error.validator_value} item(s), got {len(value)}"
    if kind == "uniqueItems":
        return "items must not repeat"
    if kind == "minLength" and error.validator_value == 1:
        return "must not be empty"
    if kind == "format" and error.validator_value == "regex":
        why = f" ({error.cause})" if error.cause is not None else ""
        return f"not a valid regular expression: {shown(str(value))}{why}"
    if kind == "pattern":
        return f"{value!r} does not match {error.validator_value}"
    return error.message


def _show(value: Any) -> str:
    """A value as YAML would write it: 'text', 42, true, null."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (dict, list)):
        return _describe(value)
    return repr(value)


def _describe(value: Any) -> str:
    if isinstance(value, (MarkedMap, dict)):
        return "a mapping"
    if isinstance(value, (MarkedSeq, list)):
        return "a list"
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, (datetime.date, bytes)):
        kind = "binary data" if isinstance(value, bytes) else f"a date {value}"
        return f"{kind} (quote the value to make it a string)"
    return f"{type(value).__name__} {value!r}"


def _best_alternative(error: ValidationError, tree: Any) -> list[tuple[int, ScenarioError]]:
    """anyOf/oneOf: report the branch that matched the value's type, else summarise."""
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    shallow = {"type", "const", "enum", "pattern"}
    fitting = [errs for errs in branches.values()
               if not all(not e.relative_path and e.validator in shallow for e in errs)]
    if len(fitting) == 1:
        out: list[tuple[int, ScenarioError]] = []
        for sub in fitting[0]:
            out.extend(translate(sub, tree))
        return out
    path = list(error.absolute_path)
    options = [_describe_schema(s) for s in error.validator_value]
    message = f"expected {' or '.join(options)}, got {_describe(error.instance)}"
    return [(len(path), ScenarioError(message, locate(tree, path), format_path(path)))]


def _describe_schema(schema: Any) -> str:
    if not isinstance(schema, dict):
        return "anything"
    if "const" in schema:
        return repr(schema["const"])
    if "enum" in schema:
        return "one of " + ", ".join(map(repr, schema["enum"]))
    wanted = schema.get("type")
    if wanted:
        wanted = [wanted] if isinstance(wanted, str) else wanted
        return " or ".join(_TYPE_WORDS.get(w, w) for w in wanted)
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1].replace("_", " ")
    if "required" in schema:
        return "a mapping with " + " and ".join(f"'{k}'" for k in schema["required"])
    return "a valid value"
