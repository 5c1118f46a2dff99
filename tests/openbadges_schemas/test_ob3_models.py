import json
from datetime import UTC, datetime
from typing import Any

import pytest
from jsonschema import Draft201909Validator, Draft202012Validator
from pydantic import ValidationError

from openbadges_schemas import generate_schemas
from openbadges_schemas.ob3 import (
    OB_CONTEXT,
    OB_EXTENSIONS_CONTEXT,
    VC_V2_CONTEXT,
    Achievement,
    AchievementCredential,
    AchievementSubject,
    Address,
    Alignment,
    BitstringStatusListEntry,
    CredentialSchema,
    CredentialStatus,
    Criteria,
    DataIntegrityProof,
    EndorsementCredential,
    EndorsementSubject,
    Evidence,
    GeoCoordinates,
    IdentifierEntry,
    IdentityObject,
    Image,
    OpenBadgeCredential,
    Profile,
    Result,
    ResultDescription,
    RubricCriterionLevel,
    StructureIssue,
    validate_structure,
)
from tests.support.present import present
from tests.support.reference import REFERENCE, reference

SPEC_EXAMPLES = [
    "01-sample-openbadgecredential-file-contents",
    "02-sample-openbadgecredential",
    "03-complete-openbadgecredential",
    "04-sample-endorsementcredential",
    "05-achievement-alignment-case",
    "06-achievement-alignment-credential-engine",
    "07-skill-assertion-case",
    "08-skill-assertion-credential-registry",
]
VALIDATOR = ("ob3", "examples", "1edtech-validator-ob30")


def load(*parts: str) -> dict[str, Any]:
    return json.loads(reference(*parts).read_text())


def model_for(doc: dict[str, Any]) -> type[AchievementCredential | EndorsementCredential]:
    types = doc["type"] if isinstance(doc["type"], list) else [doc["type"]]
    return EndorsementCredential if "EndorsementCredential" in types else AchievementCredential


def formal_validator(kind: str) -> Draft201909Validator:
    schema = load("ob3", "schemas", "1edtech-gh-pages-2024-07", f"{kind}.json")
    return Draft201909Validator(schema)


def compact(node: Any) -> Any:
    """JSON-LD's view: a one-element array is the same as its element."""
    if isinstance(node, list):
        items = [compact(item) for item in node]
        return items[0] if len(items) == 1 else items
    if isinstance(node, dict):
        return {key: compact(value) for key, value in node.items()}
    return node


# ── parsing and round trips ────────────────────────────────────────────────


@pytest.mark.parametrize("example", SPEC_EXAMPLES)
@pytest.mark.parametrize(
    "variant", ["credential.unsigned.json", "credential.signed-eddsa-rdfc-2022.json"]
)
def test_spec_examples_round_trip_exactly(example, variant):
    doc = load("ob3", "examples", "ob3-spec-rendered", example, variant)
    parsed = model_for(doc).from_jsonld(doc)
    assert parsed.to_jsonld() == doc
    assert validate_structure(doc) == []


def test_spec_examples_parse_into_the_typed_classes():
    doc = load("ob3", "examples", "ob3-spec-rendered", SPEC_EXAMPLES[2], "credential.unsigned.json")
    credential = OpenBadgeCredential.from_jsonld(doc)
    subject = credential.credential_subject
    assert isinstance(credential.issuer, Profile)
    description = present(subject.achievement.result_description)[1]
    assert isinstance(present(description.rubric_criterion_level)[0], RubricCriterionLevel)
    assert isinstance(present(subject.identifier)[0], IdentityObject)
    assert isinstance(present(credential.issuer.address).geo, GeoCoordinates)
    assert isinstance(present(credential.endorsement)[0], EndorsementCredential)
    assert subject.credits_earned == 42.0 and isinstance(subject.credits_earned, float)
    status = credential.credential_status
    assert isinstance(status, CredentialStatus) and status.type == "1EdTechRevocationList"


@pytest.mark.parametrize(
    "name",
    [
        "credential-status-revoked.json",
        "simple-did-web-method.json",
        "simple-err-proof-method.json",
    ],
)
def test_single_values_are_accepted_and_emitted_as_arrays(name):
    """The only normalisation: single values become the formal schema's arrays."""
    doc = load(*VALIDATOR, name)
    out = AchievementCredential.from_jsonld(doc).to_jsonld()
    assert out != doc
    assert compact(out) == compact(doc)
    assert isinstance(out["proof"], list)
    if doc["@context"][0] == VC_V2_CONTEXT:  # the formal schema is VC 2.0 only
        validator = formal_validator("achievementcredential")
        assert not validator.is_valid(doc)  # it wants arrays ...
        assert list(validator.iter_errors(out)) == []  # ... which the output has


def test_bitstring_status_entry_and_index_kept_as_given():
    doc = load(*VALIDATOR, "bit-string-list", "credential-status-revoked.json")
    credential = AchievementCredential.from_jsonld(doc)
    assert isinstance(credential.credential_status, BitstringStatusListEntry)
    assert credential.credential_status.status_list_index == 23  # a JSON number in the fixture
    assert credential.to_jsonld()["credentialStatus"] == doc["credentialStatus"]


def test_numbers_keep_their_json_type():
    # JSON-LD maps 42 and 42.0 to different literals, so a proof depends on the difference.
    doc = load("ob3", "examples", "ob3-spec-rendered", SPEC_EXAMPLES[1], "credential.unsigned.json")
    for value in (42, 42.0):
        doc["credentialSubject"]["creditsEarned"] = value
        out = AchievementCredential.from_jsonld(doc).to_jsonld()
        assert type(out["credentialSubject"]["creditsEarned"]) is type(value)
    doc["credentialSubject"]["creditsEarned"] = True
    assert validate_structure(doc) == [
        StructureIssue("/credentialSubject/creditsEarned", "must be a number")
    ]


def test_extension_properties_and_snake_case_keys_are_kept_verbatim():
    doc = load("ob3", "examples", "ob3-spec-rendered", SPEC_EXAMPLES[1], "credential.unsigned.json")
    doc["valid_from"] = "not a field name in JSON"
    doc["credentialSubject"]["achievement"]["ext:skillLevel"] = {"level": 3}
    credential = AchievementCredential.from_jsonld(doc)
    assert credential.valid_from == "2010-01-01T00:00:00Z"
    assert credential.to_jsonld() == doc


# ── building ───────────────────────────────────────────────────────────────

ISSUER = Profile(
    id="https://skills.example/issuers/1",
    name="Example Training Centre",
    url="https://skills.example",
    email="badges@skills.example",
    image=Image(id="https://skills.example/logo.png", caption="logo"),
    address=Address(address_country_code="DE", geo=GeoCoordinates(latitude=52.5, longitude=13.4)),
    other_identifier=[IdentifierEntry(identifier="DE123", identifier_type="ext:VATNumber")],
)


def build_credential(**overrides: Any) -> AchievementCredential:
    # Any: a datetime is accepted where the model types the field as its text (valid_from too).
    start: Any = datetime(2026, 3, 1, tzinfo=UTC)
    achievement = Achievement(
        id="https://skills.example/achievements/welding-1",
        name="Welding basics",
        description="Safe MIG welding of thin steel.",
        criteria=Criteria(narrative="Pass the practical assessment."),
        achievement_type="MicroCredential",
        credits_available=2.5,
        in_language="en",
        tag=["welding"],
        alignment=[
            Alignment(
                target_name="welding",
                target_url="http://data.europa.eu/esco/skill/example",
                target_type="ext:ESCOSkill",
                target_framework="ESCO",
            )
        ],
        result_description=[
            ResultDescription(
                id="urn:uuid:6b0e0f4e-0000-4000-8000-000000000001",
                name="Grade",
                result_type="LetterGrade",
                allowed_value=["A", "B", "C"],
                rubric_criterion_level=[
                    RubricCriterionLevel(
                        id="urn:uuid:6b0e0f4e-0000-4000-8000-000000000002", name="Mastery"
                    )
                ],
            )
        ],
    )
    subject = AchievementSubject(
        identifier=[
            IdentityObject(
                hashed=True,
                identity_hash="sha256$b5809d8a92f8858436d7e6b87c12ebc0ae1eac4baecc2c0b913aee2c922ef399",
                identity_type="emailAddress",
                salt="Kosher",
            )
        ],
        achievement=achievement,
        result=[
            Result(result_description="urn:uuid:6b0e0f4e-0000-4000-8000-000000000001", value="A")
        ],
        credits_earned=2.5,
        activity_start_date=start,
    )
    fields: dict[str, Any] = {
        "id": "urn:uuid:3f9a1c2e-0000-4000-8000-000000000003",
        "name": "Welding basics",
        "issuer": ISSUER,
        "valid_from": datetime(2026, 3, 2, 12, 0, tzinfo=UTC),
        "credential_subject": subject,
        "evidence": [Evidence(name="Practical test report")],
        "credential_status": BitstringStatusListEntry(
            id="https://skills.example/status/1#94567",
            status_purpose="revocation",
            status_list_index="94567",
            status_list_credential="https://skills.example/status/1",
        ),
        "proof": [
            DataIntegrityProof(
                cryptosuite="eddsa-rdfc-2022",
                created="2026-03-02T12:00:00Z",
                verification_method="did:web:skills.example#key-1",
                proof_purpose="assertionMethod",
                proof_value="z3FXQ...",
            )
        ],
    }
    return AchievementCredential(**(fields | overrides))


def test_built_credential_validates_against_the_formal_schema():
    out = build_credential().to_jsonld()
    assert list(formal_validator("achievementcredential").iter_errors(out)) == []
    assert validate_structure(out) == []
    assert out["@context"] == [VC_V2_CONTEXT, OB_CONTEXT]
    assert out["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert out["validFrom"] == "2026-03-02T12:00:00Z"
    assert out["issuer"]["type"] == ["Profile"] and out["issuer"]["image"]["type"] == "Image"
    assert out["credentialSubject"]["activityStartDate"] == "2026-03-01T00:00:00Z"
    assert out["credentialSubject"]["identifier"][0]["type"] == "IdentityObject"
    assert out["proof"][0]["type"] == "DataIntegrityProof"
    assert "salt" not in out["issuer"] and None not in out.values()


def test_1edtech_terms_add_the_extensions_context():
    schema = CredentialSchema(
        id="https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json",
        type="1EdTechJsonSchemaValidator2019",
    )
    out = build_credential(credential_schema=[schema]).to_jsonld()
    assert out["@context"] == [VC_V2_CONTEXT, OB_CONTEXT, OB_EXTENSIONS_CONTEXT]
    assert out["credentialSchema"] == [schema.to_jsonld()]
    assert list(formal_validator("achievementcredential").iter_errors(out)) == []


def test_explicit_context_is_kept():
    context = [VC_V2_CONTEXT, "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json"]
    assert build_credential(context=context).to_jsonld()["@context"] == context


def test_built_endorsement_and_profile_validate_against_the_formal_schemas():
    endorsement = EndorsementCredential(
        id="urn:uuid:3f9a1c2e-0000-4000-8000-000000000004",
        name="Chamber endorsement",
        issuer="did:web:chamber.example",
        valid_from="2026-01-01T00:00:00Z",
        credential_subject=EndorsementSubject(
            id=ISSUER.id, endorsement_comment="Accredited training centre"
        ),
    )
    out = endorsement.to_jsonld()
    assert out["type"] == ["VerifiableCredential", "EndorsementCredential"]
    assert list(formal_validator("endorsementcredential").iter_errors(out)) == []
    profile = ISSUER.model_copy(update={"endorsement": [endorsement]}).to_jsonld()
    assert list(formal_validator("profile").iter_errors(profile)) == []


def test_building_rejects_what_ob3_forbids():
    with pytest.raises(ValidationError, match="criteria"):
        Achievement.model_validate({"id": "urn:x", "name": "n", "description": "d"})
    with pytest.raises(ValidationError, match="type must include 'Profile'"):
        Profile(id="urn:x", type=["Organization"])
    with pytest.raises(ValidationError, match="'id' or at least one 'identifier'"):
        AchievementSubject(achievement=build_credential().credential_subject.achievement)
    with pytest.raises(ValidationError, match="timezone"):
        build_credential(valid_from=datetime(2026, 3, 2))
    with pytest.raises(ValidationError, match="validFrom is required"):
        build_credential(valid_from=None)
    with pytest.raises(ValidationError, match="AchievementType"):
        Achievement(
            id="urn:x", name="n", description="d", criteria=Criteria(), achievement_type="Thing"
        )


# ── structural validation against the 1EdTech verdicts ─────────────────────


def official_errors(doc: dict[str, Any]) -> list[Any]:
    """The formal schema's errors, ignoring single values where it wants arrays.

    The formal schema is strict JSON; JSON-LD (and the 1EdTech "JSON-LD Schema adaptation")
    accepts a single value for an array. An error is only about that when wrapping the
    value in an array satisfies the same subschema.
    """
    validator = formal_validator(
        "endorsementcredential"
        if model_for(doc) is EndorsementCredential
        else "achievementcredential"
    )

    def real(errors: list[Any]) -> list[Any]:
        kept = []
        for error in errors:
            if error.validator in ("oneOf", "anyOf"):
                branches: dict[int, list[Any]] = {i: [] for i in range(len(error.validator_value))}
                for sub in error.context:
                    branches[sub.relative_schema_path[0]].append(sub)
                if any(not real(b) for b in branches.values()):
                    continue
            elif (
                error.validator == "type"
                and error.validator_value == "array"
                and validator.evolve(schema=error.schema).is_valid([error.instance])
            ):
                continue
            kept.append(error)
        return kept

    return real(list(validator.iter_errors(doc)))


def official_paths(errors: list[Any]) -> set[str]:
    paths = set()
    for error in errors:
        base = "".join(f"/{p}" for p in error.absolute_path)
        if error.validator == "required":
            paths |= {f"{base}/{p}" for p in error.validator_value if p not in error.instance}
        else:
            paths.add(base)
    return paths


def related(a: str, b: str) -> bool:
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


def vc2_fixtures() -> list[str]:
    folder = REFERENCE.joinpath(*VALIDATOR)
    if not folder.exists():
        # One test that asks for the folder, so its absence is reported, not an empty set.
        return ["(reference folder missing)"]
    return sorted(
        p.name
        for p in folder.glob("*.json")
        if json.loads(p.read_text())["@context"][0] == VC_V2_CONTEXT
    )


@pytest.mark.parametrize("name", vc2_fixtures())
def test_validate_structure_agrees_with_the_formal_schema(name):
    doc = load(*VALIDATOR, name)
    ours = {issue.path for issue in validate_structure(doc)}
    theirs = official_paths(official_errors(doc))
    assert bool(ours) == bool(theirs)
    assert all(any(related(o, t) for t in theirs) for o in ours), (ours, theirs)
    assert all(any(related(t, o) for o in ours) for t in theirs), (ours, theirs)


STRUCTURAL_ERRORS = {
    "simple-err-context.json": "/@context",
    "simple-err-credential-subject-achievement-result-description-type.json": (
        "/credentialSubject/achievement/resultDescription/2/type"
    ),
    "simple-err-credential-subject-identifier-type.json": "/credentialSubject/identifier/0/type",
    "simple-err-credential-subject-profile-type.json": "/credentialSubject/source/type",
    "simple-err-credential-subject-result-type.json": "/credentialSubject/result/1/type",
    "simple-err-credential-subject-type.json": "/credentialSubject/type",
    "simple-err-evidence-type.json": "/evidence/1/type",
    "simple-err-issuer-otheridentifier-type.json": "/issuer/otherIdentifier/1/type",
    "simple-err-issuer-parentorg-type.json": "/issuer/parentOrg/type",
    "simple-err-issuer-type.json": "/issuer/type",
    "simple-err-issuer.json": "/issuer",
    "simple-err-type.json": "/type",
    # Expected invalid for its validFrom in the future; the file also lacks an achievement.
    "simple-err-issued.json": "/credentialSubject/achievement",
}
# Invalid for the 1EdTech validator because of the proof or the clock, not the structure.
NOT_STRUCTURAL = [
    "simple-err-expired.json",
    "simple-err-proof-method.json",
    "simple-err-proof-method-no-scheme.json",
    "simple-err-proof-method-unknown-did-method.json",
    "simple-err-proof-method-unknown-scheme.json",
    "simple-err-proof-value.json",
]
VALID = [
    "simple.json",
    "complete.json",
    "simple.1ob.json",
    "simple-context-alias.json",
    "simple-context-version.json",
    "simple-did-key-method.json",
    "simple-did-web-method.json",
    "simple-multiple-proofs.json",
    "endorsement-valid.json",
    "endorsement-err-schema-status-refresh.json",  # fails on fetching schema/status/refresh
    # VC 1.1 (the validator warns, it does not fail)
    "simple_v1.json",
    "simple-eddsa-2022.json",
    "credential-status-revoked.json",
]


@pytest.mark.parametrize("name, path", sorted(STRUCTURAL_ERRORS.items()))
def test_structural_error_fixtures_are_flagged_where_broken(name, path):
    issues = validate_structure(load(*VALIDATOR, name))
    assert path in {issue.path for issue in issues}


@pytest.mark.parametrize("name", NOT_STRUCTURAL + VALID)
def test_structurally_sound_fixtures_are_clean(name):
    assert validate_structure(load(*VALIDATOR, name)) == []


def test_every_simple_err_fixture_is_classified():
    names = {p.name for p in reference(*VALIDATOR).glob("simple-err-*.json")}
    assert names == set(STRUCTURAL_ERRORS) | set(NOT_STRUCTURAL)


def test_vc11_rules():
    doc = load(*VALIDATOR, "simple_v1.json")
    del doc["issuanceDate"]
    assert {i.path for i in validate_structure(doc)} == {"/issuanceDate"}
    vc11_complete = validate_structure(load(*VALIDATOR, "complete_v1.json"))
    # identityType "email" is not in the IdentifierType vocabulary (the formal schema agrees)
    assert "/credentialSubject/identifier/0/identityType" in {i.path for i in vc11_complete}


def test_issue_messages_speak_ob3():
    doc = load(*VALIDATOR, "simple.json")
    doc["credentialSubject"] = [doc["credentialSubject"], doc["credentialSubject"]]
    doc["issuer"]["type"] = "Organization"
    del doc["validFrom"]
    messages = {(i.path, i.message) for i in validate_structure(doc)}
    assert messages == {
        ("/validFrom", "validFrom is required by Open Badges 3.0 (VC 2.0 makes it optional)"),
        ("/issuer/type", "type must include 'Profile'"),
        ("/credentialSubject", "must be a single value, not an array of 2"),
    }
    assert validate_structure([]) == [StructureIssue("", "a credential must be a JSON object")]


# ── generated JSON Schemas ─────────────────────────────────────────────────


def test_committed_json_schemas_are_up_to_date():
    committed = {p.name: p.read_text() for p in generate_schemas.SCHEMA_DIR.glob("*.json")}
    assert committed == generate_schemas.render(), (
        "run: python -m openbadges_schemas.generate_schemas"
    )


def generated_validator(name: str) -> Draft202012Validator:
    schema = json.loads((generate_schemas.SCHEMA_DIR / name).read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@pytest.mark.parametrize("example", SPEC_EXAMPLES)
def test_spec_examples_validate_against_our_schemas(example):
    doc = load("ob3", "examples", "ob3-spec-rendered", example, "credential.unsigned.json")
    name = (
        "endorsementcredential.json"
        if model_for(doc) is EndorsementCredential
        else "achievementcredential.json"
    )
    assert list(generated_validator(name).iter_errors(doc)) == []


def test_our_schema_accepts_what_we_build_and_rejects_broken_credentials():
    validator = generated_validator("achievementcredential.json")
    out = build_credential().to_jsonld()
    assert list(validator.iter_errors(out)) == []
    del out["credentialSubject"]["achievement"]["criteria"]
    out["type"] = ["VerifiableCredential"]
    assert {e.validator for e in validator.iter_errors(out)} == {"required", "contains"}


def test_profile_schema_file_covers_profiles():
    profile = ISSUER.to_jsonld()
    assert list(generated_validator("profile.json").iter_errors(profile)) == []
    assert not generated_validator("profile.json").is_valid({"id": "urn:x", "type": ["Person"]})
