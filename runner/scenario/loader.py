"""Load YAML with a line mark on every mapping, sequence, key and scalar.

Scenario files are read with :class:`MarkedLoader`, a ``yaml.SafeLoader``
subclass (only the safe constructors, never arbitrary Python objects). Each
mapping becomes a :class:`MarkedMap` (a ``dict``) and each sequence a
:class:`MarkedSeq` (a ``list``) that remember where they start and where each
of their keys and values start, so any later stage - schema validation,
semantic checks, the engine at run time - can say ``FILE:LINE:COL`` (1-based).

Scalars stay plain Python values; their position is kept by their parent
(``value_mark`` / ``item_mark``, packed: see MarkedMap). :func:`locate` finds
the position of any path inside a loaded tree.

With libyaml, :func:`_build` makes the tree straight from its events (no node
graph); what it does not handle itself it leaves to the composing loaders
(FastMarkedLoader: libyaml events and PyYAML nodes; MarkedLoader: PyYAML's
pure-Python parser, which words syntax errors), so the tree and every error are
the same whichever path reads the file.

Duplicate keys, non-string keys and YAML syntax errors raise
:class:`~sipscen.errors.ScenarioError` with the location.
"""
from __future__ import annotations

import threading
from array import array
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterable, Mapping

import yaml

from sipscen.errors import Location, ScenarioError

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


class _Marking:
    """Composing and constructing with marks and limits (mixed into the loaders).

    ``file_label`` is what locations call the file (set by :func:`load_yaml`).
    It counts alias uses and the size and depth of the tree with aliases
    expanded, and raises a located ScenarioError past :data:`MAX_ALIASES`,
    :data:`MAX_NODES` or :data:`MAX_DEPTH`.
    """

    file_label = "<string>"

    def _init_limits(self) -> None:
        self.alias_count = 0
        self.expanded: dict[yaml.Node, int] = {}   # node -> its size with aliases expanded
        self.depths: dict[yaml.Node, int] = {}     # node -> its depth with aliases expanded
        self.nesting = 0

    def loc(self, mark: yaml.Mark) -> Location:
        return _location(mark, self.file_label)

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.ScalarEvent):      # no nesting, no depth: the common case
            node = super().compose_node(parent, index)
            node.end_mark = None        # never read; a huge file has hundreds of thousands
            return node
        if self.check_event(yaml.AliasEvent):
            self.alias_count += 1
            if self.alias_count > MAX_ALIASES:
                raise ScenarioError(f"too many aliases: more than {MAX_ALIASES:,} uses of "
                                    "*name in one file", self.loc(self.peek_event().start_mark))
            return super().compose_node(parent, index)
        self.nesting += 1
        try:
            if self.nesting > MAX_DEPTH:
                raise ScenarioError(f"nested too deeply: more than {MAX_DEPTH} levels",
                                    self.loc(self.peek_event().start_mark))
            node = super().compose_node(parent, index)
        finally:
            self.nesting -= 1
        if isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        else:
            children = node.value if isinstance(node, yaml.SequenceNode) else []
        depth = 1 + max((self.depths.get(child, 1) for child in children), default=0)
        if depth > MAX_DEPTH:       # aliases of aliases nest without nesting the text
            raise ScenarioError(f"nested too deeply: aliases nest this more than {MAX_DEPTH} "
                                "levels", self.loc(node.start_mark))
        self.depths[node] = depth
        return node

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """A tag that does not fit its node (``!!map x``, ``!!int abc``, ``!!bool
        maybe``) is a located error, not a crash inside PyYAML's constructors."""
        kind = _TAG_KINDS.get(node.tag)
        if kind is not None and not isinstance(node, kind):
            raise ScenarioError(f"YAML tag {_short_tag(node.tag)} cannot be applied to "
                                f"{_NODE_NAMES[type(node)]}", self.loc(node.start_mark))
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError, IndexError):
            raise ScenarioError(f"{_shorten(node.value)} is not a valid "
                                f"{_short_tag(node.tag)} value", self.loc(node.start_mark)) from None

    def count(self, node: yaml.Node, children: Iterable[yaml.Node]) -> None:
        """Record ``node``'s expanded size; refuse a tree that grows past MAX_NODES."""
        size = 1 + sum(self.expanded.get(child, 1) for child in children)
        if size > MAX_NODES:
            raise ScenarioError(f"too large: aliases expand this to more than {MAX_NODES:,} "
                                "values (is it an alias bomb?)", self.loc(node.start_mark))
        self.expanded[node] = size


_TAG_KINDS = {f"tag:yaml.org,2002:{name}": kind for name, kind in (
    ("map", yaml.MappingNode), ("omap", yaml.SequenceNode), ("pairs", yaml.SequenceNode),
    ("set", yaml.MappingNode), ("seq", yaml.SequenceNode), ("str", yaml.ScalarNode),
    ("int", yaml.ScalarNode), ("float", yaml.ScalarNode), ("bool", yaml.ScalarNode),
    ("null", yaml.ScalarNode), ("timestamp", yaml.ScalarNode), ("binary", yaml.ScalarNode))}
_NODE_NAMES = {yaml.ScalarNode: "a scalar", yaml.SequenceNode: "a sequence",
               yaml.MappingNode: "a mapping"}


def _short_tag(tag: str) -> str:
    return "!!" + tag[len("tag:yaml.org,2002:"):] if tag.startswith("tag:yaml.org,2002:") else tag


def _shorten(value: Any) -> str:
    if not isinstance(value, str):
        return "this node"
    return repr(value if len(value) <= 40 else value[:40] + "...")


def _construct_map(loader: MarkedLoader, node: yaml.MappingNode):
    data = MarkedMap()
    data.mark = loader.loc(node.start_mark)
    yield data
    own = [pair for pair in node.value if pair[0].tag != "tag:yaml.org,2002:merge"]
    loader.flatten_mapping(node)   # `<<: *anchor` entries come first, own keys override
    n_merged = len(node.value) - len(own)
    seen: dict[str, Location] = {}
    for index, (key_node, value_node) in enumerate(node.value):
        key = loader.construct_object(key_node, deep=True)
        key_loc = loader.loc(key_node.start_mark)
        if not isinstance(key, str):
            if isinstance(key_node, yaml.ScalarNode):
                raise ScenarioError(
                    f"key {key!r} is not a string (quote it: '{key_node.value}')", key_loc)
            raise ScenarioError("a key must be a plain string, not a list or mapping", key_loc)
        if index >= n_merged:
            if key in seen:
                first = seen[key]
                raise ScenarioError(
                    f"duplicate key '{key}' (first defined at line {first.line})", key_loc)
            seen[key] = key_loc
        data[key] = loader.construct_object(value_node, deep=True)
        data.set_marks(key, key_loc, loader.loc(value_node.start_mark))
    loader.count(node, (n for pair in node.value for n in pair))


def _construct_seq(loader: MarkedLoader, node: yaml.SequenceNode):
    data = MarkedSeq()
    data.mark = loader.loc(node.start_mark)
    yield data
    for item in node.value:
        data.append(loader.construct_object(item, deep=True))
        data.add_item_mark(loader.loc(item.start_mark))
    loader.count(node, node.value)


class MarkedLoader(_Marking, yaml.SafeLoader):
    """A SafeLoader (PyYAML's pure-Python parser) whose mappings and sequences
    carry their marks. It words syntax errors as the documentation shows them."""

    def __init__(self, stream: Any):
        yaml.SafeLoader.__init__(self, stream)
        self._init_limits()


MarkedLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
MarkedLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)

try:        # libyaml: events ~10x faster than PyYAML's pure-Python scanner and parser
    from yaml._yaml import CParser
except ImportError:     # pragma: no cover - a PyYAML built without libyaml
    CParser = None

if CParser is not None:
    class FastMarkedLoader(_Marking, yaml.composer.Composer, CParser,
                           yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
        """The same loader on libyaml's events: composing (where the limits are
        enforced) and constructing stay the safe Python code of MarkedLoader."""

        yaml_constructors = MarkedLoader.yaml_constructors

        def __init__(self, stream: Any):
            CParser.__init__(self, stream)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
            yaml.composer.Composer.__init__(self)
            self._init_limits()
else:       # pragma: no cover
    FastMarkedLoader = MarkedLoader


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


def load_yaml(text: str, file_label: str) -> Any:
    """Parse one YAML document from ``text``; locations name ``file_label``.

    Raises ScenarioError for syntax errors, duplicate keys and non-string keys.
    An empty document gives ``None``.

    libyaml parses; when it finds the text invalid, PyYAML's own parser reads it
    again so the error is located and worded the same whichever is installed.
    """
    return _load(text, None, file_label)[0]


def _load(text: str | None, data: bytes | None, file_label: str) -> tuple[Any, int]:
    """The tree of ``text`` (or of ``data``, UTF-8 bytes known to decode) and how
    many aliases it used. libyaml reads the bytes themselves when given: a huge
    file is then not held as text too while its tree is built."""
    if FastMarkedLoader is not MarkedLoader:
        try:
            return _build_counted(text if data is None else data, file_label)
        except _Fallback:
            pass                    # built (or worded) by the composing loaders below
        except yaml.YAMLError:
            return _load_pure(_text(text, data), file_label)
        text, data = _text(text, data), None
        try:
            fast = FastMarkedLoader(text)
            fast.file_label = file_label
            try:
                return fast.get_single_data(), fast.alias_count
            finally:
                fast.dispose()
        except yaml.YAMLError:
            pass                    # worded by the pure-Python parser below
    return _load_pure(_text(text, data), file_label)


def _text(text: str | None, data: bytes | None) -> str:
    """The text as ``Path.read_text`` gives it (universal newlines)."""
    if text is not None:
        return text
    return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


def _load_pure(text: str, file_label: str) -> Any:
    """PyYAML's pure-Python parser: the wording of every syntax error."""
    try:
        loader = MarkedLoader(text)
    except yaml.reader.ReaderError as exc:
        return _reader_error(exc, text, file_label)
    loader.file_label = file_label
    try:
        return loader.get_single_data(), loader.alias_count
    except yaml.reader.ReaderError as exc:
        return _reader_error(exc, text, file_label)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = _location(mark, file_label) if mark else Location(file_label, 1, 1)
        problem = exc.problem or "invalid YAML"
        if exc.context and exc.context_mark is not None and exc.problem_mark is not None:
            problem = f"{problem} ({exc.context} at line {exc.context_mark.line + 1})"
        raise ScenarioError(f"YAML syntax error: {problem}", where) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"YAML error: {exc}", Location(file_label, 1, 1)) from None
    finally:
        loader.dispose()


def _reader_error(exc: yaml.reader.ReaderError, text: str, file_label: str):
    before = text[:exc.position]
    line = before.count("\n") + 1
    col = exc.position - (before.rfind("\n") + 1) + 1
    raise ScenarioError(f"YAML syntax error: character {exc.character:#06x} is not allowed "
                        "(write control characters as escapes in a double-quoted string)",
                        Location(file_label, line, col)) from None


def load_yaml_file(path: Path | str) -> Any:
    """Read and parse a YAML file; locations name the path as given."""
    return load_yaml_file_counted(path)[0]


def load_yaml_file_counted(path: Path | str) -> tuple[Any, int]:
    """:func:`load_yaml_file`: (the tree, how many YAML aliases it used)."""
    label = str(path)
    try:
        data = Path(path).read_bytes()
        data.decode("utf-8")            # checked here; libyaml parses the bytes
    except FileNotFoundError:
        raise ScenarioError("no such file", None, label) from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"not UTF-8 text ({exc.reason})", Location(label, 1, 1)) from None
    except OSError as exc:
        raise ScenarioError(f"cannot read: {exc.strerror}", None, label) from None
    if b"\r" in data:              # parsed as read_text gives it (universal newlines)
        return _load(_text(None, data), None, label)
    return _load(None, data, label)


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
