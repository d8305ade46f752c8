"""Expected and actual values for people: one formatter for console, JUnit and HTML.

A check's ``expected``/``actual`` is whatever the check computed: a string, a
number, a boolean, a list, a dict of figures per direction. JSON keeps those
raw values; every human rendering goes through here instead of ``repr``:

* ``None`` -> ``-``; booleans -> ``yes``/``no``; floats without noise digits;
* lists joined with ``, `` (an empty one is ``none``);
* a dict -> ``key: value`` pairs, and as a *table* (:func:`table`): a dict of
  scalars is two columns, a dict of dicts (figures per direction, per leg) or a
  list of dicts is one row per entry with a column per field.

``text`` is one line (console cells wrap it, JUnit and pytest print it);
``table`` is the structure the HTML and console draw as a small table.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_CHARS = 400
EMPTY = "(empty)"
MAX_ROWS = 50          # a table longer than that ends with a "... N more" row


def scalar(value: Any) -> str:
    """One scalar for people: yes/no, '-', 12.5 (not 12.500000001)."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.6g}" if value == value else "n/a"        # NaN: no figure
    if isinstance(value, str):
        return value if value else EMPTY
    return str(value)


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def text(value: Any, limit: int = MAX_CHARS, quote: bool = False) -> str:
    """``value`` on one line for people, cut at ``limit`` characters. ``quote``
    puts a top-level string in quotes (inside a sentence: expected '1235#')."""
    if quote and isinstance(value, str):
        out = f"'{_one_line(value)}'"
    else:
        out = _text(value, 0)
    if len(out) > limit:
        out = out[: limit - 3] + "..."
    return out


def _one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")


def _text(value: Any, depth: int) -> str:
    if isinstance(value, str) and depth:           # inside a list or dict: one line
        return _one_line(scalar(value))
    if _is_scalar(value):
        return scalar(value)
    if depth > 4:                         # a pathological nesting: say it, don't recurse
        return "..."
    if isinstance(value, dict):
        if not value:
            return "none"
        inner = "; ".join(f"{_key(k)}: {_text(v, depth + 1)}" for k, v in value.items())
        return f"({inner})" if depth else inner
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        if not items:
            return "none"
        inner = ", ".join(_text(v, depth + 1) for v in items)
        return f"[{inner}]" if depth and any(not _is_scalar(v) for v in items) else inner
    return str(value)


def _key(key: Any) -> str:
    return _one_line(key.replace("_", " ")) if isinstance(key, str) else scalar(key)


@dataclass
class Table:
    """A small table: ``columns`` heads (the first may be ''), ``rows`` of texts."""
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The table as aligned plain-text lines (console, JUnit)."""
        grid = [self.columns, *self.rows]
        widths = [max(len(r[i]) if i < len(r) else 0 for r in grid)
                  for i in range(len(self.columns))]
        out = []
        for i, row in enumerate(grid):
            if i == 0 and not any(self.columns):
                continue
            out.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
        return out


def table(value: Any, cell_limit: int = 200) -> Table | None:
    """``value`` as a small table, or None when a line says it better (scalars,
    lists of scalars, nested or empty structures)."""
    if isinstance(value, dict) and value:
        if all(isinstance(v, dict) for v in value.values()):      # figures per direction
            return _records([(k, v) for k, v in value.items()], "", cell_limit)
        if all(isinstance(v, list) and v and all(isinstance(x, dict) for x in v)
               for v in value.values()):                          # several per direction
            return _records([(k, x) for k, v in value.items() for x in v], "", cell_limit)
        if all(_is_scalar(v) or _short_list(v) for v in value.values()):
            rows = [[_key(k), text(v, cell_limit)] for k, v in value.items()]
            return _capped(Table(["", ""], rows))
        return None
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, dict) for v in value):
        return _records([(None, v) for v in value], None, cell_limit)
    return None


def _short_list(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(_is_scalar(v) for v in value)


def _records(entries: list[tuple[Any, dict]], first: str | None,
             cell_limit: int) -> Table | None:
    keys: list[Any] = []
    for _, record in entries:
        for k in record:
            if k not in keys:
                keys.append(k)
    if not keys:                          # records of nothing: a line says it better
        return None
    columns = ([first] if first is not None else []) + [_key(k) for k in keys]
    rows = []
    for name, record in entries:
        row = [scalar(name)] if first is not None else []
        row += [text(record[k], cell_limit) if k in record else "" for k in keys]
        rows.append(row)
    return _capped(Table(columns, rows))


def _capped(t: Table) -> Table:
    if len(t.rows) > MAX_ROWS:
        more = len(t.rows) - MAX_ROWS
        t.rows = t.rows[:MAX_ROWS] + [[f"... {more} more"] + [""] * (len(t.columns) - 1)]
    return t


def block(value: Any, limit: int = 2000) -> str:
    """``value`` as text for a console cell or a JUnit body: a table's aligned lines
    when it is one, else one line."""
    t = table(value)
    if t is None:
        return text(value, limit)
    out = "\n".join(t.lines())
    return out if len(out) <= limit else out[: limit - 3] + "..."
