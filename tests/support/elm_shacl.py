"""The official EDC SHACL shapes, loaded once per test session, and a validator over them.

`EDC-generic-no-cv.ttl` + `EDC-generic-full.ttl` together, with `owl:imports` removed (the
full profile imports the other by URL). JSON-LD goes to RDF with pyld over the pinned
contexts plus the ELM context from shared/reference (it is not published in any registry
package, so it is not pinned).
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from pyld import jsonld
from rdflib import OWL, BNode, Graph, Literal, URIRef
from rdflib.namespace import SH

from openbadges_schemas.elm import EDC_AP_CONTEXT
from openbadges_schemas.loader import PinnedDocumentLoader, make_loader
from tests.support.reference import reference


@cache
def shapes() -> Graph:
    graph = Graph()
    for name in ("EDC-generic-no-cv.ttl", "EDC-generic-full.ttl"):
        graph.parse(reference("elm", "shacl", name), format="turtle")
    graph.remove((None, OWL.imports, None))
    return graph


@cache
def loader() -> PinnedDocumentLoader:
    context = json.loads(reference("elm", "context", "edc-ap-context.jsonld").read_text())
    return make_loader({EDC_AP_CONTEXT: context})


def to_graph(document: dict[str, Any]) -> Graph:
    """The document's default graph as rdflib triples (pyld's dataset, no text round trip)."""
    dataset = jsonld.to_rdf(document, {"documentLoader": loader()})
    graph = Graph()
    for triple in dataset.get("@default", []):
        subject, predicate, object_ = (_term(triple[p]) for p in ("subject", "predicate", "object"))
        graph.add((subject, predicate, object_))
    return graph


def _term(node: dict[str, str]) -> URIRef | BNode | Literal:
    if node["type"] == "IRI":
        return URIRef(node["value"])
    if node["type"] == "blank node":
        return BNode(node["value"][2:])
    if node.get("language"):
        return Literal(node["value"], lang=node["language"])
    return Literal(node["value"], datatype=URIRef(node["datatype"]))


def validate(credential: dict[str, Any]) -> tuple[bool, set[str], str]:
    """(conforms, the local names of every failing property path, the report text)."""
    import pyshacl

    data = to_graph(credential)
    conforms, results, text = pyshacl.validate(
        data, shacl_graph=shapes(), advanced=True, inference="none"
    )
    paths = {
        str(p).rsplit("/", 1)[-1].rsplit("#", 1)[-1] for p in results.objects(None, SH.resultPath)
    }
    return bool(conforms), paths, str(text)
