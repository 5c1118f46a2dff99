"""The award -> ELM EDC mapping against the official SHACL shapes (no database needed)."""

from __future__ import annotations

import copy
import dataclasses
import json
from datetime import UTC, datetime

import pytest

from badges.europass import EuropassIncomplete
from badges.europass.export import Award, SealIdentity, Source, build_credential, uploadable_form
from catalogue.models import Course, MicroCredential, Organisation
from catalogue.schemas import LearningOutcomeOut, SkillRef
from openbadges_schemas.elm import EuropeanDigitalCredential
from tests.support.elm_shacl import validate
from tests.support.reference import reference

ESCO = "http://data.europa.eu/esco/skill/"
ISSUED = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def make_source(**changes) -> Source:
    mc = MicroCredential(
        id=1,
        course_id=1,
        slug="hv-safety",
        title="High-voltage safety for battery electric vehicles",
        description="Work safely on de-energised high-voltage systems.",
        country="DE",
        region="Bavaria",
        ects=2,
        workload_hours=50.5,
        eqf_level=4,
        assessment_type="practical-assessment",
        mode="blended",
        quality_assurance="program-quality-assurance",
        prerequisites="A vocational qualification in vehicle mechatronics.",
        supervision="supervised-with-id",
        grade_scheme="Pass or fail.",
        further_information="https://volt.example/hv",
        isced_f="0716",
        languages=["en", "de"],
        maximum_duration="P1M",
        quality_assurance_body_name="Example Quality Agency",
        quality_assurance_body_country="BE",
        quality_assurance_body_homepage="https://quality.example",
        quality_assurance_body_uri="https://www.eqar.eu/register/agencies/agency/?id=999",
    )
    for name, value in changes.items():
        setattr(mc, name, value)
    return Source(
        mc=mc,
        course=Course(
            id=1,
            organisation_id=1,
            slug="hv",
            title="HV safety",
            mode="blended",
            country="DE",
            learning_setting="non-formal",
            url="https://volt.example/courses/hv",
            start_dates=["2025-01-06", "2025-03-03", "not a date"],
        ),
        org=Organisation(
            id=1,
            slug="volt",
            legal_name="Volt Academy GmbH",
            country="DE",
            registration_id="HRB 12345",
            homepage="https://volt.example",
        ),
        outcomes=[
            LearningOutcomeOut(
                text="Isolate a high-voltage system and prove it dead.",
                skills=[
                    SkillRef(
                        iri=f"{ESCO}dcc96a49-0bac-4a9c-8f8e-a32b4e47e6eb",
                        slug="hs",
                        label="apply health and safety standards",
                    ),
                ],
            ),
            LearningOutcomeOut(text="Handle damaged cells.", skills=[]),
        ],
        award=Award(
            credential_uuid="0b6b4b8e-0000-4000-8000-000000000001",
            recipient_name="Ana Andromeda",
            awarded_at=datetime(2025, 2, 28, 15, 30, 12, 345, tzinfo=UTC),
            valid_from=datetime(2025, 2, 28, 15, 30, 12, tzinfo=UTC),
            valid_until=datetime(2028, 2, 28, tzinfo=UTC),
            grade="Pass",
            wallet_address="ana@example.org",
            given_name="Ana",
            family_name="Andromeda",
            contact_email="ana.andromeda@email.com",
        ),
        stackable_towards=MicroCredential(
            id=2,
            course_id=1,
            slug="cells",
            title="Battery Cell Specialist",
            country="DE",
            eqf_level=5,
            mode="online",
            assessment_type="portfolio",
            quality_assurance="program-quality-assurance",
            languages=["en"],
        ),
    )


def sealed_form() -> dict:
    credential = build_credential(
        make_source(), seal_identity=SealIdentity("VATDE-123456789", "DE"), issued=ISSUED
    )
    return credential.dump()


@pytest.fixture(scope="module")
def credential() -> dict:
    return sealed_form()


def test_the_sealed_form_conforms_to_the_official_shapes(credential: dict) -> None:
    conforms, _paths, text = validate(credential)
    assert conforms, text


def test_the_eleven_council_recommendation_elements_are_present(credential: dict) -> None:
    subject = credential["credentialSubject"]
    claim = subject["hasClaim"]
    spec = claim["specifiedBy"]
    elements = {
        "1 learner": subject["fullName"]["en"],
        "2 title": claim["title"]["en"],
        "3 country of the issuer": credential["issuer"]["location"]["address"]["countryCode"]["id"],
        "4 awarding body": claim["awardedBy"]["awardingBody"]["legalName"]["en"],
        "5 date of issuing": claim["awardedBy"]["awardingDate"],
        "6 learning outcomes": spec["learningOutcome"],
        "7 workload in ECTS": spec["creditPoint"]["point"],
        "8 EQF level": spec["eqfLevel"]["id"],
        "9 type of assessment": claim["provenBy"]["specifiedBy"]["dcType"]["id"],
        "10 form of participation": spec["mode"]["id"],
        "11 quality assurance": spec["accreditation"]["dcType"]["id"],
    }
    assert all(elements.values()), elements
    assert elements["3 country of the issuer"].endswith("/country/DEU")
    assert elements["7 workload in ECTS"] == "2"
    assert (
        spec["creditPoint"]["framework"]["id"]
        == "http://data.europa.eu/snb/education-credit/6fcec5c5af"
    )
    assert elements["8 EQF level"] == "http://data.europa.eu/snb/eqf/4"
    assert elements["9 type of assessment"] == "http://data.europa.eu/snb/assessment/6a4db9f11d"
    assert (
        elements["10 form of participation"]
        == "http://data.europa.eu/snb/learning-assessment/e92d221e4d"
    )
    assert elements["11 quality assurance"] == "http://data.europa.eu/snb/accreditation/820101cba6"
    assert spec["learningOutcome"][0]["relatedESCOSkill"]["id"].startswith(ESCO)
    assert credential["issuer"]["location"]["geographicName"] == {"en": "Bavaria"}


def test_concepts_name_their_scheme_and_label(credential: dict) -> None:
    spec = credential["credentialSubject"]["hasClaim"]["specifiedBy"]
    assert spec["eqfLevel"] == {
        "id": "http://data.europa.eu/snb/eqf/4",
        "type": "Concept",
        "inScheme": {"id": "http://data.europa.eu/snb/eqf/25831c2", "type": "ConceptScheme"},
        "prefLabel": {"en": "Level 4"},
    }
    assert spec["thematicArea"]["id"] == "http://data.europa.eu/snb/isced-f/0716"
    assert spec["volumeOfLearning"] == "PT50H30M"
    # The texts are English only: German is offered as a course language, but no German
    # text exists, so the credential declares English alone (issue 18).
    assert spec["language"]["id"][-3:] == "ENG"
    assert spec["dcType"]["id"] == "http://data.europa.eu/snb/learning-opportunity/74a4a268e8"


def test_one_rendered_png_page_in_the_language_of_the_texts(credential: dict) -> None:
    import base64

    display = credential["displayParameter"]["individualDisplay"]
    assert display["language"]["id"][-3:] == "ENG"
    page = base64.b64decode(display["displayDetail"]["image"]["content"])
    assert page.startswith(b"\x89PNG")
    assert display["displayDetail"]["image"]["contentType"]["id"].endswith("/file-type/PNG")


def test_the_course_run_and_stackability_as_the_samples_have_them(credential: dict) -> None:
    claim = credential["credentialSubject"]["hasClaim"]
    activity = claim["influencedBy"]
    assert activity["type"] == "LearningActivity" and activity["title"] == {"en": "HV safety"}
    # The run: the last start date on or before the award, to the award.
    assert activity["temporal"] == {
        "id": "urn:epass:period:1",
        "type": "PeriodOfTime",
        "startDate": "2025-01-06T00:00:00Z",
        "endDate": "2025-02-28T15:30:12Z",
    }
    spec = claim["specifiedBy"]
    assert spec["isPartOf"]["title"] == {"en": "Battery Cell Specialist"}
    notes = spec.get("additionalNote", [])
    notes = notes if isinstance(notes, list) else [notes]
    assert not any("Stackable" in json.dumps(n) for n in notes)


def test_the_maximum_duration_as_in_the_official_sample(credential: dict) -> None:
    sample = json.loads(
        reference("elm", "samples", "official", "Sample-MC-Annex1-unsigned.jsonld").read_text()
    )
    spec = credential["credentialSubject"]["hasClaim"]["specifiedBy"]
    assert (
        spec["maximumDuration"]
        == sample["credentialSubject"]["hasClaim"]["specifiedBy"]["maximumDuration"]
    )  # "P1M"


def test_a_maximum_duration_that_is_no_xsd_duration_fails_the_shapes(credential: dict) -> None:
    broken = copy.deepcopy(credential)
    broken["credentialSubject"]["hasClaim"]["specifiedBy"]["maximumDuration"] = "one month"
    assert not validate(broken)[0]


def test_the_quality_assurance_body_is_the_accrediting_agent(credential: dict) -> None:
    skeleton = json.loads(
        reference(
            "elm", "samples", "constructed", "microcredential-annex1-skeleton.json"
        ).read_text()
    )["credentialSubject"]["hasClaim"]["specifiedBy"]["accreditation"]["accreditingAgent"]
    agent = credential["credentialSubject"]["hasClaim"]["specifiedBy"]["accreditation"][
        "accreditingAgent"
    ]
    # The skeleton's shape: an Organisation of its own, with legalName and a located country.
    assert (agent["id"], agent["type"]) == ("urn:epass:org:2", skeleton["type"])
    assert agent["legalName"] == skeleton["legalName"]  # {"en": "Example Quality Agency"}
    assert (
        agent["location"]["address"]["countryCode"]["id"]
        == (skeleton["location"]["address"]["countryCode"]["id"])
    )  # …/country/BEL
    assert agent["homepage"]["contentURL"] == "https://quality.example"
    assert agent["identifier"]["notation"].startswith("https://www.eqar.eu/")
    assert credential["issuer"]["id"] == "urn:epass:org:1" != agent["id"]


def test_without_a_named_body_the_provider_is_the_accrediting_agent() -> None:
    source = make_source(quality_assurance_body_name=None)
    spec = build_credential(source).dump()["credentialSubject"]["hasClaim"]["specifiedBy"]
    assert spec["accreditation"]["accreditingAgent"] == {"id": "urn:epass:org:1"}


@pytest.mark.parametrize("path", [("legalName",), ("location",)], ids=".".join)
def test_the_accrediting_agent_without_a_mandatory_field_fails_the_shapes(
    credential: dict, path: tuple[str, ...]
) -> None:
    agent = ("credentialSubject", "hasClaim", "specifiedBy", "accreditation", "accreditingAgent")
    assert not validate(_delete(credential, agent + path))[0]


def test_the_learner_is_named_as_in_the_official_sample(credential: dict) -> None:
    sample = json.loads(
        reference("elm", "samples", "official", "Sample-MC-Annex1-unsigned.jsonld").read_text()
    )["credentialSubject"]
    learner = credential["credentialSubject"]
    for key in ("givenName", "familyName", "fullName"):
        assert learner[key] == sample[key], key  # {"en": "Ana"}, {"en": "Andromeda"}, …
    # The e-mail the learner agreed to show, shaped as the sample's (ids are per document).
    ours, theirs = learner["contactPoint"], sample["contactPoint"]
    assert ours["emailAddress"] == theirs["emailAddress"]  # mailto:ana.andromeda@email.com
    assert ours["type"] == theirs["type"] == "ContactPoint"


def test_a_learner_with_one_full_name_is_not_split() -> None:
    source = make_source()
    award = dataclasses.replace(source.award, given_name=None, family_name=None)
    learner = build_credential(dataclasses.replace(source, award=award)).dump()["credentialSubject"]
    assert learner["fullName"] == {"en": "Ana Andromeda"}
    assert "givenName" not in learner and "familyName" not in learner


def test_without_consent_no_contact_point_and_an_odd_address_is_percent_encoded() -> None:
    source = make_source()
    for email, expected in (
        (None, None),
        ('o%d/"q"@example.org', "mailto:o%25d%2F%22q%22@example.org"),
    ):
        award = dataclasses.replace(source.award, contact_email=email)
        learner = build_credential(dataclasses.replace(source, award=award)).dump()[
            "credentialSubject"
        ]
        found = learner.get("contactPoint", {}).get("emailAddress", {}).get("id")
        assert found == expected


def test_the_output_is_read_back_by_the_elm_models(credential: dict) -> None:
    assert EuropeanDigitalCredential.model_validate(credential).dump() == credential
    assert credential["issued"] == "2025-03-01T09:00:00Z"
    assert credential["validFrom"] == "2025-02-28T15:30:12Z"


def _delete(document: dict, path: tuple[str, ...]) -> dict:
    changed = copy.deepcopy(document)
    node = changed
    for key in path[:-1]:
        node = node[key]
        if isinstance(node, list):
            node = node[0]
    del node[path[-1]]
    return changed


MANDATORY = [
    ("issued",),
    ("validFrom",),
    ("credentialSchema",),
    ("credentialProfiles",),
    ("credentialSubject",),
    ("displayParameter",),
    ("issuer", "eIDASIdentifier"),
    ("credentialSubject", "hasClaim"),
    ("credentialSubject", "hasClaim", "title"),
    ("credentialSubject", "hasClaim", "awardedBy"),
    ("credentialSubject", "hasClaim", "provenBy", "grade"),
    ("credentialSubject", "hasClaim", "provenBy", "title"),
    ("credentialSubject", "hasClaim", "specifiedBy", "title"),
    ("credentialSubject", "hasClaim", "specifiedBy", "learningOutcome", "title"),
    ("credentialSubject", "hasClaim", "specifiedBy", "accreditation", "dcType"),
    ("displayParameter", "title"),
    ("displayParameter", "primaryLanguage"),
    ("displayParameter", "individualDisplay"),
    ("displayParameter", "individualDisplay", "displayDetail", "image", "content"),
]


@pytest.mark.parametrize("path", MANDATORY, ids=".".join)
def test_removing_a_mandatory_field_fails_the_shapes(
    credential: dict, path: tuple[str, ...]
) -> None:
    conforms, _paths, _text = validate(_delete(credential, path))
    assert not conforms


def test_uploadable_form_fails_only_where_the_official_unsigned_sample_does() -> None:
    form = uploadable_form(build_credential(make_source()), "ana@example.org")
    assert form["deliveryDetails"] == {"walletAddress": "ana@example.org"}
    ours = validate(form["credential"])
    official_form = reference(
        "elm", "samples", "official", "Sample-MC-Annex1-unsigned-uploadable.json"
    )
    import json

    theirs = validate(json.loads(official_form.read_text())["credential"])
    # The EC issuer adds `issued` and the issuer's eIDAS identifier when it seals the upload.
    assert not ours[0] and not theirs[0]
    assert ours[1] == theirs[1] == {"issued", "issuer", "eidasLegalIdentifier"}
    assert "issued" not in form["credential"]


@pytest.mark.parametrize(
    ("changes", "missing"),
    [
        ({"ects": None}, "ECTS"),
        ({"eqf_level": None}, "EQF"),
        ({"ects": None, "eqf_level": None}, "ECTS"),
    ],
)
def test_an_award_without_ects_or_eqf_is_refused(changes: dict, missing: str) -> None:
    with pytest.raises(EuropassIncomplete, match=missing) as caught:
        build_credential(make_source(**changes))
    assert "nothing was exported" in caught.value.message


def test_without_outcomes_nothing_is_built() -> None:
    source = make_source()
    empty = Source(**{**source.__dict__, "outcomes": []})
    with pytest.raises(EuropassIncomplete, match="learning outcomes"):
        build_credential(empty)
