"""RDFC-1.0 canonicalization in safe mode, against the published canonical forms."""

from __future__ import annotations

import copy
import json
import threading
from typing import Any

import pytest
from frozendict import frozendict
from pyld import jsonld
from pyld.context_resolver import ContextResolver

from badges.proofs import canonicalize as canonicalize_module
from badges.proofs.canonicalize import (
    Abandoned,
    CanonicalizationError,
    Canonicalizer,
    canonicalize,
    estimate_blank_nodes,
)
from openbadges_schemas.loader import UnknownContextError, default_loader, make_loader
from tests.support.reference import reference


def _example(*parts: str) -> Any:
    path = reference("ob3", "examples", *parts)
    return json.loads(path.read_text()) if path.suffix == ".json" else path.read_text()


@pytest.mark.parametrize(
    ("document", "canonical"),
    [
        (
            ("ob3-impl-guide-ldp-test-vector", "credential.unsigned.json"),
            ("ob3-impl-guide-ldp-test-vector", "document-canon.txt"),
        ),
        (
            ("cross-stack-golden", "sample_unsigned.json"),
            ("cross-stack-golden", "sample_unsigned.nq"),
        ),
        (
            ("w3c-vc-di-eddsa", "unsigned.json"),
            ("w3c-vc-di-eddsa", "eddsa-rdfc-2022", "canonDocDataInt.txt"),
        ),
    ],
)
def test_reproduces_published_canonical_form(
    document: tuple[str, ...], canonical: tuple[str, ...]
) -> None:
    assert canonicalize(_example(*document)) == _example(*canonical)


def test_does_not_mutate_its_input() -> None:
    document = _example("cross-stack-golden", "sample_unsigned.json")
    before = copy.deepcopy(document)
    canonicalize(document)
    assert document == before


def _ob_credential() -> dict[str, Any]:
    return _example(
        "ob3-spec-rendered", "02-sample-openbadgecredential", "credential.unsigned.json"
    )


def test_undefined_term_is_refused_not_dropped() -> None:
    document = _ob_credential()
    document["evidence"] = [{"type": ["Evidence"], "foo": "bar"}]
    with pytest.raises(CanonicalizationError, match="'foo'"):
        canonicalize(document)


def test_keyword_lookalike_key_is_refused() -> None:
    document = {**_ob_credential(), "@foo": "bar"}
    with pytest.raises(CanonicalizationError, match="keyword"):
        canonicalize(document)


def test_undefined_type_is_refused() -> None:
    document = _ob_credential()
    document["type"] = [*document["type"], "MadeUpCredential"]
    with pytest.raises(CanonicalizationError, match="MadeUpCredential"):
        canonicalize(document)


@pytest.mark.parametrize("value", ["relative/path", "not an iri", "#fragment"])
def test_relative_or_invalid_iri_is_refused(value: str) -> None:
    document = {**_ob_credential(), "id": value}
    with pytest.raises(CanonicalizationError, match="absolute IRI"):
        canonicalize(document)


def test_unknown_context_raises_unknown_context_error() -> None:
    document = _ob_credential()
    document["@context"] = [*document["@context"], "https://evil.example/context.json"]
    with pytest.raises(UnknownContextError, match=r"evil\.example"):
        canonicalize(document)


def test_extra_documents_come_from_the_given_loader_only() -> None:
    url = "https://example.com/ctx/v1"
    document = {"@context": url, "@id": "urn:x", "thing": "value"}
    loader = make_loader({url: {"@context": {"thing": "https://example.com/vocab#thing"}}})
    assert canonicalize(document, loader=loader) == (
        '<urn:x> <https://example.com/vocab#thing> "value" .\n'
    )
    # pyld caches resolved contexts process-wide by URL; ours are cached per loader.
    with pytest.raises(UnknownContextError):
        canonicalize(document, loader=default_loader())


def test_plain_callable_loader_is_accepted() -> None:
    pinned = default_loader()
    document = _example("cross-stack-golden", "sample_unsigned.json")
    expected = _example("cross-stack-golden", "sample_unsigned.nq")
    assert canonicalize(document, loader=lambda url, options: pinned(url, options)) == expected


def _blank_node_chain(count: int) -> dict[str, Any]:
    node: dict[str, Any] = {"label": "leaf"}
    for index in range(count - 1):
        node = {"label": f"node {index}", "child": node}
    return {"@context": {"@vocab": "urn:example:"}, **node}


def test_blank_node_cap() -> None:
    assert canonicalize(_blank_node_chain(5), max_blank_nodes=5).count("_:c14n") > 0
    with pytest.raises(CanonicalizationError, match="6 blank nodes"):
        canonicalize(_blank_node_chain(6), max_blank_nodes=5)


def _count_expansions(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    to_rdf = canonicalize_module._to_rdf

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return to_rdf(*args, **kwargs)

    monkeypatch.setattr(canonicalize_module, "_to_rdf", counting)
    return calls


def test_blank_node_cap_is_checked_before_expansion(monkeypatch: pytest.MonkeyPatch) -> None:
    expansions = _count_expansions(monkeypatch)
    with pytest.raises(CanonicalizationError, match="at least 6 blank nodes"):
        canonicalize(_blank_node_chain(6), max_blank_nodes=5)
    assert expansions == []
    # The estimate never counts a named node, a value object or a context.
    named = {"@context": {"@vocab": "urn:x:"}, "@id": "urn:a", "v": {"@value": "x"}}
    assert estimate_blank_nodes(named) == 0
    assert estimate_blank_nodes({"@id": "urn:a", "l": {"@list": [1, 2, 3]}}) == 3  # list cells


def test_a_checkpoint_abandons_the_work() -> None:
    calls: list[int] = []

    def checkpoint() -> None:
        calls.append(1)
        if len(calls) > 3:
            raise Abandoned("out of time")

    with pytest.raises(Abandoned, match="out of time"):
        canonicalize(_example("cross-stack-golden", "sample_unsigned.json"), checkpoint=checkpoint)
    # A later canonicalization with the same loader is not harmed by the abandoned one.
    expected = _example("cross-stack-golden", "sample_unsigned.nq")
    assert canonicalize(_example("cross-stack-golden", "sample_unsigned.json")) == expected


def test_canonicalizer_canonicalizes_each_document_once(monkeypatch: pytest.MonkeyPatch) -> None:
    expansions = _count_expansions(monkeypatch)
    document = _example("cross-stack-golden", "sample_unsigned.json")
    canonicalizer = Canonicalizer(shapes="off")  # the pyld path only: each run is counted
    first = canonicalizer.canonicalize(document)
    assert canonicalizer.canonicalize(copy.deepcopy(document)) == first
    assert len(expansions) == 1
    other = {**document, "name": "another"}
    assert canonicalizer.canonicalize(other) != first  # another document, another form
    assert len(expansions) == 2
    broken = {**document, "undefinedTerm": 1}
    for _ in range(3):  # a failure is remembered too
        with pytest.raises(CanonicalizationError, match="undefined term"):
            canonicalizer.canonicalize(broken)
    assert len(expansions) == 3


def test_one_long_canonicalization_does_not_hold_up_another() -> None:
    # One lock per loader serialised every canonicalization behind the longest one (a
    # hostile credential's expansion stalled issuing). Here the first waits, mid-expansion,
    # for the second to finish; behind a shared lock the second could not start.
    document = _example("cross-stack-golden", "sample_unsigned.json")
    expected = canonicalize(document)  # warms the loader's caches
    inside, second_done = threading.Event(), threading.Event()
    calls: list[int] = []
    waited: list[bool] = []

    def hold() -> None:
        calls.append(1)
        if len(calls) == 2:  # the first call comes before expansion, the second inside it
            inside.set()
            waited.append(second_done.wait(timeout=10))

    first = threading.Thread(target=canonicalize, args=(document,), kwargs={"checkpoint": hold})
    first.start()
    assert inside.wait(timeout=10)
    assert canonicalize(document) == expected
    second_done.set()
    first.join()
    assert waited == [True]


def test_symmetric_blank_node_graph_is_refused() -> None:
    # A 4-clique of indistinguishable blank nodes: Hash N-Degree Quads would recurse
    # through every permutation. rdf-canonize refuses it too (maxWorkFactor 1).
    ids = [f"_:n{i}" for i in range(4)]
    graph = [{"@id": i, "linked": [{"@id": j} for j in ids if j != i]} for i in ids]
    with pytest.raises(CanonicalizationError, match="too symmetric"):
        canonicalize({"@context": {"@vocab": "urn:example:"}, "@graph": graph})


def test_identical_sibling_blank_nodes_are_fine() -> None:
    document = {
        "@context": {"@vocab": "urn:example:"},
        "@id": "urn:x",
        "part": [{"label": "same"}, {"label": "same"}],
    }
    assert canonicalize(document).count("_:c14n") == 4  # 2 nodes, each subject and object


@pytest.mark.parametrize("char", ["\b", "\f", "\x00", "\x1f", "\x7f"])
def test_control_characters_pyld_cannot_escape_are_refused(char: str) -> None:
    document = {**_ob_credential(), "name": f"a{char}b"}
    with pytest.raises(CanonicalizationError, match="control character"):
        canonicalize(document)


def test_tab_newline_and_quote_are_escaped() -> None:
    document = {"@context": {"@vocab": "urn:example:"}, "@id": "urn:x", "text": 'a\tb\nc"d\\'}
    assert canonicalize(document) == '<urn:x> <urn:example:text> "a\\tb\\nc\\"d\\\\" .\n'


def test_deeply_nested_document_is_refused_cleanly() -> None:
    document: dict[str, Any] = {"label": "leaf"}
    for n in range(5000):  # named nodes: the blank-node cap would refuse it before expansion
        document = {"@id": f"urn:n{n}", "child": document}
    document["@context"] = {"@vocab": "urn:example:"}
    with pytest.raises(CanonicalizationError, match="nested too deeply"):
        canonicalize(document)


def test_document_must_be_an_object() -> None:
    with pytest.raises(CanonicalizationError, match="JSON object"):
        canonicalize([{"@id": "urn:x"}])  # type: ignore[arg-type]  # not a dict: what is tested


# --- the context-processing memo ---------------------------------------------------------


def _reference_documents() -> list[Any]:
    root = reference("ob3", "examples")
    documents = []
    for path in sorted(root.rglob("*.json")):
        try:
            document = json.loads(path.read_text())
        except ValueError:
            continue
        if isinstance(document, dict):
            documents.append(document)
    return documents


def _outcome(document: dict[str, Any], *, memoize: bool) -> str:
    try:
        return canonicalize(document, memoize_contexts=memoize)
    except (CanonicalizationError, UnknownContextError) as exc:
        return f"{type(exc).__name__}: {exc}"


def test_context_memo_changes_no_output_on_the_official_examples() -> None:
    documents = _reference_documents()
    assert len(documents) > 50
    canonical = 0
    for document in documents:
        plain = _outcome(document, memoize=False)
        # Twice memoized: the second run is served from the memo.
        assert _outcome(document, memoize=True) == plain
        assert _outcome(document, memoize=True) == plain
        canonical += plain.endswith(" .\n")
    assert canonical > 40


def test_context_memo_serves_repeated_context_processing(monkeypatch: pytest.MonkeyPatch) -> None:
    document = _ob_credential()
    canonicalize(document)
    calls = []
    real = jsonld.JsonLdProcessor._process_context

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs.get("cycles"))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(jsonld.JsonLdProcessor, "_process_context", counting)
    canonicalize(document, memoize_contexts=False)
    unmemoized = len(calls)
    calls.clear()
    canonicalize(document)
    # Without the memo, every node's scoped contexts are processed again; with it, none is.
    assert unmemoized >= 3
    assert calls == []


def test_context_memo_is_bounded_against_inline_contexts() -> None:
    memo = canonicalize_module.ContextMemo(maxsize=8)
    processor = canonicalize_module._SafeProcessor(memo=memo)
    options = {
        "documentLoader": default_loader(),
        "base": None,
        "produceGeneralizedRdf": False,
        "contextResolver": ContextResolver({}, default_loader()),
    }
    for n in range(40):
        # A hostile verifier input: a new inline context every time.
        document = {"@context": {f"term{n}": f"https://example.org/{n}"}, f"term{n}": "x"}
        processor.to_rdf(document, dict(options))
        assert len(memo) <= 8


def test_context_memo_keys_inline_contexts_by_identity_not_by_id_reuse() -> None:
    memo = canonicalize_module.ContextMemo()
    active: frozendict[str, Any] = frozendict({"mappings": {}})
    first = {"a": "https://example.org/a"}
    refs: list[Any] = []
    key = ("k", canonicalize_module._local_context_key(first, refs))
    memo.put(key, active, tuple(refs), "processed")
    assert memo.get(key, active, tuple(refs)) == "processed"
    # Same key, another object (as when an id is reused): not served.
    assert memo.get(key, active, ({"a": "https://example.org/a"},)) is None
    assert memo.get(key, frozendict({"mappings": {}}), tuple(refs)) is None
