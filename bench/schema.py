"""The sweep config's JSON schema, and one line that explains a violation of it.

Torch-free (yaml and jsonschema only), so the Snakefile can use it in every process;
:func:`bench.config.sweep_schema` adds what only the strategy registry knows.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path

import jsonschema
import yaml

from bench.settings import ConfigError

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "workflows" / "schemas" / "config.schema.yaml"


@cache
def _base_schema() -> dict:
    return yaml.safe_load(SCHEMA_PATH.read_text())


def base_schema() -> dict:
    """The schema file as a dict (a copy: callers may extend it)."""
    return copy.deepcopy(_base_schema())


def config_key(path) -> str:
    """['train', 'lr'] -> 'train.lr'; list indices as [i]."""
    key = ""
    for part in path:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
    return key or "(top level)"


def _allowed_keys(schema: dict, root: dict) -> list[str]:
    """Property names a (sub)schema declares, following one local $ref; retired ones out."""
    properties = dict(schema.get("properties", {}))
    ref = schema.get("$ref", "")
    if ref.startswith("#/"):
        target = root
        for part in ref[2:].split("/"):
            target = target[part]
        properties.update(target.get("properties", {}))
    return [name for name, spec in properties.items() if not spec.get("deprecated")]


def explain(error: jsonschema.ValidationError, root: dict) -> str:
    """One line that names the config key, the value and what is allowed."""
    key = config_key(list(error.absolute_path))
    if error.validator in ("additionalProperties", "unevaluatedProperties"):
        allowed = _allowed_keys(error.schema, root)
        unexpected = sorted(set(error.instance) - set(allowed))
        where = f"under `{key}`" if error.absolute_path else "at the top level"
        return (f"unknown config key(s) {', '.join(map(repr, unexpected))} {where}; "
                f"allowed: {', '.join(allowed)}")
    if error.validator == "enum":
        return (f"config key `{key}` = {error.instance!r} is not allowed; "
                f"allowed: {', '.join(map(str, error.validator_value))}")
    if _retired(error):
        return f"config key `{key}` is no longer read: {error.schema['description']}"
    if error.validator == "required":
        return f"config key `{key}`: {error.message}"
    allowed = error.schema.get("description", "")
    return (f"config key `{key}` = {error.instance!r}: {error.message}"
            + (f" ({allowed.strip()})" if allowed else ""))


def _retired(error: jsonschema.ValidationError) -> bool:
    """Whether the error is a retired key's (its schema ``deprecated``, ``not: {}``)."""
    return error.validator == "not" and bool(error.schema.get("deprecated"))


def check(config: dict, schema: dict) -> None:
    """Raise ConfigError explaining the most relevant violation of ``schema``, if any.

    A retired key's error comes first: an old config then learns what replaced the key,
    not only that the new one is missing.
    """
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(config))
    error = next(iter(sorted((e for e in errors if _retired(e)), key=lambda e: e.json_path)),
                 None) or jsonschema.exceptions.best_match(errors)
    if error is not None:
        raise ConfigError(explain(error, schema))
