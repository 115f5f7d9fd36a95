"""LINE's contract for what the bot sends: the OpenAPI schema plus the documented limits.

The schema comes from LINE's own `messaging-api.yml` (in ../shared/line-openapi/). OpenAPI
`discriminator`s are not JSON Schema, so each one is rewritten: the base schema becomes
"the `type` is one of the mapped names, and the body matches the mapped schema", and the
mapped schemas' `allOf` point at a copy of the base without the discriminator (otherwise
the reference would loop).
"""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from ruamel.yaml import YAML

from tests.conftest import REPO

SPEC_DIR = REPO.parent / "shared" / "line-openapi"
BASE = "#/components/schemas/"


def rewrite_discriminators(schemas: dict[str, Any]) -> dict[str, Any]:
    schemas = copy.deepcopy(schemas)
    bases = {name: s for name, s in schemas.items() if "discriminator" in s}
    for name, schema in bases.items():
        mapping: dict[str, str] = schema["discriminator"]["mapping"]
        raw = {k: v for k, v in schema.items() if k != "discriminator"}
        schemas[f"{name}__base"] = raw
        for target in mapping.values():
            target_schema = schemas[target.removeprefix(BASE)]
            for part in target_schema.get("allOf", []):
                if part.get("$ref") == BASE + name:
                    part["$ref"] = BASE + f"{name}__base"
        schemas[name] = {
            "allOf": [{"$ref": BASE + f"{name}__base"}],
            "required": ["type"],
            "properties": {"type": {"enum": sorted(mapping)}},
            "oneOf": [
                {"if": {"properties": {"type": {"const": k}}}, "then": {"$ref": r}, "else": False}
                for k, r in mapping.items()
            ],
        }
    return schemas


@cache
def validator(spec_file: str, schema_name: str) -> Draft202012Validator:
    spec = YAML(typ="safe").load((SPEC_DIR / spec_file).read_text(encoding="utf-8"))
    document = {"components": {"schemas": rewrite_discriminators(spec["components"]["schemas"])}}
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    registry = Registry().with_resource("urn:line", resource)
    return Draft202012Validator({"$ref": f"urn:line{BASE}{schema_name}"}, registry=registry)


def schema_errors(body: Any, spec_file: str, schema_name: str) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator(spec_file, schema_name).iter_errors(body)
    ]


def webhook_errors(body: dict[str, Any]) -> list[str]:
    """Problems of a webhook body the tests send, by LINE's `webhook.yml`."""
    return schema_errors(body, "webhook.yml", "CallbackRequest")


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def walk(node: Any):  # type: ignore[no-untyped-def]
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def limit_errors(body: dict[str, Any]) -> list[str]:
    """LINE's documented limits that the schema does not (all) carry."""
    errors = []
    messages = body.get("messages", [])
    if not 1 <= len(messages) <= 5:
        errors.append(f"{len(messages)} messages (1–5 allowed)")
    for i, message in enumerate(messages):
        if message.get("type") == "text" and utf16(message.get("text", "")) > 5000:
            errors.append(f"message {i}: text of {utf16(message['text'])} UTF-16 units")
        if message.get("type") == "flex":
            if len(message.get("altText", "")) > 1500:
                errors.append(f"message {i}: altText of {len(message['altText'])}")
            size = len(json.dumps(message.get("contents"), ensure_ascii=False).encode())
            if size > 30 * 1024:
                errors.append(f"message {i}: flex contents of {size} bytes")
            for node in walk(message.get("contents")):
                label = (node.get("action") or {}).get("label", "")
                if node.get("type") == "button" and len(label) > 40:
                    errors.append(f"message {i}: button label {node['action']['label']!r}")
        items = (message.get("quickReply") or {}).get("items", [])
        if len(items) > 13:
            errors.append(f"message {i}: {len(items)} quick-reply items")
        for item in items:
            label = (item.get("action") or {}).get("label", "")
            if len(label) > 20:
                errors.append(f"message {i}: quick-reply label {label!r}")
        for node in walk(message):
            uri = node.get("uri")
            if isinstance(uri, str) and len(uri) > 1000:
                errors.append(f"message {i}: URI of {len(uri)} characters")
    return errors


def contract_errors(body: dict[str, Any]) -> list[str]:
    return schema_errors(body, "messaging-api.yml", "ReplyMessageRequest") + limit_errors(body)
