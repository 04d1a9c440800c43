"""Showing results in a notebook: small tables, masked secrets, clickable links.

Executed notebooks are shared and committed to regression runs, so nothing here ever
renders a password, client secret or token in full.
"""

import ast
import html
import json
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from IPython.display import Code, display

SECRET_FIELDS = ("password", "secret", "token")  # a field named "…password" is masked
TIME_CLAIMS = ("exp", "iat", "auth_time", "nbf")


def mask(value: str | None, visible: int = 0) -> str:
    """``visible`` leading characters, then a count; e.g. ``eyJr…(1043 chars)``."""
    if not value:
        return "—"
    return f"{value[:visible]}…({len(value)} chars)"


def is_secret(name: str) -> bool:
    return name.lower().endswith(SECRET_FIELDS)


def masked(row: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``row`` with every secret-looking field masked."""
    return {k: mask(v) if is_secret(k) and isinstance(v, str) else v for k, v in row.items()}


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value)) or "(none)"
    return "" if value is None else str(value)


@dataclass
class Table:
    """Rows of name → value, as HTML in JupyterLab and aligned text elsewhere."""

    rows: list[dict[str, Any]]

    @property
    def columns(self) -> list[str]:
        return list(dict.fromkeys(k for row in self.rows for k in row))

    def _cells(self, row: dict[str, Any]) -> list[str]:
        return [_text(row.get(c)) for c in self.columns]

    def _repr_html_(self) -> str:
        head = "".join(f"<th style='text-align:left'>{html.escape(c)}</th>" for c in self.columns)
        body = "".join(
            "<tr>"
            + "".join(f"<td style='text-align:left'>{html.escape(v)}</td>" for v in self._cells(r))
            + "</tr>"
            for r in self.rows
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def __repr__(self) -> str:
        grid = [self.columns, *(self._cells(r) for r in self.rows)]
        widths = [max(len(line[i]) for line in grid) for i in range(len(self.columns))]
        return "\n".join(
            "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
            for line in grid
        )


def table(rows: list[dict[str, Any]] | dict[str, Any]) -> Table:
    """A table of ``rows`` (or of one mapping, as Name/Value pairs), secrets masked."""
    if isinstance(rows, dict):
        rows = [{"Name": k, "Value": mask(v) if is_secret(k) else v} for k, v in rows.items()]
    return Table([masked(row) for row in rows])


class Note(str):
    """A sentence a cell can end with: shown as itself, not as a quoted string."""

    def __repr__(self) -> str:
        return str(self)


def shown(label: str) -> Any:
    """A dataclass field that `Shown` displays, under ``label``."""
    return field(metadata={"label": label})


class Shown:
    """A dataclass result that displays itself as the last expression of a cell.

    Its `shown` fields make a Name/Value table, secrets masked. JupyterLab renders the
    HTML; the plain text saved beside it is the same table, never a raw dataclass repr.
    """

    def row(self) -> dict[str, Any]:
        return {f.metadata["label"]: getattr(self, f.name) for f in fields(self) if f.metadata}

    def table(self) -> Table:
        return table({name: value for name, value in self.row().items() if value is not None})

    def _repr_html_(self) -> str:
        return self.table()._repr_html_()

    def __repr__(self) -> str:
        return repr(self.table())


def document(value: dict[str, Any]) -> Code:
    """A JSON document (a policy, a configuration) as AWS holds it, highlighted."""
    return Code(json.dumps(value, indent=2), language="json")


def utc(value: float | str) -> str:
    """A moment, as every table of the workshop writes one: ``2026-11-29 06:39:25 UTC``.

    ``value`` is epoch seconds (JWT claims) or ISO 8601 (log events).
    """
    if isinstance(value, str):
        moment = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    else:
        moment = datetime.fromtimestamp(value, UTC)
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def claims_table(claims: dict[str, Any]) -> Table:
    """A decoded JWT's claims, with timestamps made readable."""

    def readable(name: str, value: Any) -> Any:
        if name in TIME_CLAIMS and isinstance(value, int):
            return f"{value} ({utc(value)})"
        return value

    return Table([{"Claim": k, "Value": readable(k, v)} for k, v in claims.items()])


def progress(what: str) -> Callable[[float], None]:
    """A line that updates in place while the workshop waits: pass it as ``on_progress``."""
    handle = display(Note(f"{what} …"), display_id=True)

    def update(seconds: float) -> None:
        if handle is not None:
            handle.update(Note(f"{what} … {seconds:.0f} s"))

    return update


def code(path: Path, *names: str) -> Code:
    """A Python file, or only its top-level functions or variables ``names``, highlighted."""
    source = path.read_text()
    if not names:
        return Code(source, language="python")
    lines = source.splitlines()
    nodes = {_defined_name(node): node for node in ast.parse(source).body}
    missing = [name for name in names if name not in nodes]
    if missing:
        raise ValueError(f"{path.name} has no top-level {', '.join(missing)}")
    sections = []
    for name in names:
        node = nodes[name]
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        sections.append("\n".join(lines[first - 1 : node.end_lineno]))
    return Code("\n\n".join(sections), language="python")


def _defined_name(node: ast.stmt) -> str | None:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return node.name
    if isinstance(node, ast.Assign | ast.AnnAssign):
        target = node.targets[0] if isinstance(node, ast.Assign) else node.target
        return getattr(target, "id", None)
    return None
