"""The loaded tree: mappings and sequences that remember where each of their
keys, values and items start in the file, and the path helpers over them.

:class:`MarkedMap` (a ``dict``) and :class:`MarkedSeq` (a ``list``) are what
:mod:`sipscen.scenario.loader` builds from YAML; :func:`locate` turns a path
inside the tree into ``FILE:LINE:COL`` for any later stage (schema, semantic
checks, the engine at run time). Scalars stay plain Python values; their
position is kept by their parent (packed: see MarkedMap).
"""
from __future__ import annotations

import threading
from array import array
from types import MappingProxyType
from typing import Any, Iterable, Mapping

import yaml

from sipscen.core.errors import Location

PathPart = str | int

PathPart = str | int


# Marks are kept compactly: a huge ``variables:`` map has hundreds of thousands
# of entries, and a Location object per key and per value (with its ints) cost
# more than the entries themselves. A map keeps, per key, ONE int packing the
# key's and the value's line and column and the file (an index into _FILES, a
# process-wide list of file labels: entries merged from an include keep their
# own file); a sequence keeps its items' (line, col) in an array of 64-bit ints.
# Locations are made when asked for (an error, ``locate``).
_FILES: list[str] = []
_FILE_IDS: dict[str, int] = {}
_FILES_LOCK = threading.Lock()
_M32 = 0xFFFF_FFFF


def _file_id(label: str) -> int:
    fid = _FILE_IDS.get(label)
    if fid is None:
        with _FILES_LOCK:
            fid = _FILE_IDS.get(label)
            if fid is None:
                fid = len(_FILES)
                _FILES.append(label)
                _FILE_IDS[label] = fid
    return fid


def _fits(loc: Location | None) -> bool:
    return (loc is not None and isinstance(loc.file, str)
            and 0 <= loc.line <= _M32 and 0 <= loc.col <= _M32)


def _pack(key: Location | None, value: Location | None) -> int | tuple:
    """A key's and its value's marks as one int (a tuple when they do not fit one)."""
    if _fits(key) and _fits(value) and key.file == value.file:
        return (key.line | key.col << 32 | value.line << 64 | value.col << 96
                | _file_id(key.file) << 128)
    return (key, value)


def _unpack_key(packed: int | tuple) -> Location | None:
    if type(packed) is tuple:
        return packed[0]
    return Location(_FILES[packed >> 128], packed & _M32, packed >> 32 & _M32)


def _unpack_value(packed: int | tuple) -> Location | None:
    if type(packed) is tuple:
        return packed[1]
    return Location(_FILES[packed >> 128], packed >> 64 & _M32, packed >> 96 & _M32)


class MarkedMap(dict):
    """A mapping that remembers where it, each key and each value start.

    ``key_mark(key)`` / ``value_mark(key)`` give Locations; ``set_marks`` records
    them; ``copy_mark`` takes an entry's marks from another map (an include).
    ``key_marks`` / ``value_marks`` are read-only snapshots (for tests).
    """

    __slots__ = ("mark", "_marks", "__weakref__")

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.mark: Location | None = None
        self._marks: dict[str, int | tuple] = {}

    def key_mark(self, key: str) -> Location | None:
        packed = self._marks.get(key)
        return self.mark if packed is None else _unpack_key(packed)

    def value_mark(self, key: str) -> Location | None:
        packed = self._marks.get(key)
        return self.mark if packed is None else _unpack_value(packed)

    def set_marks(self, key: str, key_loc: Location | None, value_loc: Location | None) -> None:
        self._marks[key] = _pack(key_loc, value_loc)

    def copy_mark(self, key: str, source: MarkedMap, source_key: str | None = None) -> None:
        """``key`` is where ``source[source_key]`` (default: the same key) was written."""
        packed = source._marks.get(key if source_key is None else source_key)
        self._marks[key] = (source.mark, source.mark) if packed is None else packed

    def share_marks(self, source: MarkedMap) -> None:
        """Use ``source``'s marks (a shallow copy of it that drops or adds nothing marked)."""
        self.mark, self._marks = source.mark, source._marks

    @property
    def key_marks(self) -> Mapping[str, Location | None]:
        return MappingProxyType({key: _unpack_key(p) for key, p in self._marks.items()})

    @property
    def value_marks(self) -> Mapping[str, Location | None]:
        return MappingProxyType({key: _unpack_value(p) for key, p in self._marks.items()})


class MarkedSeq(list):
    """A sequence that remembers where it and each of its items start.

    Item marks are (line, col) pairs in a 64-bit array when every item is in the
    sequence's file (always, for a loaded file), else a list of Locations.
    """

    __slots__ = ("mark", "_file", "_items")

    def __init__(self, *args: Any):
        super().__init__(*args)
        self.mark: Location | None = None
        self._file: str | None = None
        self._items: array | list = array("Q")

    def item_mark(self, index: int) -> Location | None:
        items = self._items
        if 0 <= index < len(items):
            if type(items) is list:
                return items[index]
            packed = items[index]
            return Location(self._file, packed & _M32, packed >> 32)
        return self.mark

    def add_item_mark(self, loc: Location | None) -> None:
        items = self._items
        if type(items) is not list:
            if self._file is None and _fits(loc):
                self._file = loc.file
            if _fits(loc) and loc.file == self._file:
                items.append(loc.line | loc.col << 32)
                return
            self._items = items = [self.item_mark(i) for i in range(len(items))]
        items.append(loc)

    @property
    def item_marks(self) -> list[Location | None]:
        """A snapshot (``add_item_mark`` records one)."""
        return [self.item_mark(i) for i in range(len(self._items))]


def _location(mark: yaml.Mark, file: str) -> Location:
    return Location(file, mark.line + 1, mark.column + 1)


# Aliases let a small file stand for a huge tree ("billion laughs": ten aliases
# of ten aliases of ... ). Every later stage walks the tree as if it were
# written out, so the loader refuses a file past these limits.
MAX_ALIASES = 10_000       # alias uses (*name) in one file
MAX_NODES = 1_000_000      # mappings, sequences, keys and values once aliases are expanded
MAX_DEPTH = 100            # nested mappings/sequences (deeper would exhaust Python's stack)


def locate(root: Any, path: Iterable[PathPart], key: bool = False) -> Location | None:
    """Where ``path`` starts inside a loaded tree.

    With ``key=True`` the location of the last key itself (for "unknown key"
    errors) rather than of its value. A path that leaves the marked tree falls
    back to the deepest marked ancestor.
    """
    parts = list(path)
    node = root
    best = getattr(root, "mark", None)
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, MarkedMap) and isinstance(part, str) and part in node:
            best = node.key_mark(part) if (last and key) else node.value_mark(part)
            node = node[part]
        elif isinstance(node, MarkedSeq) and isinstance(part, int) and 0 <= part < len(node):
            best = node.item_mark(part)
            node = node[part]
        else:
            break
    return best


def format_path(path: Iterable[PathPart]) -> str:
    """('agents', 'alice', 'steps', 2, 'dtmf') -> 'agents.alice.steps[2].dtmf'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.replace("_", "a").replace("-", "a").isalnum() and part[:1].isalpha():
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]"
    return out


def copy_marked(value: Any, memo: dict[int, Any] | None = None) -> Any:
    """A deep copy of a loaded tree that keeps every mark, and keeps a node shared
    by YAML aliases shared (so the copy is no bigger than the original)."""
    memo = {} if memo is None else memo
    if not isinstance(value, (dict, list)):
        return value
    done = memo.get(id(value))
    if done is not None:
        return done
    if isinstance(value, dict):
        copy: Any = MarkedMap() if isinstance(value, MarkedMap) else {}
        memo[id(value)] = copy
        for key, item in value.items():
            copy[key] = copy_marked(item, memo)
        if isinstance(value, MarkedMap):
            copy.mark = value.mark
            copy._marks = dict(value._marks)
        return copy
    copy = MarkedSeq() if isinstance(value, MarkedSeq) else []
    memo[id(value)] = copy
    copy.extend(copy_marked(item, memo) for item in value)
    if isinstance(value, MarkedSeq):
        copy.mark, copy._file = value.mark, value._file
        copy._items = value._items[:]
    return copy


def to_plain(value: Any) -> Any:
    """A deep copy made of plain dicts and lists (for the frozen model)."""
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    return value
