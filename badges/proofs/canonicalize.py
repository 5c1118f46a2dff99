"""RDFC-1.0 canonicalization of JSON-LD documents, in JSON-LD "safe mode".

The one entry point the proof suites call, so a faster canonicalizer for credentials
of a known shape can replace the pyld path later without touching the suites.

Plain JSON-LD silently drops what it cannot map to an absolute IRI (undefined terms,
relative ``@id``/``@type`` values). Dropped data is not signed, so a signature would
"cover" claims that an RDF reader never sees. Like jsonld.js's ``safe: true``, we
refuse such documents instead. We also refuse graphs whose canonicalization cost is
unbounded (too many blank nodes, too much Hash N-Degree Quads work), and count the
blank nodes on the JSON before expanding it, so an oversized graph costs nothing.

A caller with a time budget passes a ``checkpoint`` that raises :class:`Abandoned` (a
subclass) when time is up: it runs between the steps of expansion and hashing.
`Canonicalizer` canonicalizes each distinct document once per verification.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from cachetools import LRUCache
from frozendict import frozendict
from pyld import jsonld
from pyld.canon import URDNA2015
from pyld.context_resolver import ContextResolver

from openbadges_schemas.loader import UnknownContextError, default_loader

DEFAULT_MAX_BLANK_NODES = 1000

# pyld's test for what it keeps when producing RDF (anything else is dropped).
_ABSOLUTE_IRI = re.compile(r"^([A-Za-z][A-Za-z0-9+\-.]*|_):[^\s]*$")
# pyld escapes only \\ \t \n \r and " in literals; RDFC-1.0 also escapes these
# (\b, \f as ECHAR, the rest as UCHAR), so pyld's output would not be canonical.
_UNESCAPED_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

DocumentLoader = Callable[[str, dict[str, Any]], dict[str, Any]]
Checkpoint = Callable[[], None]


class CanonicalizationError(ValueError):
    """The document cannot be canonicalized safely."""


class Abandoned(Exception):
    """Raised by a caller's checkpoint to stop the work (a verification out of time)."""


def canonicalize(
    document: dict[str, Any],
    *,
    loader: DocumentLoader | None = None,
    max_blank_nodes: int = DEFAULT_MAX_BLANK_NODES,
    checkpoint: Checkpoint | None = None,
    memoize_contexts: bool = True,
) -> str:
    """Canonical N-Quads (RDFC-1.0, i.e. URDNA2015) of a JSON-LD document.

    ``loader`` defaults to the pinned offline loader. Raises
    :class:`UnknownContextError` for a context that is not available, and
    :class:`CanonicalizationError` for undefined terms, relative or invalid IRIs,
    literals pyld cannot serialize canonically, or a graph over ``max_blank_nodes``.
    ``checkpoint`` is called between steps; what it raises (an :class:`Abandoned`)
    propagates. ``memoize_contexts=False`` turns off the context-processing memo
    (:class:`ContextMemo`): the same output, slower; for equivalence tests and benchmarks.
    """
    loader = loader or default_loader()
    if not isinstance(document, dict):
        raise CanonicalizationError("a JSON-LD document must be a JSON object")
    # Expansion costs as much as the rest together: refuse what is surely over the cap first.
    estimate = estimate_blank_nodes(document)
    if estimate > max_blank_nodes:
        raise CanonicalizationError(
            f"document has at least {estimate} blank nodes, more than the limit of "
            f"{max_blank_nodes}"
        )
    _last_run.deep = False
    check = checkpoint or _no_checkpoint
    check()
    try:
        dataset = _to_rdf(document, loader, check, memoize=memoize_contexts)
    except (CanonicalizationError, UnknownContextError, Abandoned):
        raise
    except jsonld.JsonLdError as exc:
        _reraise_cause(exc)
        raise CanonicalizationError(f"JSON-LD processing failed: {_describe(exc)}") from exc
    except RecursionError:
        # pyld expands recursively; a hostile document can nest past the stack limit.
        raise CanonicalizationError("document is nested too deeply") from None
    except _PYLD_FAULTS as exc:
        raise _malformed(exc) from None
    blank_nodes = _check_dataset(dataset)
    if blank_nodes > max_blank_nodes:
        raise CanonicalizationError(
            f"document has {blank_nodes} blank nodes, more than the limit of {max_blank_nodes}"
        )
    check()
    urdna = _BoundedURDNA2015(check)
    try:
        nquads: str = urdna.main(dataset, {"format": "application/n-quads"})
    except (CanonicalizationError, Abandoned):
        raise
    except _DEEP_OR_PYLD_FAULTS as exc:
        raise _malformed(exc) from None
    _last_run.deep = urdna.used_deep_hashing
    return nquads


_last_run = threading.local()


def used_deep_hashing() -> bool:
    """Whether this thread's last successful :func:`canonicalize` needed Hash N-Degree Quads
    (blank nodes with tied first-degree hashes): no compiled template could give its form."""
    return bool(getattr(_last_run, "deep", False))


# What pyld raises, instead of a JsonLdError, on some malformed documents it does not
# anticipate (`{"@vocab": null}` after a context without @vocab is a KeyError). Our input
# is attacker-controlled, so these are the document's fault, not ours.
_PYLD_FAULTS: tuple[type[Exception], ...] = (
    KeyError,
    IndexError,
    TypeError,
    ValueError,
    AttributeError,
    UnicodeError,
    OverflowError,
)
_DEEP_OR_PYLD_FAULTS: tuple[type[Exception], ...] = (RecursionError, *_PYLD_FAULTS)


def _malformed(exc: Exception) -> CanonicalizationError:
    # pyld's text for these is an internal detail (a bare key, a type name): say what it is.
    return CanonicalizationError(
        f"JSON-LD processing failed: the document or its @context is malformed "
        f"(pyld raised {type(exc).__name__})"
    )


def _no_checkpoint() -> None:
    return None


def estimate_blank_nodes(document: Any) -> int:
    """A count, on the JSON, of the blank nodes expansion will produce: node objects without
    an id (outside ``@context``; not ``@value``, ``@list`` or ``@set`` objects) and the items
    of ``@list`` arrays.

    It counts objects under ``@json``-typed terms too (literals, not nodes), which credentials
    rarely carry; lists from ``@container: @list`` terms are not seen. The exact count after
    expansion stays the authority; this one refuses the obvious cases for free.
    """
    count = 0
    stack: list[Any] = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
            continue
        if not isinstance(item, dict):
            continue
        if "@value" in item:
            continue
        # Named, a list or set (no node), or without properties (no triple): no blank node.
        if item.keys() - {"@context"} and not item.keys() & {"id", "@id", "@list", "@set"}:
            count += 1
        for key, value in item.items():
            if key == "@context":
                continue
            if key == "@list" and isinstance(value, list):
                count += len(value)
            stack.append(value)
    return count


class Canonicalizer:
    """Canonical forms for one verification: each distinct document is canonicalized once.

    The proofs of a proof set all sign the same unsecured document, and the JSON-LD check
    reads it again: without this, each proof re-canonicalized it (a credential with 50
    bogus proofs cost a minute of CPU). Forms are found by a digest of the document's JSON
    and the loader, so a hit is always the same input; failures are remembered too. Not
    thread-safe: make one per verification.

    `admission`, when given, is entered around each canonicalization actually run (a
    verifier bounds how many run at once across requests). `shapes` says how the compiled
    path (:mod:`badges.proofs.compiled`) may be used: by default a shape seen twice compiles.
    """

    def __init__(
        self,
        *,
        checkpoint: Checkpoint | None = None,
        max_blank_nodes: int = DEFAULT_MAX_BLANK_NODES,
        admission: Callable[[], AbstractContextManager[object]] | None = None,
        shapes: str = "repeated",
    ) -> None:
        self.checkpoint = checkpoint
        self.max_blank_nodes = max_blank_nodes
        self.admission = admission or nullcontext
        self.shapes = shapes
        self._forms: dict[tuple[Any, str], str | Exception] = {}

    def canonicalize(
        self, document: dict[str, Any], *, loader: DocumentLoader | None = None
    ) -> str:
        loader = loader or default_loader()
        try:
            text = json.dumps(document, sort_keys=True, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError):  # not plain JSON: nothing to key it by
            return self._run(document, loader)
        key = (loader, hashlib.sha256(text.encode()).hexdigest())
        form = self._forms.get(key)
        if form is None:
            try:
                form = self._run(document, loader)
            except (CanonicalizationError, UnknownContextError) as exc:
                form = exc
            self._forms[key] = form
        if isinstance(form, Exception):
            raise form
        return form

    def _run(self, document: dict[str, Any], loader: DocumentLoader) -> str:
        # The compiled path for a known shape (badges.proofs.compiled), else pyld; imported
        # here because that module builds on this one.
        from badges.proofs import compiled

        with self.admission():
            return compiled.canonical_nquads(
                document,
                loader=loader,
                max_blank_nodes=self.max_blank_nodes,
                checkpoint=self.checkpoint,
                shapes=compiled.check_shapes(self.shapes),
            )


@dataclass
class _WarmCaches:
    """Resolved contexts (pyld's "shared" cache) and their identity index, for one user."""

    contexts: LRUCache[Any, Any]
    by_identity: LRUCache[int, tuple[Any, Any]] = field(
        default_factory=lambda: LRUCache(maxsize=_IDENTITY_CACHE_SIZE)
    )
    processed: ContextMemo = field(default_factory=lambda: ContextMemo())


class _CachePool:
    """A caching loader's warm caches, each used by one canonicalization at a time.

    pyld's caches (and the LRU caches inside its resolved contexts) are not thread-safe.
    One lock per loader serialised every expansion behind the longest one: a hostile
    credential's expansion held up every issuing request. Instead each canonicalization
    takes a set of its own; there are as many sets as ever ran at once (bounded by the
    worker threads, and the pool keeps at most `_MAX_SPARE_CACHES`).
    """

    def __init__(self, first: LRUCache[Any, Any]) -> None:
        self._free = [_WarmCaches(first)]
        self._size = first.maxsize
        self._lock = threading.Lock()

    @contextmanager
    def take(self) -> Iterator[_WarmCaches]:
        with self._lock:
            caches = self._free.pop() if self._free else None
        if caches is None:
            caches = _WarmCaches(LRUCache(maxsize=self._size))
        try:
            yield caches
        finally:
            with self._lock:
                if len(self._free) < _MAX_SPARE_CACHES:
                    self._free.append(caches)


_IDENTITY_CACHE_SIZE = 256
# Processed (active context, local context, flags) results kept per set of warm caches. An
# OB credential with its scoped contexts needs a few dozen; the bound caps what the inline
# contexts of hostile documents on the verify path can pin (each entry holds its inputs).
_CONTEXT_MEMO_SIZE = 512
_MAX_SPARE_CACHES = 16
_cache_pools: WeakKeyDictionary[Any, _CachePool] = WeakKeyDictionary()
_cache_pools_lock = threading.Lock()


def _to_rdf(
    document: dict[str, Any],
    loader: DocumentLoader,
    checkpoint: Checkpoint = _no_checkpoint,
    *,
    memoize: bool = True,
) -> dict[str, Any]:
    options: dict[str, Any] = {
        "documentLoader": loader,
        # No document base: relative IRIs stay relative and are rejected by the
        # safe-mode check (pyld would resolve them against http://example.org/base/).
        "base": None,
        "produceGeneralizedRdf": False,
    }
    # A loader that owns a resolved-context cache keeps it across calls (the bulk of
    # expansion cost); any other loader gets a fresh cache per call. Never pyld's
    # process-wide cache, which would mix documents served by different loaders.
    shared = getattr(loader, "resolved_context_cache", None)
    if shared is None:
        options["contextResolver"] = ContextResolver({}, loader)
        processor = _SafeProcessor(checkpoint, ContextMemo() if memoize else None)
        dataset: dict[str, Any] = processor.to_rdf(document, options)
        return dataset
    with _cache_pools_lock:
        pool = _cache_pools.get(loader)
        if pool is None:
            pool = _cache_pools[loader] = _CachePool(shared)
    with pool.take() as caches:
        options["contextResolver"] = _IdentityCachingResolver(
            caches.contexts, loader, caches.by_identity
        )
        processor = _SafeProcessor(checkpoint, caches.processed if memoize else None)
        dataset = processor.to_rdf(document, options)
        return dataset


class _IdentityCachingResolver(ContextResolver):  # type: ignore[misc]  # pyld is untyped (Any)
    """Finds the resolved form of an embedded context by object identity.

    pyld keys embedded (scoped) contexts by their canonical JSON, re-serialised on
    every use: about a fifth of an OB credential's canonicalization. The scoped
    contexts of pinned documents are the same objects each time (pyld keeps them in
    the shared cache), so identity finds them; the cache holds a reference to each
    context, so an id cannot be reused by another object while its entry exists.
    """

    def __init__(
        self, shared_cache: Any, document_loader: Any, by_identity: LRUCache[int, tuple[Any, Any]]
    ) -> None:
        super().__init__(shared_cache, document_loader)
        self._by_identity = by_identity

    def resolve(self, active_ctx: Any, context: Any, base: Any, cycles: Any = None) -> list[Any]:
        if isinstance(context, dict | frozendict) and "@context" in context:
            context = context["@context"]
        resolved: list[Any] = []
        for ctx in context if isinstance(context, list) else [context]:
            if not isinstance(ctx, dict | frozendict):
                resolved.extend(super().resolve(active_ctx, [ctx], base, cycles))
                continue
            hit = self._by_identity.get(id(ctx))
            if hit is not None and hit[0] is ctx:
                resolved.append(hit[1])
                continue
            (one,) = super().resolve(active_ctx, [ctx], base, cycles)
            self._by_identity[id(ctx)] = (ctx, one)
            resolved.append(one)
        return resolved


class ContextMemo:
    """Processed contexts by (active context, local context, flags): pyld's context processing
    memoized.

    pyld caches a processed context per active-context ``_uuid``, but applies type-scoped
    contexts to fresh clones with new uuids, so it re-processes every scoped context of every
    node of every document (about half of an OB credential's canonicalization). Processed
    contexts are immutable (pyld freezes them), so a result found here is the very object an
    earlier, identical call returned, and the next lookups under it hit too.

    Keys hold identities: the active context's, and that of each inline context (a dict) in
    the local context; URLs by value. Each entry keeps references to those objects, so an id
    cannot be reused by another object while its entry exists. Bounded (LRU): a document's
    own inline contexts are new objects each time and only churn it. Not thread-safe: one
    per set of warm caches, used by one canonicalization at a time.
    """

    def __init__(self, maxsize: int | None = None) -> None:
        self._entries: LRUCache[tuple[Any, ...], tuple[Any, tuple[Any, ...], Any]] = LRUCache(
            maxsize=maxsize or _CONTEXT_MEMO_SIZE
        )

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: tuple[Any, ...], active_ctx: Any, refs: tuple[Any, ...]) -> Any:
        hit = self._entries.get(key)
        if hit is None or hit[0] is not active_ctx or len(hit[1]) != len(refs):
            return None
        if not all(a is b for a, b in zip(hit[1], refs, strict=True)):
            return None
        return hit[2]

    def put(self, key: tuple[Any, ...], active_ctx: Any, refs: tuple[Any, ...], value: Any) -> None:
        self._entries[key] = (active_ctx, refs, value)


def _local_context_key(local_ctx: Any, refs: list[Any]) -> Any:
    """A hashable key for a local context (URLs by value, inline contexts by identity, kept
    in ``refs``), or None for what is not worth keying (the memo is then skipped)."""
    if isinstance(local_ctx, str):
        return local_ctx
    if local_ctx is None:
        return ("null",)
    if isinstance(local_ctx, dict | frozendict):
        refs.append(local_ctx)
        return ("inline", id(local_ctx))
    if isinstance(local_ctx, list | tuple):
        parts = []
        for item in local_ctx:
            if isinstance(item, list | tuple):
                return None
            part = _local_context_key(item, refs)
            if part is None:
                return None
            parts.append(part)
        return ("list", *parts)
    return None


class _SafeProcessor(jsonld.JsonLdProcessor):  # type: ignore[misc]  # pyld is untyped (Any)
    def __init__(
        self, checkpoint: Checkpoint = _no_checkpoint, memo: ContextMemo | None = None
    ) -> None:
        super().__init__(on_property_dropped=_property_dropped)
        self._checkpoint = checkpoint
        self._memo = memo

    def _process_context(
        self,
        active_ctx: Any,
        local_ctx: Any,
        options: Any,
        override_protected: bool = False,
        propagate: bool = True,
        validate_scoped: bool = True,
        cycles: Any = None,
    ) -> Any:
        memo = self._memo
        refs: list[Any] = []
        # Only finished (frozen) active contexts: pyld mutates the one it is building, and
        # calls itself with `cycles` to pre-validate scoped contexts against that one.
        local_key = (
            _local_context_key(local_ctx, refs)
            if memo is not None and cycles is None and isinstance(active_ctx, frozendict)
            else None
        )
        if memo is None or local_key is None:
            return super()._process_context(
                active_ctx,
                local_ctx,
                options,
                override_protected=override_protected,
                propagate=propagate,
                validate_scoped=validate_scoped,
                cycles=cycles,
            )
        key = (id(active_ctx), local_key, override_protected, propagate, validate_scoped)
        held = tuple(refs)
        found = memo.get(key, active_ctx, held)
        if found is not None:
            return found
        result = super()._process_context(
            active_ctx,
            local_ctx,
            options,
            override_protected=override_protected,
            propagate=propagate,
            validate_scoped=validate_scoped,
        )
        if isinstance(result, frozendict):  # never share a context pyld may still change
            memo.put(key, active_ctx, held, result)
        return result

    def expand(self, input_: Any, options: dict[str, Any]) -> list[Any]:
        expanded: list[Any] = super().expand(input_, options)
        _check_expanded(expanded)
        self._checkpoint()
        return expanded

    def _expand(self, *args: Any, **kwargs: Any) -> Any:
        # Called for every element, recursively: the place to stop a long expansion.
        self._checkpoint()
        return super()._expand(*args, **kwargs)

    def _graph_to_rdf(self, *args: Any, **kwargs: Any) -> Any:
        self._checkpoint()
        return super()._graph_to_rdf(*args, **kwargs)


def _property_dropped(expanded_property: str | None) -> None:
    if expanded_property is None:
        raise CanonicalizationError("a key of the form @name that is not a JSON-LD keyword")
    raise CanonicalizationError(
        f"undefined term {expanded_property!r}: no @context in scope defines it"
    )


def _check_expanded(node: Any) -> None:
    """Reject what pyld's RDF conversion would drop silently: non-absolute IRIs."""
    if isinstance(node, list):
        for item in node:
            _check_expanded(item)
        return
    if not isinstance(node, dict):
        return
    if "@value" in node:
        datatype = node.get("@type")
        if datatype is not None and datatype != "@json" and not _is_absolute(datatype):
            raise CanonicalizationError(f"datatype {datatype!r} is not an absolute IRI")
        return
    for key, value in node.items():
        if key == "@id":
            if not _is_absolute(value):
                raise CanonicalizationError(
                    f"{value!r} is used as an IRI (@id) but is not an absolute IRI"
                )
        elif key == "@type":
            for type_ in value if isinstance(value, list) else [value]:
                if not _is_absolute(type_):
                    raise CanonicalizationError(
                        f"type {type_!r} is not defined by any @context in scope"
                    )
        elif key not in ("@index", "@language", "@direction"):
            _check_expanded(value)


def _is_absolute(iri: Any) -> bool:
    return isinstance(iri, str) and _ABSOLUTE_IRI.match(iri) is not None


def _check_dataset(dataset: dict[str, list[dict[str, Any]]]) -> int:
    """Count distinct blank nodes; reject literals pyld would not serialize canonically."""
    blank_nodes: set[str] = set()
    for graph_name, triples in dataset.items():
        if graph_name.startswith("_:"):
            blank_nodes.add(graph_name)
        for triple in triples:
            for position in ("subject", "object"):
                term = triple[position]
                if term["type"] == "blank node":
                    blank_nodes.add(term["value"])
                elif term["type"] == "literal" and _UNESCAPED_CONTROL.search(term["value"]):
                    raise CanonicalizationError(
                        "a string contains a control character that pyld cannot "
                        "serialize as RDFC-1.0 requires"
                    )
    return len(blank_nodes)


class _BoundedURDNA2015(URDNA2015):  # type: ignore[misc]  # pyld is untyped (Any)
    """URDNA2015 with rdf-canonize's default bound on Hash N-Degree Quads runs.

    Symmetric ("poisoned") blank node graphs make that step factorial. Like
    rdf-canonize (maxWorkFactor 1), all runs together may not exceed the number of
    blank nodes left without a unique first-degree hash, so we refuse exactly the
    graphs that the Digital Bazaar stack refuses.
    """

    def __init__(self, checkpoint: Checkpoint = _no_checkpoint) -> None:
        super().__init__()
        self._remaining_deep_iterations: int | None = None
        self._checkpoint = checkpoint

    @property
    def used_deep_hashing(self) -> bool:
        return self._remaining_deep_iterations is not None

    def hash_first_degree_quads(self, id_: str) -> str:
        self._checkpoint()
        digest: str = super().hash_first_degree_quads(id_)
        return digest

    def hash_n_degree_quads(self, id_: str, issuer: Any) -> dict[str, Any]:
        self._checkpoint()
        if self._remaining_deep_iterations is None:
            # First call: main() has reduced hash_to_blank_nodes to the non-unique nodes.
            self._remaining_deep_iterations = sum(map(len, self.hash_to_blank_nodes.values()))
        if self._remaining_deep_iterations == 0:
            raise CanonicalizationError(
                "blank node graph is too symmetric to canonicalize within the work limit"
            )
        self._remaining_deep_iterations -= 1
        result: dict[str, Any] = super().hash_n_degree_quads(id_, issuer)
        return result


def _reraise_cause(exc: BaseException) -> None:
    """Surface our own errors that pyld wrapped (e.g. loader errors) unchanged."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, UnknownContextError | CanonicalizationError | Abandoned):
            raise cause
        cause = cause.__cause__


def _describe(exc: BaseException) -> str:
    messages = []
    cause: BaseException | None = exc
    while cause is not None:
        # JsonLdError's str() is a multi-line dump; its first argument is the message.
        messages.append(str(cause.args[0]) if cause.args else type(cause).__name__)
        cause = cause.__cause__
    return "; ".join(messages)
