"""Catalogue tables: organisations, skills, job roles, courses, micro-credentials, search index.

Controlled values (EQF, ISCED-F, modes, …) are stored as the short codes of
`catalogue.vocabularies`, which names each one by its EU concept IRI.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from catalogue.base import timestamp

# Schema objects the migrations create by hand (dialect-specific full-text search: the SQLite
# FTS5 table with its shadow tables, the PostgreSQL GIN index); the models cannot describe them.
HAND_MADE_SCHEMA_PREFIXES = (
    "search_fts",
    "ix_search_document_fts",
    "ix_issued_credential_search_trgm",  # PostgreSQL's trigram index of the recipients search
    "ix_issued_credential_recipient_lower",  # lower(recipient_email): a backpack's badges
    # Change counters bumped by triggers on every write to a catalogue table (any process,
    # any write path); read by caches of catalogue data (catalogue.skills.skill_labels).
    "catalogue_version",
    "procrastinate_",  # the job queue's schema on PostgreSQL, as procrastinate ships it
    "idx_procrastinate_",
)


class EntryState(StrEnum):
    """A course or micro-credential is a provider's draft (seen only in its console) until it
    is published; then the public catalogue, search, the gap and issuing see it. When the hub
    reviews (SKILLSHUB_REQUIRE_REVIEW), a draft is `submitted` to the operators, who publish
    it or send it back with `changes_requested` (catalogue.review)."""

    draft = "draft"
    submitted = "submitted"
    changes_requested = "changes_requested"
    published = "published"


_STATE_CHECK = "state IN ('draft', 'submitted', 'changes_requested', 'published')"


class SkillLevel(StrEnum):
    awareness = "awareness"
    practitioner = "practitioner"
    expert = "expert"

    @property
    def rank(self) -> int:
        return list(SkillLevel).index(self)


class Organisation(SQLModel, table=True):
    """A training provider: owns issuers and catalogue entries."""

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True, index=True)
    legal_name: str = Field(max_length=300)
    country: str = Field(max_length=2, description="ISO 3166-1 alpha-2")
    registration_id: str | None = Field(default=None, max_length=120)
    homepage: str | None = Field(default=None, max_length=500)
    logo_url: str | None = Field(default=None, max_length=500)
    email: str | None = Field(default=None, max_length=320)
    created_at: datetime = timestamp()


class Skill(SQLModel, table=True):
    """A skill or knowledge concept: an ESCO skill where one exists."""

    id: int | None = Field(default=None, primary_key=True)
    iri: str = Field(max_length=500, unique=True, index=True)
    slug: str = Field(max_length=120, unique=True, index=True)
    preferred_label: str = Field(max_length=500)
    alt_labels: str = Field(default="", sa_type=Text, description="one label per line")
    description: str | None = Field(default=None, sa_type=Text)
    skill_type: str | None = Field(default=None, max_length=20, description="vocabulary skill-type")
    reuse_level: str | None = Field(default=None, max_length=30, description="reuse-level code")
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()


class SkillLabel(SQLModel, table=True):
    """A skill's labels in one language (ISO 639-1 code)."""

    __tablename__ = "skill_label"
    __table_args__ = (UniqueConstraint("skill_id", "language"),)

    id: int | None = Field(default=None, primary_key=True)
    skill_id: int = Field(foreign_key="skill.id", ondelete="CASCADE", index=True)
    language: str = Field(max_length=8)
    preferred_label: str = Field(max_length=500)
    alt_labels: str = Field(default="", sa_type=Text)
    description: str | None = Field(default=None, sa_type=Text)


class JobRole(SQLModel, table=True):
    """An occupation: an ESCO occupation where one exists."""

    __tablename__ = "job_role"

    id: int | None = Field(default=None, primary_key=True)
    iri: str = Field(max_length=500, unique=True, index=True)
    slug: str = Field(max_length=120, unique=True, index=True)
    title: str = Field(max_length=500)
    alt_titles: str = Field(default="", sa_type=Text, description="one title per line")
    description: str | None = Field(default=None, sa_type=Text)
    isco_code: str | None = Field(default=None, max_length=4, index=True)
    esco_code: str | None = Field(default=None, max_length=40)
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()


class JobRoleSkill(SQLModel, table=True):
    __tablename__ = "job_role_skill"
    __table_args__ = (UniqueConstraint("job_role_id", "skill_id"),)

    id: int | None = Field(default=None, primary_key=True)
    job_role_id: int = Field(foreign_key="job_role.id", ondelete="CASCADE", index=True)
    skill_id: int = Field(foreign_key="skill.id", index=True)
    level: str = Field(default=SkillLevel.practitioner.value, max_length=20)
    essential: bool = True


class Course(SQLModel, table=True):
    """A training course published by a provider organisation."""

    __table_args__ = (
        CheckConstraint("eqf_level BETWEEN 1 AND 8", name="ck_course_eqf_level"),
        CheckConstraint("workload_hours >= 0", name="ck_course_workload_hours"),
        CheckConstraint("ects >= 0", name="ck_course_ects"),
        CheckConstraint(_STATE_CHECK, name="ck_course_state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    slug: str = Field(max_length=80, unique=True, index=True)
    title: str = Field(max_length=300)
    description: str | None = Field(default=None, sa_type=Text)
    languages: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    mode: str = Field(max_length=30)
    learning_setting: str | None = Field(default=None, max_length=20)
    workload_hours: float | None = None
    ects: float | None = None
    eqf_level: int | None = None
    isced_f: str | None = Field(default=None, max_length=4)
    country: str = Field(max_length=2)
    region: str | None = Field(default=None, max_length=200)
    price_cents: int | None = None
    price_currency: str | None = Field(default=None, max_length=3)
    url: str | None = Field(default=None, max_length=500)
    start_dates: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    state: str = Field(default=EntryState.published.value, max_length=20)
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()


class CourseSkill(SQLModel, table=True):
    __tablename__ = "course_skill"
    __table_args__ = (UniqueConstraint("course_id", "skill_id"),)

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="course.id", ondelete="CASCADE", index=True)
    skill_id: int = Field(foreign_key="skill.id", index=True)
    level: str = Field(default=SkillLevel.practitioner.value, max_length=20)


class MicroCredential(SQLModel, table=True):
    """What a course awards: the elements of the EU Council Recommendation 2022/C 243/02, Annex I,
    plus what an Open Badge needs. Learner identity and issue date belong to each award."""

    __tablename__ = "micro_credential"
    __table_args__ = (
        CheckConstraint("eqf_level BETWEEN 1 AND 8", name="ck_micro_credential_eqf_level"),
        CheckConstraint("workload_hours >= 0", name="ck_micro_credential_workload_hours"),
        CheckConstraint("ects >= 0", name="ck_micro_credential_ects"),
        CheckConstraint(
            "ects IS NOT NULL OR workload_hours IS NOT NULL", name="ck_micro_credential_workload"
        ),
        CheckConstraint(_STATE_CHECK, name="ck_micro_credential_state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="course.id", index=True)
    slug: str = Field(max_length=80, unique=True, index=True)
    title: str = Field(max_length=300)
    description: str | None = Field(default=None, sa_type=Text)
    country: str = Field(max_length=2, description="country of the issuer")
    region: str | None = Field(default=None, max_length=200)
    ects: float | None = None
    workload_hours: float | None = None
    eqf_level: int
    assessment_type: str = Field(max_length=40)
    mode: str = Field(max_length=30, description="form of participation")
    quality_assurance: str = Field(max_length=40)
    # The body that assures its quality (the EDC's accrediting agent): its name, country,
    # homepage and an identifying URI (e.g. its EQAR register entry). None: not named.
    quality_assurance_body_name: str | None = Field(default=None, max_length=300)
    quality_assurance_body_country: str | None = Field(default=None, max_length=2)
    quality_assurance_body_homepage: str | None = Field(default=None, max_length=500)
    quality_assurance_body_uri: str | None = Field(default=None, max_length=500)
    prerequisites: str | None = Field(default=None, sa_type=Text)
    supervision: str | None = Field(default=None, max_length=40)
    grade_scheme: str | None = Field(default=None, sa_type=Text)
    stackable_towards_id: int | None = Field(
        default=None, foreign_key="micro_credential.id", ondelete="SET NULL"
    )
    further_information: str | None = Field(default=None, sa_type=Text)
    badge_image_url: str | None = Field(default=None, max_length=500)
    criteria_narrative: str | None = Field(default=None, sa_type=Text)
    valid_for_months: int | None = None
    valid_for_days: int | None = None
    # How long the learning may take at most (ELM maximumDuration): an xsd:duration, "P6M".
    maximum_duration: str | None = Field(default=None, max_length=40)
    achievement_type: str = Field(default="MicroCredential", max_length=60)
    isced_f: str | None = Field(default=None, max_length=4)
    languages: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    state: str = Field(default=EntryState.published.value, max_length=20)
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()


class LearningOutcome(SQLModel, table=True):
    __tablename__ = "learning_outcome"

    id: int | None = Field(default=None, primary_key=True)
    micro_credential_id: int = Field(
        foreign_key="micro_credential.id", ondelete="CASCADE", index=True
    )
    position: int = 0
    text: str = Field(sa_type=Text)


class LearningOutcomeSkill(SQLModel, table=True):
    __tablename__ = "learning_outcome_skill"

    outcome_id: int = Field(foreign_key="learning_outcome.id", ondelete="CASCADE", primary_key=True)
    skill_id: int = Field(foreign_key="skill.id", primary_key=True, index=True)


class SearchDocument(SQLModel, table=True):
    """One searchable catalogue entry, with the values the search filters on.

    Full-text indexing is the database's: an FTS5 table kept in step by triggers on SQLite, a
    GIN expression index on PostgreSQL (both made in the migration).
    """

    __tablename__ = "search_document"
    __table_args__ = (UniqueConstraint("kind", "ref_id"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20, index=True)
    ref_id: int
    slug: str = Field(max_length=120)
    title: str = Field(max_length=500)
    summary: str = Field(default="", max_length=300)
    body: str = Field(default="", sa_type=Text)
    languages: str = Field(default="", max_length=200, description="' en de ' for LIKE filters")
    eqf_level: int | None = None
    mode: str | None = Field(default=None, max_length=30)
    country: str | None = Field(default=None, max_length=2)
    organisation_id: int | None = Field(default=None, index=True)


class SubmissionState(StrEnum):
    submitted = "submitted"  # waiting in the operators' queue
    changes_requested = "changes_requested"  # sent back with the reviewer's comments
    approved = "approved"  # published by an operator (the snapshot is what was approved)
    withdrawn = "withdrawn"  # the provider took it back to draft before a decision


class Submission(SQLModel, table=True):
    """One request for review (catalogue.review): a course or micro-credential to publish, or
    a provider's proposed change to a job role's required skills. `snapshot` is the content
    as submitted; the last approved one is what the next review's diff compares with."""

    __tablename__ = "submission"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('course', 'micro_credential', 'job_role')", name="ck_submission_kind"
        ),
        CheckConstraint(
            "state IN ('submitted', 'changes_requested', 'approved', 'withdrawn')",
            name="ck_submission_state",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)
    ref_id: int = Field(index=True)
    organisation_id: int = Field(foreign_key="organisation.id", ondelete="CASCADE", index=True)
    state: str = Field(default=SubmissionState.submitted.value, max_length=20, index=True)
    snapshot: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    submitted_by: str = Field(max_length=320)
    created_at: datetime = timestamp()
    decided_at: datetime | None = timestamp(nullable=True, default_now=False)
    decided_by: str | None = Field(default=None, max_length=320)


class SubmissionMessage(SQLModel, table=True):
    """The conversation of a submission: the provider's notes, the reviewer's comments."""

    __tablename__ = "submission_message"

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", ondelete="CASCADE", index=True)
    author_side: str = Field(max_length=10, description="provider | operator")
    author_label: str = Field(max_length=320)
    body: str = Field(sa_type=Text)
    created_at: datetime = timestamp()


class CourseReview(SQLModel, table=True):
    """A graduate's review of a course (issue 20): tied to one credential of a micro-credential
    the course awards (one review per credential; badges.graduate_reviews checks that the
    credential is valid and held by the writer). Shown as "from a verified graduate", with the
    learner's name only when they chose to show it. The provider may answer; an operator may
    hide an abusive one (audited)."""

    __tablename__ = "course_review"
    __table_args__ = (
        CheckConstraint("rating BETWEEN 1 AND 5", name="ck_course_review_rating"),
        Index("ix_course_review_course_shown", "course_id", "hidden_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    credential_id: int = Field(foreign_key="issued_credential.id", ondelete="CASCADE", unique=True)
    course_id: int = Field(foreign_key="course.id", ondelete="CASCADE")
    rating: int
    text: str = Field(default="", sa_type=Text)
    show_name: bool = False
    display_name: str | None = Field(default=None, max_length=300)
    created_at: datetime = timestamp()
    updated_at: datetime = timestamp()
    answer: str | None = Field(default=None, sa_type=Text)
    answered_at: datetime | None = timestamp(nullable=True, default_now=False)
    hidden_at: datetime | None = timestamp(nullable=True, default_now=False)
    hidden_reason: str | None = Field(default=None, max_length=500)
