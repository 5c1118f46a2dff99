"""European Learning Model (ELM 3.x) — the European Digital Credential subset Skills Hub emits.

Pydantic models of the JSON-LD shapes used by the European Commission's EDC samples (context
``http://data.europa.eu/snb/model/context/edc-ap`` on top of VC Data Model 1.1). Names are the
JSON-LD terms, so a model dumps straight to the document. Unknown properties are kept
(``extra="allow"``): official credentials carry far more than this subset and must
round-trip. A property that may hold one value or several accepts both (JSON-LD treats a
single value and a one-element array alike; the samples use a bare object for one value).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeAlias, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

CREDENTIALS_V1 = "https://www.w3.org/2018/credentials/v1"
EDC_AP_CONTEXT = "http://data.europa.eu/snb/model/context/edc-ap"
EDC_CONTEXTS = (CREDENTIALS_V1, EDC_AP_CONTEXT)
EDC_GENERIC_FULL = "http://data.europa.eu/snb/model/ap/edc-generic-full"
EDC_TYPES = ("VerifiableCredential", "EuropeanDigitalCredential")

T = TypeVar("T")
OneOrMany: TypeAlias = T | list[T]
LangMap = dict[str, str]
"""A language map: ISO 639-1 code -> text, e.g. {"en": "Battery safety"}."""


def _xsd_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("ELM dates must carry a time zone")
    if value.utcoffset() == UTC.utcoffset(None):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.isoformat(timespec="seconds")


DateTime = Annotated[datetime, PlainSerializer(_xsd_datetime, return_type=str)]


class ElmModel(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    def dump(self) -> dict[str, Any]:
        """The JSON-LD object (no empty properties)."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


class Ref(ElmModel):
    """A reference to a node described elsewhere in the document: just its id."""

    id: str


class ConceptScheme(ElmModel):
    id: str
    type: Literal["ConceptScheme"] = "ConceptScheme"


class Concept(ElmModel):
    """A controlled-vocabulary value, named by its official IRI."""

    id: str
    type: Literal["Concept"] = "Concept"
    inScheme: ConceptScheme
    prefLabel: LangMap | None = None
    notation: str | None = None


class Note(ElmModel):
    id: str
    type: Literal["Note"] = "Note"
    noteLiteral: LangMap


class Identifier(ElmModel):
    id: str
    type: Literal["Identifier"] = "Identifier"
    notation: str
    schemeName: str | None = None


class LegalIdentifier(ElmModel):
    id: str
    type: Literal["LegalIdentifier"] = "LegalIdentifier"
    notation: str
    spatial: Concept


class Address(ElmModel):
    id: str
    type: Literal["Address"] = "Address"
    countryCode: Concept
    fullAddress: Note | None = None


class Location(ElmModel):
    id: str
    type: Literal["Location"] = "Location"
    address: OneOrMany[Address]
    geographicName: LangMap | None = None


class WebResource(ElmModel):
    id: str
    type: Literal["WebResource"] = "WebResource"
    contentURL: str


class MediaObject(ElmModel):
    """Embedded content: base64 `content` with its encoding and file-type concepts."""

    id: str
    type: Literal["MediaObject"] = "MediaObject"
    content: str
    contentEncoding: Concept
    contentType: Concept


class Organisation(ElmModel):
    id: str
    type: Literal["Organisation"] = "Organisation"
    legalName: LangMap
    altLabel: LangMap | None = None
    location: OneOrMany[Location] | None = None
    identifier: OneOrMany[Identifier | LegalIdentifier] | None = None
    registration: LegalIdentifier | None = None
    vatIdentifier: OneOrMany[LegalIdentifier] | None = None
    eIDASIdentifier: LegalIdentifier | None = None
    homepage: OneOrMany[WebResource] | None = None
    logo: MediaObject | None = None


class AwardingProcess(ElmModel):
    id: str
    type: Literal["AwardingProcess"] = "AwardingProcess"
    awardingBody: OneOrMany[Organisation | Ref]
    awardingDate: DateTime | None = None


class CreditPoint(ElmModel):
    id: str
    type: Literal["CreditPoint"] = "CreditPoint"
    framework: Concept
    point: str


class GradingScheme(ElmModel):
    id: str
    type: Literal["GradingScheme"] = "GradingScheme"
    title: LangMap
    description: LangMap | None = None


class LearningAssessmentSpecification(ElmModel):
    id: str
    type: Literal["LearningAssessmentSpecification"] = "LearningAssessmentSpecification"
    title: LangMap
    gradingScheme: GradingScheme | None = None
    dcType: OneOrMany[Concept] | None = None
    mode: OneOrMany[Concept] | None = None
    language: OneOrMany[Concept] | None = None


class LearningAssessment(ElmModel):
    """The assessment that proves the achievement: its grade and how identity was checked."""

    id: str
    type: Literal["LearningAssessment"] = "LearningAssessment"
    title: LangMap
    awardedBy: AwardingProcess | Ref
    grade: Note
    idVerification: Concept | None = None
    specifiedBy: LearningAssessmentSpecification | Ref | None = None


class LearningOutcome(ElmModel):
    id: str
    type: Literal["LearningOutcome"] = "LearningOutcome"
    title: LangMap
    relatedESCOSkill: OneOrMany[Concept] | None = None
    reusabilityLevel: Concept | None = None


class Accreditation(ElmModel):
    """Quality assurance of the specification (ELM names it accreditation)."""

    id: str
    type: Literal["Accreditation"] = "Accreditation"
    title: LangMap
    dcType: Concept
    accreditingAgent: Organisation | Ref


SPECIFICATION_TYPES = ("LearningAchievementSpecification", "Qualification")


class LearningAchievementSpecification(ElmModel):
    """What was achieved, as specified by the provider (a `Qualification` when it has an
    EQF level or credits a qualifications framework would recognise)."""

    id: str
    type: Literal["LearningAchievementSpecification", "Qualification"] = "Qualification"
    title: LangMap
    description: LangMap | None = None
    eqfLevel: Concept | None = None
    thematicArea: OneOrMany[Concept] | None = None
    creditPoint: OneOrMany[CreditPoint] | None = None
    volumeOfLearning: str | None = Field(default=None, description="ISO 8601 duration, e.g. PT50H")
    maximumDuration: str | None = Field(default=None, description="xsd:duration, e.g. P6M")
    language: OneOrMany[Concept] | None = None
    mode: OneOrMany[Concept] | None = None
    learningSetting: Concept | None = None
    dcType: OneOrMany[Concept] | None = None
    learningOutcomeSummary: Note | None = None
    learningOutcome: OneOrMany[LearningOutcome] | None = None
    entryRequirement: Note | None = None
    accreditation: OneOrMany[Accreditation] | None = None
    isPartialQualification: bool | None = None
    additionalNote: OneOrMany[Note] | None = None
    homepage: OneOrMany[WebResource] | None = None
    # Stackability: the larger specification this one is part of.
    isPartOf: OneOrMany[dict[str, Any]] | None = None


class LearningAchievement(ElmModel):
    id: str
    type: Literal["LearningAchievement"] = "LearningAchievement"
    title: LangMap
    description: LangMap | None = None
    awardedBy: AwardingProcess
    specifiedBy: LearningAchievementSpecification | None = None
    provenBy: OneOrMany[LearningAssessment] | None = None
    creditReceived: OneOrMany[CreditPoint] | None = None
    additionalNote: OneOrMany[Note] | None = None
    influencedBy: OneOrMany[dict[str, Any]] | None = None  # the LearningActivity (course run)


class Claim(ElmModel):
    """Any other claim (LearningActivity, LearningEntitlement, …): kept as it is."""

    id: str
    type: str
    title: LangMap
    awardedBy: OneOrMany[AwardingProcess | Ref]


class Mailbox(ElmModel):
    id: str = Field(description="a mailto: IRI")
    type: Literal["Mailbox"] = "Mailbox"


class ContactPoint(ElmModel):
    id: str
    type: Literal["ContactPoint"] = "ContactPoint"
    emailAddress: OneOrMany[Mailbox] | None = None


class Person(ElmModel):
    id: str
    type: Literal["Person"] = "Person"
    contactPoint: OneOrMany[ContactPoint] | None = None
    givenName: LangMap | None = None
    familyName: LangMap | None = None
    fullName: LangMap | None = None
    identifier: OneOrMany[Identifier] | None = None
    hasClaim: OneOrMany[LearningAchievement | Claim]


class DisplayDetail(ElmModel):
    id: str
    type: Literal["DisplayDetail"] = "DisplayDetail"
    page: int
    image: MediaObject


class IndividualDisplay(ElmModel):
    """The rendered credential pages in one language."""

    id: str
    type: Literal["IndividualDisplay"] = "IndividualDisplay"
    language: Concept
    displayDetail: OneOrMany[DisplayDetail]


class DisplayParameter(ElmModel):
    id: str
    type: Literal["DisplayParameter"] = "DisplayParameter"
    title: LangMap
    description: LangMap | None = None
    language: OneOrMany[Concept]
    primaryLanguage: Concept
    individualDisplay: OneOrMany[IndividualDisplay]


class CredentialSchema(ElmModel):
    id: str = EDC_GENERIC_FULL
    type: Literal["ShaclValidator2017"] = "ShaclValidator2017"


class EuropeanDigitalCredential(ElmModel):
    context: list[str] = Field(default_factory=lambda: list(EDC_CONTEXTS), alias="@context")
    id: str
    type: list[str] = Field(default_factory=lambda: list(EDC_TYPES))
    credentialProfiles: OneOrMany[Concept]
    credentialSchema: OneOrMany[CredentialSchema] = Field(default_factory=CredentialSchema)
    identifier: OneOrMany[Identifier] | None = None
    issuer: Organisation
    issued: DateTime | None = Field(
        default=None, description="set when sealed; the EC issuer sets it on an uploaded form"
    )
    issuanceDate: DateTime | None = None
    validFrom: DateTime
    validUntil: DateTime | None = None
    credentialSubject: Person
    displayParameter: DisplayParameter


def concept(iri: str, scheme: str, label: str | None = None, *, lang: str = "en") -> Concept:
    """A Concept node with its scheme (and an English label unless told otherwise)."""
    return Concept(
        id=iri, inScheme=ConceptScheme(id=scheme), prefLabel={lang: label} if label else None
    )


def first(value: OneOrMany[T] | None) -> T | None:
    """The first value of a one-or-many property."""
    if isinstance(value, list):
        return value[0] if value else None
    return value


def as_list(value: OneOrMany[T] | None) -> list[T]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
