"""Load YAML with a line mark on every mapping, sequence, key and scalar.

Scenario files are read with :class:`MarkedLoader`, a ``yaml.SafeLoader``
subclass (only the safe constructors, never arbitrary Python objects). Each
mapping becomes a :class:`~sipscen.scenario.marks.MarkedMap` (a ``dict``) and each sequence a
:class:`MarkedSeq` (a ``list``) that remember where they start and where each
of their keys and values start, so any later stage - schema validation,
semantic checks, the engine at run time - can say ``FILE:LINE:COL`` (1-based).

Scalars stay plain Python values; their position is kept by their parent
(``value_mark`` / ``item_mark``, packed: see MarkedMap). :func:`locate` finds
the position of any path inside a loaded tree.

With libyaml, :func:`sipscen.scenario.yaml_events._build` makes the tree straight from its events (no node
graph); what it does not handle itself it leaves to the composing loaders
(FastMarkedLoader: libyaml events and PyYAML nodes; MarkedLoader: PyYAML's
pure-Python parser, which words syntax errors), so the tree and every error are
the same whichever path reads the file.

Duplicate keys, non-string keys and YAML syntax errors raise
:class:`~sipscen.core.errors.ScenarioError` with the location.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import yaml

from sipscen.core.errors import Location, ScenarioError
from sipscen.scenario.marks import (MAX_ALIASES, MAX_DEPTH, MAX_NODES, MarkedMap, MarkedSeq,
                                    _location)


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
    from sipscen.scenario.yaml_events import _build_counted, _Fallback

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
