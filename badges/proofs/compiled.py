"""Compiled canonicalization: the RDFC-1.0 N-Quads of a document of a known shape, without
running JSON-LD.

A document's *shape* is its JSON with the strings and numbers taken out: keys, nesting, array
lengths, booleans and nulls stay, and so do the values of ``@context``, ``type``/``@type``,
``@language``, ``@direction`` and ``proofPurpose`` (they choose contexts and terms). Under one
document loader, two documents of one shape expand to the same RDF but for those values. So the
pyld path (:mod:`badges.proofs.canonicalize`) runs on the shape once, with every value replaced
by a sentinel, and what it outputs becomes a *template*: the quads with their predicates,
datatypes and constants, and *slots* where a sentinel came out (an IRI, or the lexical form of a
literal). Filling a template escapes each literal exactly as pyld does, labels the blank nodes
by their RDFC-1.0 first-degree hashes, sorts and joins: about a twentieth of the pyld path's
time.

What a template does not cover goes to the pyld path, which then decides (and raises the same
errors): an IRI slot holding anything but an ``http(s)://``, ``urn:`` or ``did:`` IRI (the one
place where expansion depends on a value: a compact IRI or a relative one), a literal with a
control character pyld cannot escape, numbers out of the plain range, values that make two quads
equal, blank nodes whose first-degree hashes tie (they need Hash N-Degree Quads), inline
contexts, and any shape not compiled. A shape compiles only when two sentinel runs (``urn:`` and
``did:`` sentinels) give the same template, every value shows up as a whole IRI or literal (not
inside another, not as a ``xsd:double`` that pyld would reformat, not dropped), and the template
filled with the document's own values reproduces pyld's output for it.

Templates are kept per document loader (pinned loaders only: their contexts never change),
bounded in number. Who compiles (``shapes``):

- ``"compile"``: issuance of our own credentials, status lists: a new shape compiles at once.
- ``"repeated"``: verification: a shape compiles the second time it is seen (its hash kept in
  a bounded set), in a separate, smaller table, and only up to a size; a stream of hostile
  shapes costs one compile per request at most and evicts only its own kind.
- ``"reuse"``: only templates already there.
- ``"off"``: the pyld path always (equivalence tests, benchmarks).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import string
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from weakref import WeakKeyDictionary

from cachetools import LRUCache
from pyld.jsonld import RDF_LANGSTRING, XSD_DOUBLE, XSD_STRING, _canonicalize_double

from badges.proofs import canonicalize as pyld_path
from badges.proofs.canonicalize import (
    DEFAULT_MAX_BLANK_NODES,
    Abandoned,
    Checkpoint,
    DocumentLoader,
)
from openbadges_schemas.loader import PinnedDocumentLoader, default_loader

Shapes = Literal["compile", "repeated", "reuse", "off"]
SHAPES: tuple[Shapes, ...] = ("compile", "repeated", "reuse", "off")


def check_shapes(value: str) -> Shapes:
    for known in SHAPES:
        if value == known:
            return known
    raise ValueError(f"shapes must be one of {', '.join(SHAPES)}, not {value!r}")


# Shape tokens (ints, never equal to a key, which is a str).
_OPEN, _CLOSE, _OPEN_LIST, _CLOSE_LIST, _STRING, _INT, _DOUBLE, _WHOLE = range(8)
_TRUE, _FALSE, _NULL = 8, 9, 10
# `proofPurpose` is the one term of the pinned contexts whose values are terms themselves
# (@type: @vocab): a constant, or proof configurations would never fill (another loader's
# such terms just go to the pyld path: a term is not a plain IRI).
_CONSTANT_KEYS = frozenset({"@context", "type", "@type", "@language", "@direction", "proofPurpose"})

# Slot kinds.
_IRI, _LITERAL, _INTEGER, _WHOLE_FLOAT, _FLOAT = range(5)

_MARK = "x-skillshub-slot"
_SENTINEL_PREFIXES = (f"urn:{_MARK}:", f"did:{_MARK}:")
_INT_SENTINEL = 8_123_000_000_000
_WHOLE_SENTINEL = 8_456_000_000_000

# IRIs pyld keeps verbatim whatever the context: `http(s)://` always (a `//` suffix is never a
# compact IRI); `urn:` and `did:` when no term of the context is a prefix `urn`/`did` (the
# two sentinel runs check it). No whitespace, no characters N-Quads forbids in an IRI.
_PLAIN_IRI = re.compile(r'(?:https?://|urn:|did:)[^\x00-\x20<>"{}|^`\\\x7f]*\Z')
# What needs a look before a literal goes in: pyld's escapes and the control characters it
# cannot serialize (the pyld path refuses those).
_LITERAL_SPECIAL = re.compile(r'[\x00-\x1f\x7f\\"]')
_UNESCAPED_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# Bounds: templates per loader (our shapes: a few per micro-credential), learned ones on the
# verify path, remembered shape hashes, and the size of a shape worth compiling.
MAX_TEMPLATES = 256
MAX_LEARNED_TEMPLATES = 64
_MAX_SEEN = 1024
MAX_SHAPE_TOKENS = 4096


class _Unshaped(Exception):
    """The document has something a shape does not describe (the pyld path takes it)."""


def shape_of(document: dict[str, Any]) -> tuple[tuple[Any, ...], list[Any]] | None:
    """(shape key, the values in document order), or None for a document without a shape."""
    key: list[Any] = []
    values: list[Any] = []
    try:
        _walk(document, key, values)
    except (_Unshaped, RecursionError):
        return None
    return tuple(key), values


def _walk(value: Any, key: list[Any], values: list[Any]) -> None:
    kind = type(value)
    if kind is str:
        key.append(_STRING)
        values.append(value)
    elif kind is dict:
        key.append(_OPEN)
        for name, item in value.items():
            key.append(name)
            if name in _CONSTANT_KEYS:
                key.append(_constant(item, name == "@context"))
            elif type(item) is str:  # the common leaf, without a call
                key.append(_STRING)
                values.append(item)
            else:
                _walk(item, key, values)
        key.append(_CLOSE)
    elif kind is list:
        key.append(_OPEN_LIST)
        for item in value:
            if type(item) is str:
                key.append(_STRING)
                values.append(item)
            else:
                _walk(item, key, values)
        key.append(_CLOSE_LIST)
    elif kind is bool:
        key.append(_TRUE if value else _FALSE)
    elif kind is int:
        key.append(_INT)
        values.append(value)
    elif kind is float:
        key.append(_WHOLE if value.is_integer() else _DOUBLE)
        values.append(value)
    elif value is None:
        key.append(_NULL)
    else:
        raise _Unshaped


def _constant(value: Any, context: bool) -> tuple[Any, ...]:
    """A constant (a @context, a type) as part of the key: strings or lists of strings only
    (an inline context may alias keys to @type or redefine prefixes: no shape)."""
    if type(value) is str:
        return ("s", value)
    if type(value) is list and all(type(item) is str for item in value):
        return ("l", *value)
    if value is None and not context:
        return ("n",)
    raise _Unshaped


def _rebuild(value: Any, sentinels: list[Any], position: list[int]) -> Any:
    """The document with its values (in `_walk` order) replaced by `sentinels`."""
    kind = type(value)
    if kind is dict:
        return {
            name: item if name in _CONSTANT_KEYS else _rebuild(item, sentinels, position)
            for name, item in value.items()
        }
    if kind is list:
        return [_rebuild(item, sentinels, position) for item in value]
    if kind in (str, int, float):
        index = position[0]
        position[0] += 1
        return sentinels[index]
    return value


def _escape(value: str) -> str:
    # pyld's N-Quads escaping (badges.proofs.canonicalize refuses the other controls).
    return (
        value.replace("\\", "\\\\")
        .replace("\t", "\\t")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace('"', '\\"')
    )


@dataclass(frozen=True, slots=True)
class Template:
    """The canonical N-Quads of one shape, to fill.

    `text` is a `str.format` pattern of every quad line (" .\n" included), separated by "\r"
    (never raw in a filled value: literals escape it, IRIs refuse whitespace): the values
    are fields 0…n-1, blank node k is field n+k, filled with its canonical label.
    `first_degree[k]` is the pattern of the lines blank node k's first-degree hash covers
    (RDFC-1.0 §4.6: itself as `_:a`, any other as `_:z`, a line once per mention), and
    `first_degree_fields[k]` the values it holds: a hash is remembered by those values, as
    most blank nodes of a batch of credentials (the achievement's) hash the same each time.
    """

    kinds: tuple[int, ...]
    text: str
    first_degree: tuple[str, ...]
    first_degree_fields: tuple[tuple[int, ...], ...]
    estimate: int
    hashes: dict[tuple[Any, ...], str] = field(default_factory=dict, compare=False)

    @property
    def blank_nodes(self) -> int:
        return len(self.first_degree)

    def fill(self, values: Sequence[Any]) -> str | None:
        """The canonical N-Quads for these values, or None when the pyld path must decide."""
        rendered = _render(self.kinds, values)
        if rendered is None:
            return None
        if self.first_degree:
            labels = self._labels(rendered)
            if labels is None:
                return None
            rendered += labels
        lines = self.text.format(*rendered).split("\r")
        unique = set(lines)
        if len(unique) != len(lines):
            # Equal values (the same node twice, a repeated literal): pyld merges some and not
            # others (an @index keeps both); it decides.
            return None
        lines.sort()
        return "".join(lines)

    def _labels(self, rendered: list[str]) -> list[str] | None:
        """The canonical labels of the blank nodes (RDFC-1.0, every first-degree hash
        unique), or None when two hashes tie (Hash N-Degree Quads: the pyld path)."""
        hashes = []
        known = self.hashes
        if len(known) > _MAX_HASHES:
            known.clear()
        for node, (pattern, fields) in enumerate(
            zip(self.first_degree, self.first_degree_fields, strict=True)
        ):
            key = (node, *[rendered[index] for index in fields])
            digest = known.get(key)
            if digest is None:
                lines = pattern.format(*rendered).split("\r")
                lines.sort()
                digest = known[key] = hashlib.sha256("".join(lines).encode()).hexdigest()
            hashes.append(digest)
        order = sorted(range(len(hashes)), key=hashes.__getitem__)
        labels = [""] * len(hashes)
        previous = None
        for rank, node in enumerate(order):
            if hashes[node] == previous:
                return None
            previous = hashes[node]
            labels[node] = f"_:c14n{rank}"
        return labels


# First-degree hashes remembered per template (a few dozen per credential shape are shared).
_MAX_HASHES = 4096


def _fields(pattern: str) -> tuple[int, ...]:
    """The value fields a `str.format` pattern holds, in order, each once."""
    found = {int(name) for _, name, _, _ in string.Formatter().parse(pattern) if name}
    return tuple(sorted(found))


def _render(kinds: tuple[int, ...], values: Sequence[Any]) -> list[str] | None:
    """Each value as its N-Quads term (an IRI, a literal without its datatype), or None when
    one needs the pyld path."""
    rendered: list[str] = []
    append = rendered.append
    for kind, value in zip(kinds, values, strict=True):
        if kind == _LITERAL:
            if _LITERAL_SPECIAL.search(value) is not None:
                if _UNESCAPED_CONTROL.search(value) is not None:
                    return None
                value = _escape(value)
            append('"' + value + '"')
        elif kind == _IRI:
            if _PLAIN_IRI.match(value) is None:
                return None
            append("<" + value + ">")
        elif kind == _INTEGER:
            if abs(value) >= 10**21:
                return None
            append('"' + str(value) + '"')
        elif kind == _WHOLE_FLOAT:
            if not math.isfinite(value) or abs(value) >= 1e21:
                return None
            append('"' + str(int(value)) + '"')
        else:
            if not math.isfinite(value) or float(value).is_integer():
                return None
            append('"' + _canonicalize_double(value) + '"')
    return rendered


# --- compiling ---------------------------------------------------------------------------


class _NotCompilable(Exception):
    pass


def _sentinels(values: list[Any], prefix: str) -> tuple[list[Any], dict[str, int]]:
    """Sentinel values (same JSON types) and, by their N-Quads text, the slot they stand for."""
    sentinels: list[Any] = []
    texts: dict[str, int] = {}
    for index, value in enumerate(values):
        if type(value) is str:
            sentinel: Any = f"{prefix}{index}"
            texts[sentinel] = index
        elif type(value) is int:
            sentinel = _INT_SENTINEL + index
            texts[str(sentinel)] = index
        elif float(value).is_integer():
            sentinel = float(_WHOLE_SENTINEL + index)
            texts[str(int(sentinel))] = index
        else:
            sentinel = index + 0.1234567
            texts[_canonicalize_double(sentinel)] = index
        sentinels.append(sentinel)
    return sentinels, texts


def _format_constant(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


class _TemplateBuilder:
    """Turns the pyld path's RDF of a sentinel document into quad patterns."""

    def __init__(self, values: list[Any], texts: dict[str, int]) -> None:
        self.values = values
        self.texts = texts
        self.kinds: dict[int, int] = {}
        self.blank_nodes: dict[str, int] = {}

    def build(
        self, dataset: dict[str, list[dict[str, Any]]]
    ) -> tuple[list[str], list[str], tuple[int, ...], int]:
        """(ground quad patterns, blank-node quad patterns, slot kinds, blank node count)."""
        ground: list[str] = []
        blank: list[str] = []
        for graph_name, triples in dataset.items():
            graph = None
            if graph_name != "@default":
                kind = "blank node" if graph_name.startswith("_:") else "IRI"
                graph = self.term({"type": kind, "value": graph_name})
            for triple in triples:
                parts = [
                    self.term(triple["subject"]),
                    self.predicate(triple["predicate"]),
                    self.term(triple["object"]),
                ]
                if graph is not None:
                    parts.append(graph)
                text = " ".join(part for part, _ in parts)
                (blank if any(has_blank for _, has_blank in parts) else ground).append(text)
        if len(self.kinds) != len(self.values):
            raise _NotCompilable("a value does not show in the RDF")
        kinds = tuple(self.kinds[index] for index in range(len(self.values)))
        return ground, blank, kinds, len(self.blank_nodes)

    def slot(self, index: int, kind: int) -> str:
        if self.kinds.setdefault(index, kind) != kind:
            raise _NotCompilable("a value is used both as an IRI and as a literal")
        return "{" + str(index) + "}"

    def iri(self, value: str) -> str:
        index = self.texts.get(value)
        if index is not None and type(self.values[index]) is str:
            return self.slot(index, _IRI)
        if _MARK in value:
            raise _NotCompilable("a value is part of an IRI")
        return _format_constant("<" + value + ">")

    def predicate(self, component: dict[str, Any]) -> tuple[str, bool]:
        value = component["value"]
        if component["type"] != "IRI" or _MARK in value:
            raise _NotCompilable("a value became a predicate")
        return _format_constant("<" + value + ">"), False

    def term(self, component: dict[str, Any]) -> tuple[str, bool]:
        if component["type"] == "IRI":
            return self.iri(component["value"]), False
        if component["type"] == "blank node":
            number = self.blank_nodes.setdefault(component["value"], len(self.blank_nodes))
            return f"\n{number}\n", True
        return self.literal(component), False

    def literal(self, component: dict[str, Any]) -> str:
        value, datatype = component["value"], component["datatype"]
        if datatype == RDF_LANGSTRING:
            language = component.get("language")
            suffix = "@" + language if language else ""
        elif datatype != XSD_STRING:
            suffix = "^^<" + datatype + ">"
        else:
            suffix = ""
        index = self.texts.get(value)
        if index is None:
            if _MARK in value:
                raise _NotCompilable("a value is part of a literal")
            return _format_constant('"' + _escape(value) + '"' + suffix)
        original = self.values[index]
        if type(original) is str:
            if datatype == XSD_DOUBLE:
                raise _NotCompilable("pyld reformats strings typed xsd:double")
            kind = _LITERAL
        elif type(original) is int:
            kind = _INTEGER
        else:
            kind = _WHOLE_FLOAT if float(original).is_integer() else _FLOAT
        return self.slot(index, kind) + _format_constant(suffix)


def _with_labels(pattern: str, first_label: int) -> str:
    """A quad pattern with its blank node markers ("\\n<k>\\n") as format fields."""
    parts = pattern.split("\n")
    for index in range(1, len(parts), 2):
        parts[index] = "{" + str(first_label + int(parts[index])) + "}"
    return "".join(parts)


def _first_degree(blank: list[str], node: int) -> str:
    """The pattern of the lines blank node `node`'s first-degree hash covers."""
    lines = []
    for pattern in blank:
        parts = pattern.split("\n")
        mentions = [int(parts[index]) for index in range(1, len(parts), 2)]
        line = parts[0]
        for index in range(1, len(parts), 2):
            line += ("_:a" if int(parts[index]) == node else "_:z") + parts[index + 1]
        lines.extend([line + " .\n"] * mentions.count(node))
    return "\r".join(lines)


def compile_template(
    document: dict[str, Any],
    loader: DocumentLoader,
    values: list[Any],
    canonical: str,
    checkpoint: Checkpoint | None = None,
) -> Template | None:
    """The template of the document's shape, or None when the shape cannot have one.

    `canonical` is the pyld path's output for the document itself: the template must
    reproduce it. Raises only what `checkpoint` raises (an `Abandoned`)."""
    check = checkpoint or (lambda: None)
    try:
        if _MARK in json.dumps(document, ensure_ascii=False):
            return None  # a constant that looks like a sentinel would be taken for one
        runs = []
        for prefix in _SENTINEL_PREFIXES:
            sentinels, texts = _sentinels(values, prefix)
            rebuilt = _rebuild(document, sentinels, [0])
            dataset = pyld_path._to_rdf(rebuilt, loader, check)
            pyld_path._check_dataset(dataset)
            runs.append(_TemplateBuilder(values, texts).build(dataset))
            if len(runs) == 1:
                template = _assemble(runs[0], values, document)
                if template.fill(values) != canonical:
                    return None  # checked after the first run: a hopeless shape costs one
        if runs[0] != runs[1]:
            return None
        return template
    except Abandoned:
        raise
    except Exception:  # whatever pyld or the checks raise: no template
        return None


def _assemble(
    run: tuple[list[str], list[str], tuple[int, ...], int],
    values: list[Any],
    document: dict[str, Any],
) -> Template:
    ground, blank, kinds, blank_nodes = run
    first_degree = tuple(_first_degree(blank, node) for node in range(blank_nodes))
    return Template(
        kinds=kinds,
        text="\r".join(
            [line + " .\n" for line in ground]
            + [_with_labels(line, len(values)) + " .\n" for line in blank]
        ),
        first_degree=first_degree,
        first_degree_fields=tuple(_fields(pattern) for pattern in first_degree),
        estimate=pyld_path.estimate_blank_nodes(document),
    )


# --- the templates of each loader ----------------------------------------------------------

_UNCOMPILABLE = "uncompilable"


class _Templates:
    """One loader's templates: those compiled on issuance, those learned on verification, and
    the hashes of shapes seen once on verification."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._compiled: LRUCache[tuple[Any, ...], Template | str] = LRUCache(maxsize=MAX_TEMPLATES)
        self._learned: LRUCache[tuple[Any, ...], Template | str] = LRUCache(
            maxsize=MAX_LEARNED_TEMPLATES
        )
        self._seen: LRUCache[int, bool] = LRUCache(maxsize=_MAX_SEEN)

    def find(self, key: tuple[Any, ...]) -> Template | str | None:
        with self._lock:
            found = self._compiled.get(key)
            return found if found is not None else self._learned.get(key)

    def should_compile(self, key: tuple[Any, ...], shapes: Shapes) -> bool:
        if shapes == "compile":
            return len(key) <= MAX_SHAPE_TOKENS * 4
        if shapes != "repeated" or len(key) > MAX_SHAPE_TOKENS:
            return False
        digest = hash(key)
        with self._lock:
            if digest in self._seen:
                return True
            self._seen[digest] = True
            return False

    def store(self, key: tuple[Any, ...], template: Template | None, shapes: Shapes) -> None:
        with self._lock:
            table = self._compiled if shapes == "compile" else self._learned
            table[key] = template if template is not None else _UNCOMPILABLE

    def __len__(self) -> int:
        with self._lock:
            return len(self._compiled) + len(self._learned)


_registries: WeakKeyDictionary[PinnedDocumentLoader, _Templates] = WeakKeyDictionary()
_registries_lock = threading.Lock()


def templates_of(loader: DocumentLoader) -> _Templates | None:
    """The loader's templates; None for a loader whose documents may change (not pinned)."""
    if not isinstance(loader, PinnedDocumentLoader):
        return None
    with _registries_lock:
        templates = _registries.get(loader)
        if templates is None:
            templates = _registries[loader] = _Templates()
        return templates


def canonical_nquads(
    document: dict[str, Any],
    *,
    loader: DocumentLoader | None = None,
    max_blank_nodes: int = DEFAULT_MAX_BLANK_NODES,
    checkpoint: Checkpoint | None = None,
    shapes: Shapes = "reuse",
) -> str:
    """The canonical N-Quads of `document`, from its shape's template when there is one;
    exactly what :func:`badges.proofs.canonicalize.canonicalize` returns (or raises)."""
    loader = loader or default_loader()
    templates = templates_of(loader) if shapes != "off" else None
    shape = shape_of(document) if templates is not None and type(document) is dict else None
    if templates is None or shape is None:
        return pyld_path.canonicalize(
            document, loader=loader, max_blank_nodes=max_blank_nodes, checkpoint=checkpoint
        )
    key, values = shape
    found = templates.find(key)
    if (
        isinstance(found, Template)
        and found.estimate <= max_blank_nodes
        and found.blank_nodes <= max_blank_nodes
    ):
        if checkpoint is not None:
            checkpoint()
        filled = found.fill(values)
        if filled is not None:
            return filled
    canonical = pyld_path.canonicalize(
        document, loader=loader, max_blank_nodes=max_blank_nodes, checkpoint=checkpoint
    )
    if found is None and templates.should_compile(key, shapes):
        if pyld_path.used_deep_hashing():
            # Tied blank nodes: a template would hand this very document back to pyld.
            templates.store(key, None, shapes)
            return canonical
        try:
            template = compile_template(document, loader, values, canonical, checkpoint)
        except Abandoned:
            # Out of time while compiling: the form is known, the template can wait.
            return canonical
        templates.store(key, template, shapes)
    return canonical
