"""The project's table of controlled values agrees with the EU controlled vocabularies."""

from __future__ import annotations

import csv

import pytest

from catalogue import vocabularies
from tests.support.reference import reference


@pytest.fixture(scope="module")
def official() -> dict[str, tuple[str, str]]:
    """concept IRI -> (scheme IRI, English label), from the ELM controlled-vocabularies extract."""
    path = reference("elm", "vocabularies", "controlled-vocabularies.csv")
    with path.open(encoding="utf-8", newline="") as f:
        return {r["concept_iri"]: (r["scheme_iri"], r["pref_label_en"]) for r in csv.DictReader(f)}


@pytest.mark.parametrize("key", sorted(vocabularies.SCHEMES))
def test_every_supported_value_is_an_official_concept(
    key: str, official: dict[str, tuple[str, str]]
) -> None:
    scheme = vocabularies.SCHEMES[key]
    assert scheme.concepts
    for concept in scheme.concepts:
        assert concept.iri in official, concept
        scheme_iri, label = official[concept.iri]
        assert (concept.scheme_iri, concept.label) == (scheme_iri, label), concept


def test_every_eqf_and_isced_f_concept_is_supported(official: dict[str, tuple[str, str]]) -> None:
    for scheme_key in ("eqf", "isced-f"):
        scheme = vocabularies.SCHEMES[scheme_key]
        listed = {iri for iri, (s, _label) in official.items() if s == scheme.iri}
        assert {c.iri for c in scheme.concepts} == listed


def test_lookup_by_code_or_iri() -> None:
    by_code = vocabularies.concept("language", "en")
    assert by_code.iri == "http://publications.europa.eu/resource/authority/language/ENG"
    assert vocabularies.concept("language", by_code.iri) == by_code
    assert vocabularies.concept("country", "de").iri.endswith("/country/DEU")
    assert vocabularies.concept("eqf", 8).iri == "http://data.europa.eu/snb/eqf/8"
    for scheme, value in (("eqf", 9), ("eqf", 0), ("mode", "telepathic"), ("nope", "x")):
        with pytest.raises(vocabularies.UnknownConcept):
            vocabularies.concept(scheme, value)
    assert vocabularies.check_achievement_type("ext:Microcertificate") == "ext:Microcertificate"
    with pytest.raises(vocabularies.UnknownConcept):
        vocabularies.check_achievement_type("Trophy")
