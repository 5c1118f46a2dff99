"""What goes in and out of the catalogue services: plain pydantic models, snake_case JSON.

Inputs carry controlled values as codes or IRIs (see `catalogue.vocabularies`); outputs name
each one as `{iri, label}`. The same models serve the API, the CLI, the JSON export and the pages.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, computed_field

from catalogue.models import EntryState, SkillLevel
from catalogue.text import Line, Text
from catalogue.vocabularies import Concept


class ConceptRef(BaseModel):
    iri: str
    label: str

    @classmethod
    def of(cls, concept: Concept) -> ConceptRef:
        return cls(iri=concept.iri, label=concept.label)


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented form
    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


# --- skills and job roles -------------------------------------------------------------------


class SkillRef(BaseModel):
    iri: str
    slug: str
    label: str


class LevelledSkill(SkillRef):
    level: SkillLevel


class RequiredSkill(LevelledSkill):
    essential: bool


class SkillLabels(BaseModel):
    language: str
    preferred_label: str
    alt_labels: list[str]
    description: str | None = None


class SkillOut(BaseModel):
    iri: str
    slug: str
    preferred_label: str
    alt_labels: list[str]
    description: str | None
    skill_type: ConceptRef | None
    reuse_level: ConceptRef | None
    labels: list[SkillLabels]


class JobRoleRef(BaseModel):
    iri: str
    slug: str
    title: str
    isco_code: str | None = None


class OrganisationRef(BaseModel):
    slug: str
    legal_name: str
    country: str


class CourseSummary(BaseModel):
    slug: str
    title: str
    provider: OrganisationRef
    mode: ConceptRef
    eqf_level: ConceptRef | None
    workload_hours: float | None
    ects: float | None
    languages: list[ConceptRef]


class CourseTeaching(CourseSummary):
    """A course as listed under a job role: which of the role's skills it teaches."""

    teaches: list[LevelledSkill]


class JobRoleOut(JobRoleRef):
    alt_titles: list[str]
    description: str | None
    esco_code: str | None
    skills: list[RequiredSkill]
    courses: list[CourseTeaching]


# --- courses ----------------------------------------------------------------------------------


class Price(BaseModel):
    amount: Decimal
    currency: Line = Field(description="ISO 4217 code, e.g. EUR")


class SkillTaught(BaseModel):
    iri: Line
    level: SkillLevel = SkillLevel.practitioner


class CourseIn(BaseModel):
    """A course as a provider writes it (POST and PUT; PATCH sends any subset)."""

    model_config = ConfigDict(extra="forbid")

    slug: Line | None = Field(default=None, description="default: from the title")
    title: Line
    description: Text | None = None
    languages: list[Line] = Field(default_factory=list, description="ISO 639-1 codes or IRIs")
    mode: Line = Field(description="online, blended, presential, work-based, … or an IRI")
    learning_setting: Line | None = Field(default=None, description="formal or non-formal")
    workload_hours: float | None = None
    ects: float | None = None
    eqf_level: int | None = None
    isced_f: Line | None = Field(default=None, description="ISCED-F 2013 code, e.g. 0716")
    country: Line | None = Field(default=None, description="default: the provider's country")
    region: Line | None = None
    price: Price | None = None
    url: Line | None = None
    start_dates: list[date] = Field(default_factory=list)
    skills: list[SkillTaught] = Field(default_factory=list)
    state: EntryState | None = Field(
        default=None,
        description="draft (seen only by its provider) or published; default: as it is, "
        "published for a new course",
    )


class MicroCredentialRef(BaseModel):
    slug: str
    title: str


class CourseOut(CourseSummary):
    description: str | None
    learning_setting: ConceptRef | None
    isced_f: ConceptRef | None
    country: ConceptRef
    region: str | None
    price: Price | None
    url: str | None
    start_dates: list[date]
    skills: list[LevelledSkill]
    micro_credentials: list[MicroCredentialRef]
    state: EntryState
    created_at: datetime
    updated_at: datetime


# --- micro-credentials --------------------------------------------------------------------------


class LearningOutcomeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Text
    skills: list[Line] = Field(default_factory=list, description="skill IRIs")


class QualityAssuranceBodyIn(BaseModel):
    """The body that assures a micro-credential's quality (an accreditation agency, a
    certification body, a licensing authority)."""

    model_config = ConfigDict(extra="forbid")

    name: Line
    country: Line | None = Field(default=None, description="default: the micro-credential's")
    homepage: Line | None = None
    id: Line | None = Field(
        default=None, description="a URI naming the body, e.g. its entry in the EQAR register"
    )


class QualityAssuranceBodyOut(BaseModel):
    name: str
    country: ConceptRef
    homepage: str | None
    id: str | None


class MicroCredentialIn(BaseModel):
    """A micro-credential with the elements of Annex I of Council Recommendation 2022/C 243/02."""

    model_config = ConfigDict(extra="forbid")

    slug: Line | None = Field(default=None, description="default: from the title")
    course: Line = Field(description="slug of the course that awards it")
    title: Line
    description: Text | None = None
    country: Line | None = Field(default=None, description="issuer's country; default: course's")
    region: Line | None = None
    learning_outcomes: list[LearningOutcomeIn]
    ects: float | None = None
    workload_hours: float | None = None
    eqf_level: int
    assessment_type: Line
    mode: Line = Field(description="form of participation")
    quality_assurance: Line
    quality_assurance_body: QualityAssuranceBodyIn | None = Field(
        default=None, description="who assures its quality; Europass names it as accrediting agent"
    )
    prerequisites: Text | None = None
    supervision: Line | None = Field(default=None, description="supervision and ID verification")
    grade_scheme: Text | None = None
    stackable_towards: Line | None = Field(default=None, description="slug of a micro-credential")
    further_information: Line | None = None
    badge_image_url: Line | None = None
    criteria_narrative: Text | None = None
    valid_for_months: int | None = None
    valid_for_days: int | None = None
    maximum_duration: Line | None = Field(
        default=None,
        description="how long the learning may take at most: an ISO 8601 duration as "
        "xsd:duration writes it (P6M, P1Y, P90D, PT40H; P6W becomes P42D)",
    )
    achievement_type: Line = "MicroCredential"
    isced_f: Line | None = None
    languages: list[Line] = Field(default_factory=list, description="default: the course's")
    state: EntryState | None = Field(
        default=None,
        description="draft (seen only by its provider, never issued) or published; default: "
        "as it is, published for a new micro-credential",
    )


class LearningOutcomeOut(BaseModel):
    text: str
    skills: list[SkillRef]


class MicroCredentialOut(BaseModel):
    slug: str
    title: str
    description: str | None
    course: MicroCredentialRef
    awarding_body: OrganisationRef
    country: ConceptRef
    region: str | None
    learning_outcomes: list[LearningOutcomeOut]
    ects: float | None
    credit_system: ConceptRef | None
    workload_hours: float | None
    eqf_level: ConceptRef
    assessment_type: ConceptRef
    mode: ConceptRef
    quality_assurance: ConceptRef
    quality_assurance_body: QualityAssuranceBodyOut | None
    prerequisites: str | None
    supervision: ConceptRef | None
    grade_scheme: str | None
    stackable_towards: MicroCredentialRef | None
    further_information: str | None
    badge_image_url: str | None
    criteria_narrative: str | None
    valid_for_months: int | None
    valid_for_days: int | None
    maximum_duration: str | None = Field(description="ISO 8601 duration (xsd:duration)")
    achievement_type: str
    isced_f: ConceptRef | None
    languages: list[ConceptRef]
    skills: list[SkillRef]
    state: EntryState
    created_at: datetime
    updated_at: datetime


class MicroCredentialSummary(MicroCredentialRef):
    course: MicroCredentialRef
    awarding_body: OrganisationRef
    eqf_level: ConceptRef
    ects: float | None
    workload_hours: float | None
    mode: ConceptRef


# --- search and gap ---------------------------------------------------------------------------


class SearchFilters(BaseModel):
    kind: str | None = Field(default=None, description="skill, job_role, course, micro_credential")
    skill: str | None = Field(default=None, description="skill IRI or slug")
    eqf_level: int | None = None
    mode: str | None = None
    language: str | None = None
    country: str | None = None
    provider: str | None = Field(default=None, description="organisation slug")


class SearchHit(BaseModel):
    kind: str
    slug: str
    title: str
    summary: str
    score: float
    rating: float | None = Field(
        default=None, description="a course's (a micro-credential's course's) graduates' average"
    )
    reviews: int = Field(default=0, description="how many graduates' reviews the rating counts")


class SearchPage(Page[SearchHit]):
    query: str


class MissingSkill(RequiredSkill):
    pass


class PathStep(BaseModel):
    course: CourseSummary
    micro_credentials: list[MicroCredentialRef]
    closes: list[SkillRef]
    closes_share: float = Field(description="fraction of the gap this course closes")


class GapResult(BaseModel):
    job_role: JobRoleRef
    required: int
    have: list[SkillRef]
    missing: list[MissingSkill]
    path: list[PathStep]
    uncovered: list[MissingSkill]
    # Held skills (as given: IRI or slug) that are none of the role's skills.
    unknown: list[str] = []
    # The path's totals; hours_unknown counts its courses that state no workload in hours.
    total_hours: float = 0
    total_ects: float = 0
    hours_unknown: int = 0


# --- catalogue JSON export / import --------------------------------------------------------------

EXPORT_FORMAT = "skillshub-catalogue"


class ExportedMicroCredential(MicroCredentialIn):
    # Optional here, where the enclosing course implies it (pydantic allows the override).
    course: Line | None = Field(  # type: ignore[assignment]
        default=None, description="implied by the enclosing course"
    )


class ExportedCourse(CourseIn):
    micro_credentials: list[ExportedMicroCredential] = Field(default_factory=list)


class CatalogueExport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: str = EXPORT_FORMAT
    version: int = 1
    organisation: OrganisationRef | None = None
    courses: list[ExportedCourse]


class ImportSummary(BaseModel):
    courses_created: int = 0
    courses_updated: int = 0
    micro_credentials_created: int = 0
    micro_credentials_updated: int = 0
