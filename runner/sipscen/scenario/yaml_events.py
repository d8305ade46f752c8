"""Build the marked tree straight from libyaml's events (no PyYAML node graph).

The fast path of :mod:`sipscen.scenario.loader` for large files: one packed int
of marks per mapping entry, no Python object per node. What it does not build
itself (explicit tags, merge keys, complex keys, recursive anchors, a second
document, a passed limit) raises :class:`_Fallback`, and the loader reads the
file with the composing loaders instead, so the tree and every error are the
same whichever path reads the file.
"""
from __future__ import annotations

from typing import Any

import yaml
from yaml._yaml import CParser     # only imported when libyaml is there (see loader)

from sipscen.core.errors import Location, ScenarioError
from sipscen.scenario.marks import (_M32, MAX_ALIASES, MAX_DEPTH, MAX_NODES, MarkedMap,
                                    MarkedSeq, _file_id)

class _Fallback(Exception):
    """The event builder met something it leaves to the composing loaders."""


_STR_TAG = "tag:yaml.org,2002:str"
# the tags of plain scalars the builder constructs itself (with SafeConstructor's code)
_BUILT_TAGS = frozenset(f"tag:yaml.org,2002:{name}"
                        for name in ("null", "bool", "int", "float", "timestamp"))
_SCALARS = yaml.constructor.SafeConstructor()


def _resolvers(first: str) -> tuple:
    table = yaml.resolver.Resolver.yaml_implicit_resolvers
    return tuple(table.get(first, [])) + tuple(table.get(None, []))


def _plain_scalar(value: str, cache: dict[str, tuple]) -> Any:
    """A plain (unquoted, untagged) scalar as SafeLoader resolves and constructs it."""
    first = value[:1]
    resolvers = cache.get(first)
    if resolvers is None:
        resolvers = cache[first] = _resolvers(first)
    for tag, regexp in resolvers:
        if regexp.match(value):
            break
    else:
        return value
    if tag == _STR_TAG:
        return value
    if tag not in _BUILT_TAGS:              # `<<` (merge), `=` (value), ...
        raise _Fallback
    try:
        return _SCALARS.yaml_constructors[tag](_SCALARS, yaml.ScalarNode(tag, value))
    except Exception:                       # worded (located) by the composing loaders
        raise _Fallback from None


_KEY = object()     # a mapping frame waiting for a key


def _build(text: str | bytes, label: str) -> Any:
    """The marked tree straight from libyaml's events: no node graph, no Python
    object per node beyond the values themselves; marks packed (see MarkedMap).

    It builds what FastMarkedLoader would build or raises the ScenarioError it
    would raise (a duplicate key, a scalar key that is not a string), or raises
    _Fallback and lets the composing loaders read the text (and word their
    error): explicit tags, merge keys, a list, mapping or alias as a key, an
    anchor used before its node ends, more than one document, any limit passed.
    """
    return _build_counted(text, label)[0]


def _build_counted(source: str | bytes, label: str) -> tuple[Any, int]:
    """:func:`_build` on text or UTF-8 bytes: (the tree, how many aliases it used)."""
    if len(source) > _M32:      # (so no line or column overflows its 32 bits)
        raise _Fallback
    parser = CParser(source)
    try:
        return _build_events(parser.get_event, label)
    finally:
        parser.dispose()


def _build_events(get_event: Any, label: str) -> tuple[Any, int]:
    Scalar, MapStart, MapEnd = yaml.ScalarEvent, yaml.MappingStartEvent, yaml.MappingEndEvent
    SeqStart, SeqEnd, Alias = yaml.SequenceStartEvent, yaml.SequenceEndEvent, yaml.AliasEvent
    high = _file_id(label) << 128
    cache: dict[str, tuple] = {}
    anchors: dict[str, tuple | None] = {}   # name -> (value, size, depth, line, col)
    aliases = 0
    # The composing loaders compose the whole document, then construct it in
    # document order: a key that is not a string, or a duplicate key, is their
    # error only when nothing later in the text fails to compose (a syntax error,
    # an alias, a limit: all end here in _Fallback or a YAMLError) and nothing
    # before it fails to construct (it would have ended here first). So the first
    # one is kept in ``failed``, the rest of the file is read, and then it is raised.
    failed: ScenarioError | None = None
    # a frame: [container, its marks (dict or array), the key (a mapping's: _KEY
    #           while it waits for one), the key's packed mark, expanded size, depth,
    #           anchor, line, col]
    stack: list[list] = []
    get_event()                             # STREAM-START
    event = get_event()
    if type(event) is yaml.StreamEndEvent:
        return None, 0
    if type(event) is not yaml.DocumentStartEvent:
        raise _Fallback
    while True:
        event = get_event()
        kind = type(event)
        mark = event.start_mark
        if kind is Scalar:
            if event.tag is not None:
                raise _Fallback
            value = event.value
            if event.implicit[0]:
                resolvers = cache.get(value[:1])
                if resolvers is None or resolvers:      # () when no type starts that way
                    value = _plain_scalar(value, cache)
            size = depth = 1
            line, col = mark.line + 1, mark.column + 1
            if event.anchor is not None:
                if event.anchor in anchors:
                    raise _Fallback
                anchors[event.anchor] = (value, 1, 1, line, col)
        elif kind is Alias:
            aliases += 1
            if aliases > MAX_ALIASES:
                raise _Fallback
            found = anchors.get(event.anchor)
            if found is None:               # undefined, or its node is not finished
                raise _Fallback
            value, size, depth, line, col = found
        elif kind is MapStart or kind is SeqStart:
            if event.tag is not None or len(stack) >= MAX_DEPTH:
                raise _Fallback
            if stack and stack[-1][2] is _KEY:      # a mapping or list as a key
                raise _Fallback
            line, col = mark.line + 1, mark.column + 1
            if kind is MapStart:
                container: Any = MarkedMap()
                marks: Any = container._marks
            else:
                container = MarkedSeq()
                container._file = label
                marks = container._items
            container.mark = Location(label, line, col)
            if event.anchor is not None:
                if event.anchor in anchors:
                    raise _Fallback
                anchors[event.anchor] = None
            stack.append([container, marks, _KEY if kind is MapStart else None, 0, 1, 0,
                          event.anchor, line, col])
            continue
        elif kind is MapEnd or kind is SeqEnd:
            value, _marks, _key, _kmark, size, depth, anchor, line, col = stack.pop()
            depth += 1
            if size > MAX_NODES or depth > MAX_DEPTH:
                raise _Fallback
            if anchor is not None:
                anchors[anchor] = (value, size, depth, line, col)
        else:
            raise _Fallback
        if not stack:
            break
        frame = stack[-1]
        container = frame[0]
        if type(container) is MarkedMap:
            key = frame[2]
            if key is _KEY:
                if type(value) is not str:
                    if failed is None:
                        if kind is not Scalar:
                            raise _Fallback     # an alias (of a list, a mapping) as a key
                        failed = ScenarioError(f"key {value!r} is not a string (quote it: "
                                               f"'{event.value}')", Location(label, line, col))
                    value = ""              # (the file is refused: any key will do)
                elif value in container and failed is None:
                    first = container._marks[value] & _M32
                    failed = ScenarioError(f"duplicate key '{value}' (first defined at line "
                                           f"{first})", Location(label, line, col))
                frame[2] = value
                frame[3] = line | col << 32
            else:
                container[key] = value
                frame[1][key] = frame[3] | line << 64 | col << 96 | high
                frame[2] = _KEY
        else:
            container.append(value)
            frame[1].append(line | col << 32)
        frame[4] += size
        if depth > frame[5]:
            frame[5] = depth
    if type(get_event()) is not yaml.DocumentEndEvent \
            or type(get_event()) is not yaml.StreamEndEvent:
        raise _Fallback                     # a second document
    if failed is not None:
        raise failed
    return value, aliases
