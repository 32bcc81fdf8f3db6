"""The ``openapi-reference`` directive: the REST API's endpoints, rendered from its OpenAPI schema.

The schema is the one drf-spectacular serves (``user_tasks.urls`` mounted at ``/api/`` by
``docs/django_urls.py``), generated when the docs are built, so the page cannot drift from the
code. The same schema is written next to the HTML as ``openapi.json``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

METHODS = ("get", "post", "put", "patch", "delete")
#: Single-backtick code (Markdown, as OpenAPI tools read descriptions) becomes RST literal text.
MARKDOWN_CODE = re.compile(r"(?<!`)`([^`]+)`(?!`)")


def generate_schema() -> dict[str, Any]:
    """The schema as drf-spectacular serves it; Django is set up by ``conf.py``."""
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def text(value: str | None) -> str:
    """A description on one line (table cells and list items cannot hold line breaks)."""
    return MARKDOWN_CODE.sub(r"``\1``", " ".join((value or "").split()))


def anchor(schema_name: str) -> str:
    return f"openapi-schema-{schema_name.lower()}"


def type_of(schema: dict[str, Any]) -> str:
    """A schema's type as a reader wants it: ``string (date-time)``, ``array of Status``…"""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f":ref:`{name} <{anchor(name)}>`"
    if schema.get("type") == "array":
        return f"array of {type_of(schema.get('items', {}))}"
    kind = schema.get("type", "any")
    if "format" in schema:
        kind += f" ({schema['format']})"
    if "enum" in schema:
        kind += ": one of " + ", ".join(f"``{value}``" for value in schema["enum"])
    if schema.get("nullable"):
        kind += " or null"
    return kind


def table(header: tuple[str, ...], rows: list[tuple[str, ...]], widths: str) -> Iterator[str]:
    yield f".. list-table::\n   :header-rows: 1\n   :widths: {widths}\n"
    for row in (header, *rows):
        first, *rest = row
        yield f"   * - {first or ' '}"
        yield from (f"     - {cell or ' '}" for cell in rest)
    yield ""


def heading(title: str, underline: str) -> Iterator[str]:
    yield title
    yield underline * len(title)
    yield ""


def render_operation(path: str, method: str, operation: dict[str, Any]) -> Iterator[str]:
    yield from heading(operation.get("summary") or f"{method.upper()} {path}", "~")
    yield f"``{method.upper()} {path}``"
    yield ""
    if operation.get("description"):
        yield text(operation["description"])
        yield ""
    parameters = operation.get("parameters", [])
    if parameters:
        rows = [
            (
                f"``{parameter['name']}``",
                parameter["in"],
                type_of(parameter.get("schema", {})),
                "yes" if parameter.get("required") else "no",
                text(parameter.get("description")),
            )
            for parameter in parameters
        ]
        yield from table(("Parameter", "In", "Type", "Required", "Description"), rows, "18 8 20 8 46")
    body = operation.get("requestBody", {}).get("content", {})
    if body:
        media_types = ", ".join(f"``{media_type}``" for media_type in body)
        yield f"**Request body** ({media_types}): {type_of(next(iter(body.values())).get('schema', {}))}"
        yield ""
    yield "**Responses**"
    yield ""
    for code, response in operation.get("responses", {}).items():
        content = response.get("content", {})
        if content:
            media_type, entry = next(iter(content.items()))
            what = f"``{media_type}``, {type_of(entry.get('schema', {}))}"
        else:
            what = "no body"
        description = text(response.get("description"))
        yield f"- ``{code}``: {what}" + (f". {description}" if description else "")
    yield ""


def render_schema_component(name: str, schema: dict[str, Any]) -> Iterator[str]:
    yield f".. _{anchor(name)}:"
    yield ""
    yield from heading(name, "~")
    if schema.get("description"):
        yield text(schema["description"])
        yield ""
    required = set(schema.get("required", []))
    rows = [
        (
            f"``{field}``",
            type_of(spec),
            "yes" if field in required else "no",
            "read-only" if spec.get("readOnly") else "",
            text(spec.get("description")),
        )
        for field, spec in schema.get("properties", {}).items()
    ]
    if rows:
        yield from table(("Field", "Type", "Required", "Access", "Description"), rows, "18 22 8 10 42")


def render(schema: dict[str, Any]) -> Iterator[str]:
    """The whole reference as reStructuredText: endpoints grouped by tag, then the schemas."""
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, item in schema["paths"].items():
        for method in METHODS:
            if method in item:
                tag = (item[method].get("tags") or ["other"])[0]
                by_tag.setdefault(tag, []).append((path, method, item[method]))
    for tag in sorted(by_tag, key=lambda name: (name != "tasks", name)):
        yield from heading(tag.capitalize(), "-")
        for path, method, operation in by_tag[tag]:
            yield from render_operation(path, method, operation)
    yield from heading("Schemas", "-")
    for name, component in schema.get("components", {}).get("schemas", {}).items():
        yield from render_schema_component(name, component)


class OpenAPIReference(SphinxDirective):
    """``.. openapi-reference::`` renders every endpoint and schema of the REST API."""

    def run(self) -> list[Any]:
        rst = "\n".join(render(self.env.app.user_tasks_openapi))  # type: ignore[attr-defined]
        return self.parse_text_to_nodes(rst, allow_section_headings=True)


def write_schema_file(app: Sphinx, exception: Exception | None) -> None:
    if exception is None and app.builder.format == "html":
        target = Path(app.outdir) / "openapi.json"
        target.write_text(json.dumps(app.user_tasks_openapi, indent=2, default=str), encoding="utf-8")  # type: ignore[attr-defined]


def setup(app: Sphinx) -> dict[str, Any]:
    app.user_tasks_openapi = generate_schema()  # type: ignore[attr-defined]
    app.add_directive("openapi-reference", OpenAPIReference)
    app.connect("build-finished", write_schema_file)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
