"""Pinned JSON-LD contexts: byte-identical to the official copies, and served offline only."""

from __future__ import annotations

import hashlib
import json
from importlib import resources

import pytest

from openbadges_schemas import loader as loader_module
from openbadges_schemas.loader import (
    OWN_CONTEXTS,
    PINNED_CONTEXTS,
    PINNED_URLS,
    UnknownContextError,
    default_loader,
    make_loader,
    pinned_bytes,
)
from tests.support.reference import reference

CONTEXTS = resources.files("openbadges_schemas.contexts")
# In the official set but not pinned: no registry package publishes them.
UNPINNED_OFFICIAL = {
    "https://w3id.org/security/jwk/v1",
    "https://www.w3.org/2018/credentials/examples/v1",
}


def _manifest() -> list[dict]:
    return json.loads(CONTEXTS.joinpath("manifest.json").read_text())


def _official_index() -> dict[str, str]:
    return json.loads(reference("ob3", "contexts", "index.json").read_text())


def test_manifest_sha256_matches_each_file() -> None:
    for entry in _manifest():
        data = CONTEXTS.joinpath(entry["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["file"]
        assert entry["source"], entry["url"]


def test_every_context_file_is_in_the_manifest() -> None:
    files = {p.name for p in CONTEXTS.iterdir() if p.name.endswith((".json", ".jsonld"))}
    assert files - {"manifest.json"} == {entry["file"] for entry in _manifest()}


@pytest.mark.parametrize("url", sorted(PINNED_URLS - OWN_CONTEXTS))
def test_pinned_document_is_byte_identical_to_the_official_copy(url: str) -> None:
    official = reference("ob3", "contexts", _official_index()[url]).read_bytes()
    assert pinned_bytes(url) == official


def test_only_contexts_without_a_registry_source_are_left_unpinned() -> None:
    assert set(_official_index()) - PINNED_URLS == UNPINNED_OFFICIAL
    assert not OWN_CONTEXTS & set(_official_index())


def test_url_constants_are_pinned() -> None:
    constants = {
        value
        for name, value in vars(loader_module).items()
        if name.isupper() and isinstance(value, str) and value.startswith("https://")
    }
    assert len(constants) >= 15
    assert constants <= PINNED_URLS


def test_loader_serves_the_pinned_json() -> None:
    for url, entry in PINNED_CONTEXTS.items():
        remote = default_loader()(url, {})
        assert remote["documentUrl"] == url
        assert remote["document"] == json.loads(CONTEXTS.joinpath(entry.file).read_bytes())


def test_loader_hands_out_copies() -> None:
    url = loader_module.CREDENTIALS_V2
    first = default_loader()(url, {})
    first["document"]["@context"]["id"] = "tampered"
    assert default_loader()(url, {})["document"]["@context"]["id"] == "@id"


def test_unknown_url_is_an_error_never_a_fetch() -> None:
    with pytest.raises(UnknownContextError) as info:
        default_loader()("https://example.com/context.json", {})
    assert info.value.url == "https://example.com/context.json"
    assert "not pinned" in str(info.value)
    with pytest.raises(UnknownContextError):
        pinned_bytes("https://example.com/context.json")


def test_extra_documents_are_served_by_their_loader_only() -> None:
    extra_url = "https://example.com/extra/v1"
    extra = {"@context": {"thing": "https://example.com/thing"}}
    with_extra = make_loader({extra_url: extra})
    assert with_extra(extra_url, {})["document"] == extra
    assert with_extra(loader_module.OB_V3P0_CONTEXT_303, {})["document"]["@context"]
    with pytest.raises(UnknownContextError):
        default_loader()(extra_url, {})


def test_extra_documents_cannot_replace_a_pinned_one() -> None:
    with pytest.raises(ValueError, match="pinned"):
        make_loader({loader_module.CREDENTIALS_V2: {"@context": {}}})
    same = json.loads(pinned_bytes(loader_module.CREDENTIALS_V2))
    assert make_loader({loader_module.CREDENTIALS_V2: same})(loader_module.CREDENTIALS_V2, {})
