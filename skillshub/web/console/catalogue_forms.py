"""The catalogue editor's forms: what a browser sends, as the JSON the catalogue services take,
and what the form shows again (values, chosen skills with their labels, errors by field).

Field names are the API's (`title`, `eqf_level`, `learning_outcomes.2.text`, …), so a service
error's `field` is the form field it belongs to. Learning outcomes and skills add and remove
rows by submit buttons (`action`), which keep every value typed so far; the page's script
does the same in place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from catalogue import search, skills, vocabularies
from catalogue.models import SkillLevel
from catalogue.schemas import CourseIn, MicroCredentialIn, SearchFilters, SkillRef
from skillshub.web.i18n import N_, Said, say

Pairs = list[tuple[str, str]]
MAX_OUTCOMES = 50
MAX_SKILLS = 100
SEARCH_HITS = 10

MC_FIELDS = (
    "course",
    "title",
    "slug",
    "description",
    "country",
    "region",
    "ects",
    "workload_hours",
    "eqf_level",
    "assessment_type",
    "mode",
    "quality_assurance",
    "prerequisites",
    "supervision",
    "grade_scheme",
    "stackable_towards",
    "further_information",
    "badge_image_url",
    "criteria_narrative",
    "valid_for_months",
    "valid_for_days",
    "maximum_duration",
    "achievement_type",
    "isced_f",
)
# The quality-assurance body: one nested object in the API, four fields in the form.
QA_BODY_FIELDS = tuple(
    f"quality_assurance_body.{part}" for part in ("name", "country", "homepage", "id")
)
COURSE_FIELDS = (
    "title",
    "slug",
    "description",
    "mode",
    "learning_setting",
    "workload_hours",
    "ects",
    "eqf_level",
    "isced_f",
    "country",
    "region",
    "url",
    "price.amount",
    "price.currency",
)
# Shown in the error summary ("EQF level: must be …").
LABELS = {
    "course": N_("Course"),
    "title": N_("Title"),
    "slug": N_("Address (slug)"),
    "description": N_("Description"),
    "country": N_("Country"),
    "region": N_("Region"),
    "ects": N_("ECTS credits"),
    "workload_hours": N_("Workload in hours"),
    "eqf_level": N_("EQF level"),
    "assessment_type": N_("Type of assessment"),
    "mode": N_("Form of participation"),
    "quality_assurance": N_("Quality assurance"),
    "quality_assurance_body": N_("Quality-assurance body"),
    "quality_assurance_body.name": N_("Quality-assurance body"),
    "quality_assurance_body.country": N_("Country of the quality-assurance body"),
    "quality_assurance_body.homepage": N_("Web site of the quality-assurance body"),
    "quality_assurance_body.id": N_("Identifier (URI) of the quality-assurance body"),
    "prerequisites": N_("Prerequisites"),
    "supervision": N_("Supervision and identity verification"),
    "grade_scheme": N_("Grading scheme"),
    "stackable_towards": N_("Stackable towards"),
    "further_information": N_("Further information"),
    "badge_image_url": N_("Badge image address"),
    "badge_image": N_("Badge image"),
    "criteria_narrative": N_("Criteria"),
    "valid_for_months": N_("Valid for (months)"),
    "valid_for_days": N_("Valid for (days)"),
    "maximum_duration": N_("Maximum duration"),
    "achievement_type": N_("Achievement type"),
    "isced_f": N_("Field of education (ISCED-F)"),
    "languages": N_("Languages"),
    "learning_outcomes": N_("Learning outcomes"),
    "learning_setting": N_("Learning setting"),
    "url": N_("Course web page"),
    "price": N_("Price"),
    "start_dates": N_("Start dates"),
    "skills": N_("Skills taught"),
    "state": N_("Publication"),
}
_ROW = re.compile(r"learning_outcomes\.(\d{1,3})\.(text|skills|q)\Z")


@dataclass
class Outcome:
    text: str = ""
    skills: list[SkillRef] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # keys that name no skill
    q: str = ""
    hits: list[SkillRef] | None = None  # a search without script: results to tick


@dataclass
class ChosenSkill:
    skill: SkillRef
    level: str


@dataclass
class Form:
    """Everything a catalogue form shows again."""

    values: dict[str, str] = field(default_factory=dict)
    languages: list[str] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    skills: list[ChosenSkill] = field(default_factory=list)  # a course's
    skill_q: str = ""
    skill_hits: list[SkillRef] | None = None
    start_dates: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    def error_list(self) -> list[tuple[str, str | Said, str]]:
        """(anchor id, label, message) for the summary at the top, in form order."""
        return [(anchor(name), label_of(name), message) for name, message in self.errors.items()]


def field_id(name: str) -> str:
    return "f-" + re.sub(r"[^A-Za-z0-9_-]", "-", name)


def anchor(name: str) -> str:
    """The form control an error is about (a list's first control for a list's error)."""
    if name == "learning_outcomes" or (
        name.startswith("learning_outcomes.") and name.count(".") == 1
    ):
        return field_id("learning_outcomes")
    if name.startswith("price"):
        return field_id("price.amount")
    if name.startswith(("languages", "skills", "start_dates")):
        return field_id(name.split(".")[0])
    return field_id(name)


def label_of(name: str) -> str | Said:
    match = re.match(r"learning_outcomes\.(\d+)", name)
    if match:
        return say(N_("Learning outcome %(n)s"), n=match.group(1))
    return LABELS.get(name) or LABELS.get(name.split(".")[0], name)


def _first(pairs: Pairs, name: str) -> str:
    return next((v for k, v in pairs if k == name), "")


def _all(pairs: Pairs, name: str) -> list[str]:
    return [v for k, v in pairs if k == name and v.strip()]


def _optional(value: str) -> str | None:
    return value.strip() or None


# --- micro-credentials ------------------------------------------------------------------------


def micro_credential_form(session: Session, pairs: Pairs) -> Form:
    """The form as sent (for showing it again)."""
    form = Form(values={name: _first(pairs, name) for name in MC_FIELDS + QA_BODY_FIELDS})
    form.values["state"] = _first(pairs, "state")
    form.languages = _all(pairs, "languages")
    rows: dict[int, Outcome] = {}
    for key, value in pairs:
        match = _ROW.match(key)
        if not match or int(match.group(1)) > MAX_OUTCOMES:
            continue
        row = rows.setdefault(int(match.group(1)), Outcome())
        if match.group(2) == "text":
            row.text = value
        elif match.group(2) == "q":
            row.q = value
        elif value.strip() and len(row.missing) + len(row.skills) < MAX_SKILLS:
            row.missing.append(value.strip())
    form.outcomes = [rows[n] for n in sorted(rows)] or [Outcome()]
    _label_outcome_skills(session, form.outcomes)
    return form


def _label_outcome_skills(session: Session, outcomes: list[Outcome]) -> None:
    found = skills.skill_refs(session, [k for o in outcomes for k in o.missing])
    for outcome in outcomes:
        chosen = {s.iri: s for s in outcome.skills}
        for key in outcome.missing:
            if key in found:
                chosen.setdefault(found[key].iri, found[key])
        outcome.missing = [k for k in outcome.missing if k not in found]
        outcome.skills = list(chosen.values())


def micro_credential_payload(form: Form) -> dict[str, Any]:
    """The JSON the service takes; empty fields are left out (the service's defaults)."""
    payload: dict[str, Any] = {}
    for name in MC_FIELDS:
        value = _optional(form.values.get(name, ""))
        if value is not None:
            payload[name] = value
    payload.setdefault("achievement_type", "MicroCredential")
    body = {f.split(".")[1]: _optional(form.values.get(f, "")) for f in QA_BODY_FIELDS}
    if any(body.values()):  # a name left out is reported at its field
        payload["quality_assurance_body"] = {k: v for k, v in body.items() if v is not None} | {
            "name": body["name"] or ""
        }
    payload["languages"] = form.languages
    payload["learning_outcomes"] = [
        {"text": o.text, "skills": [s.iri for s in o.skills] + o.missing}
        for o in form.outcomes
        if o.text.strip() or o.skills or o.missing
    ]
    return payload


def micro_credential_values(session: Session, data: MicroCredentialIn) -> Form:
    """A stored micro-credential as its form shows it."""
    dumped = data.model_dump()
    form = Form(
        values={k: "" if dumped.get(k) is None else _shown(dumped[k]) for k in MC_FIELDS},
        languages=list(data.languages),
        outcomes=[Outcome(text=o.text, missing=list(o.skills)) for o in data.learning_outcomes]
        or [Outcome()],
    )
    form.values["state"] = data.state.value if data.state else ""
    qa_body = dumped.get("quality_assurance_body") or {}
    for name in QA_BODY_FIELDS:
        form.values[name] = qa_body.get(name.split(".")[1]) or ""
    _label_outcome_skills(session, form.outcomes)
    return form


def _shown(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def act_on_outcomes(session: Session, form: Form, action: str) -> None:
    """The form's own buttons: another outcome, remove one, find skills for one."""
    kind, _, number = action.partition(":")
    index = int(number) - 1 if number.isdigit() else -1
    if kind == "add_outcome" and len(form.outcomes) < MAX_OUTCOMES:
        form.outcomes.append(Outcome())
    elif kind == "remove_outcome" and 0 <= index < len(form.outcomes):
        del form.outcomes[index]
        form.outcomes = form.outcomes or [Outcome()]
    elif kind == "find" and 0 <= index < len(form.outcomes):
        form.outcomes[index].hits = find_skills(session, form.outcomes[index].q)


def find_skills(session: Session, q: str) -> list[SkillRef]:
    """The skills search as the API runs it (the page's script calls /api/v1/search)."""
    if not search.terms(q):
        return []
    hits = search.search(session, q, SearchFilters(kind="skill"), per_page=SEARCH_HITS).items
    found = skills.skill_refs(session, [h.slug for h in hits])
    return [found[h.slug] for h in hits if h.slug in found]


# --- courses ------------------------------------------------------------------------


def course_form(session: Session, pairs: Pairs) -> Form:
    form = Form(values={name: _first(pairs, name) for name in COURSE_FIELDS})
    form.values["state"] = _first(pairs, "state")
    form.languages = _all(pairs, "languages")
    form.start_dates = _all(pairs, "start_dates")
    form.skill_q = _first(pairs, "skill_q")
    keys = _all(pairs, "skills")[:MAX_SKILLS]
    found = skills.skill_refs(session, keys)
    seen: set[str] = set()
    for key in keys:
        ref = found.get(key.strip())
        if ref is None or ref.iri in seen:
            continue
        seen.add(ref.iri)
        level = _first(pairs, f"skill_level.{key}") or SkillLevel.practitioner.value
        form.skills.append(ChosenSkill(ref, level))
    missing = [k for k in keys if k.strip() not in found]
    if missing:
        form.errors["skills"] = "unknown skill(s): " + ", ".join(missing[:5])
    return form


def course_payload(form: Form) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    for name in COURSE_FIELDS:
        value = _optional(form.values.get(name, ""))
        if value is not None and not name.startswith("price."):
            payload[name] = value
    amount = _optional(form.values.get("price.amount", ""))
    if amount is not None:
        payload["price"] = {
            "amount": amount,
            "currency": _optional(form.values.get("price.currency", "")) or "EUR",
        }
    payload["languages"] = form.languages
    payload["start_dates"] = form.start_dates
    payload["skills"] = [{"iri": c.skill.iri, "level": c.level} for c in form.skills]
    return payload


def course_values(session: Session, data: CourseIn) -> Form:
    dumped = data.model_dump(mode="json")
    values = {k: "" if dumped.get(k) is None else _shown(dumped[k]) for k in COURSE_FIELDS}
    if data.price is not None:
        values["price.amount"] = str(data.price.amount)
        values["price.currency"] = data.price.currency
    values["state"] = data.state.value if data.state else ""
    found = skills.skill_refs(session, [s.iri for s in data.skills])
    return Form(
        values=values,
        languages=list(data.languages),
        start_dates=[d.isoformat() for d in data.start_dates],
        skills=[ChosenSkill(found[s.iri], s.level.value) for s in data.skills if s.iri in found],
    )


# --- choices ------------------------------------------------------------------------


def choices() -> dict[str, Any]:
    """The controlled vocabularies, by their labels, for the selects."""
    return {
        key.replace("-", "_"): vocabularies.scheme(key).concepts
        for key in (
            "eqf",
            "isced-f",
            "language",
            "country",
            "learning-setting",
            "mode",
            "assessment",
            "quality-assurance",
            "supervision",
        )
    } | {
        "achievement_types": sorted(vocabularies.ACHIEVEMENT_TYPES),
        "levels": [level.value for level in SkillLevel],
    }
