"""API 說明: a plain page describing the JSON API, rendered on the server from its OpenAPI document.

Swagger UI and ReDoc load their scripts from a CDN, which the CSP (``default-src 'self'``) and the
deployment policy forbid; this page needs no script at all. The page is public, like the document.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, current_app, render_template

from web.api import reference_words as words
from web.i18n import is_english

bp = Blueprint("api_reference", __name__)
METHODS = ("get", "post", "patch", "put", "delete")


@dataclass(frozen=True)
class Words:
    """A text and the language it is in (the page marks English inside a Chinese page)."""

    text: str
    lang: str


@dataclass(frozen=True)
class Prop:
    name: str
    type: str
    required: bool
    description: Words


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: Words
    parameters: list[Prop] = field(default_factory=list)
    body: str | None = None  # the request schema's name
    body_props: list[Prop] = field(default_factory=list)
    result: str | None = None  # the success response's schema name
    statuses: list[tuple[str, Words]] = field(default_factory=list)


def _words(zh: str | None, en: str, chinese: bool) -> Words:
    """The page's language when it has the words, else the document's English."""
    if chinese and zh:
        return Words(zh, "zh-Hant-TW")
    return Words(en, "en")


def _type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    t = str(schema.get("type", "object"))
    if t == "array":
        t = f"array of {_type(schema.get('items', {}))}"
    if schema.get("enum"):
        t += f" ({', '.join(map(str, schema['enum']))})"
    bounds = [f"{k} {schema[k]}" for k in ("minimum", "maximum", "maxLength") if k in schema]
    if bounds:
        t += f" [{', '.join(bounds)}]"
    if schema.get("nullable"):
        t += ", nullable"
    return t


def _ref(content: dict[str, Any]) -> str | None:
    schema = content.get("application/json", {}).get("schema", {})
    return str(schema["$ref"]).rsplit("/", 1)[-1] if "$ref" in schema else None


def operations(doc: dict[str, Any], *, chinese: bool = False) -> list[Operation]:
    """The document's operations as the page lists them, in Chinese where ``reference_words`` has it."""
    schemas = doc.get("components", {}).get("schemas", {})

    def described(name: str, description: Any) -> Words:
        return _words(words.PARAMETERS.get(name), str(description or ""), chinese)

    out = []
    for path, item in doc.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            params = [Prop(p["name"], f"{p['in']}: {_type(p.get('schema', {}))}", bool(p.get("required")),
                           described(p["name"], p.get("description"))) for p in [*shared, *op.get("parameters", [])]]
            body = _ref(op.get("requestBody", {}).get("content", {}))
            props = []
            if body:
                spec = schemas.get(body, {})
                required = set(spec.get("required", []))
                props = [Prop(name, _type(s), name in required, described(name, s.get("description")))
                         for name, s in spec.get("properties", {}).items()]
            responses = op.get("responses", {})
            ok = next((c for c in ("200", "201") if c in responses), None)
            statuses = sorted((code, _words(words.STATUSES.get(code), str(r.get("description", "")), chinese))
                              for code, r in responses.items() if code != "default")
            summary = _words(words.SUMMARIES.get(f"{method.upper()} {path}"), str(op.get("summary", "")), chinese)
            out.append(Operation(method.upper(), path, summary, params, body, props,
                                 _ref(responses[ok].get("content", {})) if ok else None, statuses))
    return out


@bp.get("/api-docs")
def page() -> str:
    api = current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"]
    doc = api.spec.to_dict()
    return render_template("api_reference.html", operations=operations(doc, chinese=not is_english()),
                           info=doc.get("info", {}))
