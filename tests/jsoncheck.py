"""The JSON contract's checks, shared by the tests that read `--json` output: the schemas kept
in src/monitor/schemas/, a validator stricter than JSON Schema about integers, and a parser
that refuses what Python's own would take (NaN, Infinity)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from jsonschema import validators

SCHEMAS = resources.files("monitor") / "schemas"

# 2020-12, except that an integer must be a JSON integer: 200.0 is what a pandas float column
# gives for a whole number, and is not what the contract promises.
_Base = validators.validator_for({"$schema": "https://json-schema.org/draft/2020-12/schema"})
Strict = validators.extend(
    _Base,
    type_checker=_Base.TYPE_CHECKER.redefine(
        "integer", lambda _checker, value: isinstance(value, int) and not isinstance(value, bool)
    ),
)


def schema(name: str) -> dict[str, Any]:
    """The schema of one command's output (`stats`, `terms-keyness`, ...), itself checked."""
    loaded = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    Strict.check_schema(loaded)
    return loaded


def check(name: str, instance: Any) -> None:
    """`instance` is what the schema `name` allows (raises jsonschema.ValidationError)."""
    Strict(schema(name)).validate(instance)


def strict_loads(text: str) -> Any:
    """json.loads that refuses NaN, Infinity and -Infinity (Python's own parser takes them)."""

    def refuse(constant: str) -> Any:
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)
