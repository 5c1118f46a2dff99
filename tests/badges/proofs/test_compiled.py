"""Compiled canonicalization (badges.proofs.compiled) against the pyld path: the same N-Quads,
the same signatures, the same errors, for our issuer's credentials with hostile values and for
the official examples; and the bounds on what gets compiled."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from badges.proofs import canonicalize as pyld_path
from badges.proofs import compiled, eddsa_rdfc_2022
from badges.proofs.canonicalize import CanonicalizationError, Canonicalizer
from badges.proofs.data_integrity import ProofError
from keys.multikey import decode_private_key
from keys.signer import from_private_key
from openbadges_schemas.loader import (
    CREDENTIALS_V2,
    EU_MICROCREDENTIAL_V1,
    OB_EXTENSIONS,
    OB_V3P0_CONTEXT_303,
    UnknownContextError,
    default_loader,
    make_loader,
)
from tests.support.present import present
from tests.support.reference import reference

BASE = "https://hub.example.org"
OB_SCHEMA = (
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
)
EU_SCHEMA = "https://w3id.org/skillshub/ns/eu-microcredential/v1/schema.json"
SIGNER = from_private_key(
    Ed25519PrivateKey.from_private_bytes(bytes(range(32))),
    verification_method="did:key:z6MkExample#z6MkExample",
)

# --- our issuer's credentials (badges.issuing.service.build_credential), every optional field


def our_credential(plan: dict[str, Any], value: Callable[[str], Any]) -> dict[str, Any]:  # noqa: C901
    """A credential shaped as our issuer builds it; `plan` picks the optional parts, `value`
    gives each value by kind ("text", "iri", "date", "number")."""
    ach_id = value("iri")
    issuer: dict[str, Any] = {
        "id": value("iri"),
        "type": ["Profile"],
        "name": value("text"),
        "url": value("iri"),
    }
    if plan["issuer_description"]:
        issuer["description"] = value("text")
    if plan["issuer_image"]:
        issuer["image"] = {"id": value("iri"), "type": "Image"}
    if plan["issuer_email"]:
        issuer["email"] = value("text")
    issuer["address"] = {"type": ["Address"], "addressCountryCode": value("text")}
    if plan["registration"]:
        issuer["otherIdentifier"] = [
            {"type": "IdentifierEntry", "identifier": value("text"), "identifierType": "identifier"}
        ]
    alignments = []
    for described, esco in plan["skills"]:
        alignment: dict[str, Any] = {
            "type": ["Alignment"],
            "targetName": value("text"),
            "targetUrl": value("iri"),
            "targetType": "ceasn:Competency",
        }
        if described:
            alignment["targetDescription"] = value("text")
        if esco:
            alignment["targetFramework"] = "ESCO"
            alignment["targetCode"] = value("text")
        alignments.append(alignment)
    for _ in range(plan["outcomes"]):
        alignments.append(
            {
                "type": ["Alignment"],
                "targetName": value("text"),
                "targetDescription": value("text"),
                "targetUrl": value("iri"),
                "targetType": "ext:LearningOutcome",
            }
        )
    for framework, kind in (("eqf", "ext:EQFLevel"), ("isced", "ext:ISCEDF")):
        if plan[framework]:
            alignments.append(
                {
                    "type": ["Alignment"],
                    "targetName": value("text"),
                    "targetUrl": value("iri"),
                    "targetFramework": value("text"),
                    "targetCode": value("text"),
                    "targetType": kind,
                }
            )

    def concept(known: bool) -> dict[str, Any]:
        if not known:
            return {"type": "Concept", "prefLabel": value("text")}
        return {
            "id": value("iri"),
            "type": "Concept",
            "prefLabel": value("text"),
            "inScheme": value("iri"),
        }

    eu: dict[str, Any] = {"type": "EUMicroCredential", "formOfParticipation": concept(True)}
    if plan["learning_setting"]:
        eu["learningSetting"] = concept(plan["concepts_known"])
    eu["assessmentType"] = concept(plan["concepts_known"])
    if plan["supervision"]:
        eu["supervisionAndIdentityCheck"] = concept(True)
    eu["qualityAssurance"] = concept(plan["concepts_known"])
    if plan["ects"]:
        eu["ectsCredits"] = value("number")
    if plan["workload"]:
        eu["workloadHours"] = value("number")
    if plan["prerequisites"]:
        eu["prerequisites"] = value("text")
    if plan["stackable"]:
        eu["stackableTowards"] = value("iri")
    achievement: dict[str, Any] = {
        "id": ach_id,
        "type": ["Achievement"],
        "achievementType": value("text"),
        "name": value("text"),
        "description": value("text"),
        "criteria": {"id": ach_id, "narrative": value("text")},
        "image": {"id": value("iri"), "type": "Image"},
    }
    if alignments:
        achievement["alignment"] = alignments
    achievement["euMicroCredential"] = eu
    if plan["isced"]:
        achievement["fieldOfStudy"] = value("text")
    if plan["language"]:
        achievement["inLanguage"] = value("text")
    grade_id = value("iri")
    if plan["grade"]:
        achievement["resultDescription"] = [
            {
                "id": grade_id,
                "type": ["ResultDescription"],
                "name": "Grade",
                "resultType": plan["result_type"],
            }
        ]
    subject: dict[str, Any] = {}
    if plan["subject_did"]:
        subject["id"] = value("iri")
    subject["type"] = ["AchievementSubject"]
    subject["identifier"] = [
        {
            "type": "IdentityObject",
            "identityHash": value("text"),
            "identityType": "emailAddress",
            "hashed": True,
            "salt": value("text"),
        },
        {
            "type": "IdentityObject",
            "identityHash": value("text"),
            "identityType": "name",
            "hashed": False,
        },
    ]
    subject["achievement"] = achievement
    if plan["grade"]:
        subject["result"] = [
            {"type": ["Result"], "resultDescription": grade_id, "value": value("text")}
        ]
    credential: dict[str, Any] = {
        "@context": [CREDENTIALS_V2, OB_V3P0_CONTEXT_303, OB_EXTENSIONS, EU_MICROCREDENTIAL_V1],
        "id": value("iri"),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": value("text"),
        "issuer": issuer,
        "validFrom": value("date"),
        "awardedDate": value("date"),
    }
    if plan["valid_until"]:
        credential["validUntil"] = value("date")
    credential["credentialSubject"] = subject
    credential["credentialSchema"] = [
        {"id": OB_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"},
        {"id": EU_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"},
    ]
    entries = [
        {
            "id": value("iri"),
            "type": "BitstringStatusListEntry",
            "statusPurpose": purpose,
            "statusListIndex": value("text"),
            "statusListCredential": value("iri"),
        }
        for purpose in ("revocation", "suspension")[: plan["status_entries"]]
    ]
    if entries:
        credential["credentialStatus"] = entries[0] if len(entries) == 1 else entries
    evidence: dict[str, Any] = {"id": value("iri")} if plan["evidence_url"] else {}
    evidence |= {
        "type": ["Evidence"],
        "name": "Evidence of learning",
        "narrative": value("text"),
        "genre": value("text"),
    }
    credential["evidence"] = [evidence]
    return credential


PLAN_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "issuer_description": st.booleans(),
    "issuer_image": st.booleans(),
    "issuer_email": st.booleans(),
    "registration": st.booleans(),
    "skills": st.lists(st.tuples(st.booleans(), st.booleans()), max_size=6),
    "outcomes": st.integers(0, 4),
    "eqf": st.booleans(),
    "isced": st.booleans(),
    "concepts_known": st.booleans(),
    "learning_setting": st.booleans(),
    "supervision": st.booleans(),
    "ects": st.booleans(),
    "workload": st.booleans(),
    "prerequisites": st.booleans(),
    "stackable": st.booleans(),
    "language": st.booleans(),
    "grade": st.booleans(),
    "result_type": st.sampled_from(["LetterGrade", "Percent", "ext:Grade"]),
    "subject_did": st.booleans(),
    "valid_until": st.booleans(),
    "status_entries": st.integers(0, 2),
    "evidence_url": st.booleans(),
}
plans = st.fixed_dictionaries(PLAN_FIELDS)

HOSTILE = [
    '"',
    "\\",
    '\\"',
    "\t",
    "\n",
    "\r",
    "\r\n",
    "\x01",
    "\x0b",
    "\x0c",
    "\x1f",
    "\x7f",
    "\x85",
    "\u2028",
    "\u2029",
    "\ufeff",
    "😀",
    "\U0001d518\U0001d52b\U0001d526",  # Fraktur, astral
    "\U0010ffff",
    "e\u0301",
    "{0}",
    "{",
    "}}",
    "\n0\n",
    "_:c14n0",
    "_:a",
    "<http://example.org/x>",
    ' .\n<a> <b> "c" .',
    "urn:x-skillshub-slot:0",
    "",
    " ",
]
texts = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=30),
    st.lists(st.sampled_from(HOSTILE), max_size=8).map("".join),
    st.builds(lambda part, times: part * times, st.sampled_from(HOSTILE[:20]), st.integers(1, 400)),
    st.builds(lambda n: "Lorem ipsum dolor sit amet. " * n, st.integers(50, 200)),
)
# Mostly IRIs the template takes; some that send it to the pyld path (which may refuse them).
plain_iris = st.builds(
    lambda scheme, path: scheme + path,
    st.sampled_from(["https://", "http://", "urn:uuid:", "did:key:", "did:web:", "urn:"]),
    st.text(
        st.characters(exclude_categories=("Cs", "Zs", "Cc"), exclude_characters='<>"{}|^`\\'),
        max_size=30,
    ),
)
odd_iris = st.sampled_from(
    [
        "relative/path",
        "",
        "_:b0",
        "ex:thing",
        "xsd:string",
        "HTTPS://EXAMPLE.ORG/",
        "https://example.org/a b",
        "https://example.org/\n",
        "mailto:ada@example.org",
        "did:key:z6Mk{0}",
        "https://example.org/<x>",
        "urn:x-skillshub-slot:3",
    ]
)
iris = st.one_of(plain_iris, plain_iris, plain_iris, odd_iris)
dates = st.one_of(
    st.sampled_from(["2026-12-05T06:00:00Z", "2026-01-01T00:00:00+14:00", "not a date"]), texts
)
numbers = st.one_of(
    st.integers(0, 10**6),
    st.floats(0, 1000, allow_nan=False).map(lambda f: round(f, 2)),
    st.sampled_from([5.0, 7.5, 0.0, 1e21, 2**70, 1e-7, 30.0]),
)
KINDS = {"text": texts, "iri": iris, "date": dates, "number": numbers}
# Three credentials in four hold only values a template takes (escapable text, plain IRIs):
# they test the filling; the fourth, anything (they test the hand-over to the pyld path).
_UNESCAPABLE = frozenset(map(chr, [*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F]))
fillable_texts = texts.map(lambda text: "".join(c for c in text if c not in _UNESCAPABLE))
FILLABLE = {
    "text": fillable_texts,
    "iri": plain_iris,
    "date": st.one_of(dates.map(lambda t: "".join(c for c in t if c not in _UNESCAPABLE))),
    "number": st.one_of(
        st.integers(0, 10**6), st.floats(0, 1000, allow_nan=False).map(lambda f: round(f, 2))
    ),
}


def _benign(kind: str, counter: Iterator[int]) -> Any:
    n = next(counter)
    return {
        "text": f"text {n}",
        "iri": f"https://hub.example.org/things/{n}",
        "date": "2026-12-05T06:00:00Z",
        "number": None,  # numbers: the same JSON type as the hostile one (set below)
    }[kind]


def _documents(plan: dict[str, Any], data: st.DataObject) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two credentials of one shape: benign values (to compile) and hostile ones (to fill)."""
    drawn: list[tuple[str, Any]] = []
    strategies = KINDS if data.draw(st.integers(0, 3), label="rough") == 0 else FILLABLE

    def hostile(kind: str) -> Any:
        found = data.draw(strategies[kind], label=kind)
        drawn.append((kind, found))
        return found

    hostile_document = our_credential(plan, hostile)
    counter = iter(range(10**6))
    values = iter(drawn)

    def benign(kind: str) -> Any:
        _, original = next(values)
        if kind == "number":
            return type(original)(3) if original == int(original) else 2.5
        return _benign(kind, counter)

    return our_credential(plan, benign), hostile_document


def _outcome(action: Callable[[], Any]) -> Any:
    try:
        return action()
    except (CanonicalizationError, UnknownContextError, ProofError) as exc:
        return f"{type(exc).__name__}: {exc}"


LOADER = make_loader()


@settings(
    max_examples=int(os.environ.get("SKILLSHUB_PROPERTY_EXAMPLES", "150")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(plan=plans, data=st.data())
def test_compiled_signing_is_byte_identical_to_the_pyld_path(
    plan: dict[str, Any], data: st.DataObject
) -> None:
    benign, hostile = _documents(plan, data)
    assert compiled.shape_of(benign) is not None
    assert present(compiled.shape_of(benign))[0] == present(compiled.shape_of(hostile))[0]
    # Issuance compiles the shape on the benign credential (its own output is pyld's) …
    compiled.canonical_nquads(benign, loader=LOADER, shapes="compile")
    found = present(compiled.templates_of(LOADER)).find(present(compiled.shape_of(hostile))[0])
    assert isinstance(found, compiled.Template)
    # … and the hostile one, of the same shape, is filled from the template.
    expected = _outcome(lambda: pyld_path.canonicalize(hostile, loader=LOADER))
    filled = found.fill(present(compiled.shape_of(hostile))[1])
    event("filled" if filled is not None else "handed to the pyld path")
    if filled is not None:
        assert filled == expected
    got = _outcome(lambda: compiled.canonical_nquads(hostile, loader=LOADER, shapes="reuse"))
    assert got == expected
    # The whole signing step: the same proof (Ed25519 is deterministic) or the same error.
    created = "2026-12-05T06:00:00Z"

    def sign(shapes: compiled.Shapes) -> Any:
        return _outcome(
            lambda: eddsa_rdfc_2022.create_proof(
                hostile, signer=SIGNER, created=created, loader=LOADER, shapes=shapes
            )
        )

    assert sign("compile") == sign("off")


FULL_PLAN = {
    **{name: True for name in PLAN_FIELDS if name != "result_type"},
    "skills": [(True, True), (False, False), (True, False)],
    "outcomes": 3,
    "result_type": "LetterGrade",
    "status_entries": 2,
}


def test_a_template_signs_our_credential_without_pyld(monkeypatch: pytest.MonkeyPatch) -> None:
    counter = iter(range(10**6))

    def values(suffix: str) -> Callable[[str], Any]:
        def value(kind: str) -> Any:
            if kind == "number":
                return 5.0
            found = _benign(kind, counter)
            return found + suffix if kind == "text" else found

        return value

    first = our_credential(FULL_PLAN, values(""))
    second = our_credential(FULL_PLAN, values(' "quoted" \\ tab\t é😀 \u2028 {0}'))
    loader = make_loader()
    created = "2026-12-05T06:00:00Z"
    eddsa_rdfc_2022.create_proof(first, signer=SIGNER, loader=loader, shapes="compile")
    expected = eddsa_rdfc_2022.create_proof(
        second, signer=SIGNER, loader=loader, created=created, shapes="off"
    )

    def refuse(*args: Any, **kwargs: Any) -> str:
        raise AssertionError("the pyld path ran")

    monkeypatch.setattr(pyld_path, "canonicalize", refuse)
    again = eddsa_rdfc_2022.create_proof(
        second, signer=SIGNER, loader=loader, created=created, shapes="reuse"
    )
    assert again == expected


# --- the official examples -----------------------------------------------------------------


def _reference_documents() -> list[dict[str, Any]]:
    root = reference("ob3", "examples")
    documents = []
    for path in sorted(root.rglob("*.json")):
        try:
            document = json.loads(path.read_text())
        except ValueError:
            continue
        if isinstance(document, dict):
            documents.append({k: v for k, v in document.items() if k != "proof"})
    return documents


def test_official_examples_compile_and_fill_to_the_pyld_output() -> None:
    loader = make_loader()
    filled = 0
    for document in _reference_documents():
        expected = _outcome(partial(pyld_path.canonicalize, document, loader=loader))
        first = _outcome(
            partial(compiled.canonical_nquads, document, loader=loader, shapes="compile")
        )
        second = _outcome(
            partial(compiled.canonical_nquads, document, loader=loader, shapes="reuse")
        )
        assert first == expected
        assert second == expected
        shape = compiled.shape_of(document)  # None for a document without a shape
        found = present(compiled.templates_of(loader)).find(shape[0]) if shape else None
        if shape and isinstance(found, compiled.Template) and found.fill(shape[1]) is not None:
            filled += 1
    assert filled > 40  # most compile; the rest (tied blank nodes, …) go to pyld


def test_w3c_vector_canonicalizes_and_signs_the_same_through_a_template() -> None:
    base = ("ob3", "examples", "w3c-vc-di-eddsa")
    unsigned = json.loads(reference(*base, "unsigned.json").read_text())
    config = json.loads(reference(*base, "eddsa-rdfc-2022", "proofConfigDataInt.json").read_text())
    canon_doc = reference(*base, "eddsa-rdfc-2022", "canonDocDataInt.txt").read_text()
    canon_proof = reference(*base, "eddsa-rdfc-2022", "proofCanonDataInt.txt").read_text()
    expected = json.loads(reference(*base, "eddsa-rdfc-2022", "signedDataInt.json").read_text())
    pair = json.loads(reference(*base, "keyPair.json").read_text())
    signer = from_private_key(
        decode_private_key(pair["privateKeyMultibase"]),
        verification_method=config["verificationMethod"],
    )
    loader = make_loader()
    for shapes in ("compile", "reuse"):
        assert compiled.canonical_nquads(unsigned, loader=loader, shapes=shapes) == canon_doc
        assert compiled.canonical_nquads(config, loader=loader, shapes=shapes) == canon_proof
        signed = eddsa_rdfc_2022.create_proof(
            unsigned,
            signer=signer,
            created=config["created"],
            proof_purpose=config["proofPurpose"],
            loader=loader,
            shapes=shapes,
        )
        assert signed == expected
    # Filled, not computed by pyld: the templates are there.
    templates = present(compiled.templates_of(loader))
    assert isinstance(templates.find(present(compiled.shape_of(unsigned))[0]), compiled.Template)


# --- what gets compiled ------------------------------------------------------------------


def _sample() -> dict[str, Any]:
    return json.loads(
        reference(
            "ob3",
            "examples",
            "ob3-spec-rendered",
            "02-sample-openbadgecredential",
            "credential.unsigned.json",
        ).read_text()
    )


def test_verification_compiles_a_shape_only_when_seen_again() -> None:
    loader = make_loader()
    document = _sample()
    templates = compiled.templates_of(loader)
    assert templates is not None
    compiled.canonical_nquads(document, loader=loader, shapes="reuse")
    assert len(templates) == 0
    compiled.canonical_nquads(document, loader=loader, shapes="repeated")
    assert len(templates) == 0  # seen once
    compiled.canonical_nquads({**document, "name": "other"}, loader=loader, shapes="repeated")
    assert len(templates) == 1


def test_hostile_shapes_cannot_grow_the_templates_without_bound() -> None:
    loader = make_loader()
    templates = compiled.templates_of(loader)
    assert templates is not None
    document = _sample()
    for n in range(compiled.MAX_LEARNED_TEMPLATES + 20):
        # A new shape each time (one more alignment), each seen twice.
        shaped = copy.deepcopy(document)
        shaped["credentialSubject"]["achievement"]["tag"] = ["x"] * (n + 1)
        for _ in range(2):
            canonicalizer = Canonicalizer()
            canonicalizer.canonicalize(shaped, loader=loader)
    assert len(templates) <= compiled.MAX_LEARNED_TEMPLATES


def test_loaders_that_may_change_get_no_templates() -> None:
    def plain(url: str, options: dict[str, Any]) -> dict[str, Any]:
        return default_loader()(url, options)

    assert compiled.templates_of(plain) is None
    document = _sample()
    assert compiled.canonical_nquads(document, loader=plain, shapes="compile") == (
        pyld_path.canonicalize(document)
    )


def test_inline_contexts_have_no_shape() -> None:
    document = {**_sample(), "@context": [CREDENTIALS_V2, {"kind": "@type"}]}
    assert compiled.shape_of(document) is None


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.__setitem__("id", "urn:uuid:a b"),  # refused by the pyld path
        lambda d: d.__setitem__("id", "ex:compact"),  # a compact IRI: the pyld path decides
        lambda d: d.__setitem__("name", "bell \x07"),  # a control character pyld refuses
    ],
)
def test_values_a_template_does_not_cover_go_to_the_pyld_path(
    change: Callable[[dict[str, Any]], None],
) -> None:
    loader = make_loader()
    document = _sample()
    compiled.canonical_nquads(document, loader=loader, shapes="compile")
    changed = copy.deepcopy(document)
    change(changed)
    shape = compiled.shape_of(changed)
    assert shape is not None
    found = present(compiled.templates_of(loader)).find(shape[0])
    assert isinstance(found, compiled.Template)
    assert found.fill(shape[1]) is None
    expected = _outcome(lambda: pyld_path.canonicalize(changed, loader=loader))
    assert _outcome(lambda: compiled.canonical_nquads(changed, loader=loader)) == expected


def test_tied_blank_nodes_go_to_the_pyld_path() -> None:
    loader = make_loader()
    document = _sample()
    document["credentialSubject"]["achievement"]["alignment"] = [
        {"type": ["Alignment"], "targetName": "a", "targetUrl": "https://example.org/a"},
        {"type": ["Alignment"], "targetName": "b", "targetUrl": "https://example.org/b"},
    ]
    compiled.canonical_nquads(document, loader=loader, shapes="compile")
    twins = copy.deepcopy(document)
    twins["credentialSubject"]["achievement"]["alignment"][1] = copy.deepcopy(
        twins["credentialSubject"]["achievement"]["alignment"][0]
    )
    shape = present(compiled.shape_of(twins))
    found = present(compiled.templates_of(loader)).find(shape[0])
    assert isinstance(found, compiled.Template)
    assert found.fill(shape[1]) is None
    assert compiled.canonical_nquads(twins, loader=loader) == pyld_path.canonicalize(
        twins, loader=loader
    )


def test_values_that_make_two_quads_equal_go_to_the_pyld_path() -> None:
    loader = make_loader()
    document = _sample()
    document["credentialSubject"]["achievement"]["tag"] = ["solar", "wind"]
    compiled.canonical_nquads(document, loader=loader, shapes="compile")
    twice = copy.deepcopy(document)
    twice["credentialSubject"]["achievement"]["tag"] = ["solar", "solar"]
    shape = present(compiled.shape_of(twice))
    found = present(compiled.templates_of(loader)).find(shape[0])
    assert isinstance(found, compiled.Template)
    assert found.fill(shape[1]) is None
    expected = pyld_path.canonicalize(twice, loader=loader)
    assert expected.count('"solar"') == 1
    assert compiled.canonical_nquads(twice, loader=loader) == expected


def test_running_out_of_time_while_compiling_still_gives_the_form() -> None:
    loader = make_loader()
    document = _sample()
    expected = pyld_path.canonicalize(document, loader=loader)
    calls = 0

    def checkpoint() -> None:
        # The document's own canonicalization passes; the compile runs out of time.
        nonlocal calls
        calls += 1
        if calls > checkpoints_of_one_run:
            raise pyld_path.Abandoned

    checkpoints_of_one_run = 0

    def counting() -> None:
        nonlocal checkpoints_of_one_run
        checkpoints_of_one_run += 1

    pyld_path.canonicalize(document, loader=loader, checkpoint=counting)
    got = compiled.canonical_nquads(
        document, loader=loader, shapes="compile", checkpoint=checkpoint
    )
    assert got == expected
    shape = present(compiled.shape_of(document))
    assert present(compiled.templates_of(loader)).find(shape[0]) is None


def test_a_shape_whose_blank_nodes_tie_is_not_compiled(monkeypatch: pytest.MonkeyPatch) -> None:
    loader = make_loader()
    document = _sample()
    alignment = {"type": ["Alignment"], "targetName": "a", "targetUrl": "https://example.org/a"}
    document["credentialSubject"]["achievement"]["alignment"] = [alignment, dict(alignment)]
    runs = []
    real = pyld_path._to_rdf

    def counting(*args: Any, **kwargs: Any) -> Any:
        runs.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(pyld_path, "_to_rdf", counting)
    expected = pyld_path.canonicalize(document, loader=loader)
    assert pyld_path.used_deep_hashing()
    runs.clear()
    assert compiled.canonical_nquads(document, loader=loader, shapes="compile") == expected
    assert len(runs) == 1  # the document's own canonicalization; no sentinel runs
    shape = present(compiled.shape_of(document))
    assert present(compiled.templates_of(loader)).find(shape[0]) == "uncompilable"
