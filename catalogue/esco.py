"""Import the ESCO CSV distribution: skills, occupations and the skills each occupation needs.

Reads `skills_<lang>.csv`, `occupations_<lang>.csv` and `occupationSkillRelations_<lang>.csv`
(ESCO's column names: conceptUri, preferredLabel, altLabels, description, skillType, reuseLevel,
iscoGroup, code; occupationUri, relationType, skillUri). Files named otherwise are recognised by
their columns. Rows stream in batches of bulk upserts (`INSERT … ON CONFLICT`), so memory grows
with the number of concepts, not the size of the files; a row that is unchanged is not rewritten.

A bad row (no URI, an unknown skill type, a relation to a URI nowhere in the catalogue, …) is
skipped and reported with its file and line; a structural problem (a missing file or column, a
file that is not UTF-8) stops the import. Everything runs in the caller's transaction, so a
failure leaves the catalogue as it was.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Table, func
from sqlmodel import Session, col, select

from catalogue import bulk, search
from catalogue.base import table_of
from catalogue.errors import InvalidInput
from catalogue.models import JobRole, JobRoleSkill, Skill, SkillLabel, SkillLevel
from catalogue.organisations import slugify
from catalogue.text import text_problem

ESCO_SKILL = "http://data.europa.eu/esco/skill/"
ESCO_OCCUPATION = "http://data.europa.eu/esco/occupation/"
PRIMARY_LANGUAGE = "en"  # the language of the main label columns when several are imported
BATCH = 1000
_ISCO = re.compile(r"[0-9]{1,4}")  # ASCII: str.isdigit() also takes "²"
MAX_REPORTED = 1000

OFFICIAL_NAMES = {
    "skills": "skills_{lang}.csv",
    "occupations": "occupations_{lang}.csv",
    "relations": "occupationSkillRelations_{lang}.csv",
}
REQUIRED_COLUMNS = {
    "skills": ("conceptUri", "preferredLabel"),
    "occupations": ("conceptUri", "preferredLabel"),
    "relations": ("occupationUri", "relationType", "skillUri"),
}
SKILL_TYPES = {"skill/competence": "skill", "skill": "skill", "knowledge": "knowledge"}
REUSE_LEVELS = {"transversal", "cross-sector", "sector-specific", "occupation-specific"}
CONCEPT_TYPES = {"skills": "KnowledgeSkillCompetence", "occupations": "Occupation"}

Progress = Callable[[str, int, int], None]
"""Called with (file kind, characters read, file size) as the import advances."""


class EscoImportError(InvalidInput):
    code = "esco_import_failed"


@dataclass
class RowProblem:
    file: str
    line: int
    message: str


@dataclass
class Counts:
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class ImportReport:
    language: str
    files: dict[str, str] = field(default_factory=dict)
    skills: Counts = field(default_factory=Counts)
    occupations: Counts = field(default_factory=Counts)
    relations: Counts = field(default_factory=Counts)
    problems: list[RowProblem] = field(default_factory=list)
    problem_count: int = 0

    def problem(self, file: str, line: int, message: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_REPORTED:
            self.problems.append(RowProblem(file, line, message))


# --- finding the files --------------------------------------------------------------------------


def _header(path: Path) -> list[str]:
    with path.open("rb") as f:
        first = f.readline()
    try:
        return next(csv.reader([first.decode("utf-8-sig")]), [])
    except (UnicodeDecodeError, csv.Error) as exc:
        raise EscoImportError(f"{path.name}: cannot read the header: {exc}") from None


def _kind_of(header: list[str]) -> str | None:
    columns = set(header)
    if {"occupationUri", "skillUri"} <= columns:
        return "relations"
    if {"conceptUri", "preferredLabel"} <= columns:
        if "iscoGroup" in columns:
            return "occupations"
        if columns & {"skillType", "reuseLevel"}:
            return "skills"
    return None


def find_files(directory: Path, language: str) -> dict[str, Path]:
    """ESCO's own file names first; otherwise the one CSV whose columns fit each kind."""
    if not directory.is_dir():
        raise EscoImportError(f"{directory} is not a directory")
    found = {
        kind: directory / name.format(lang=language)
        for kind, name in OFFICIAL_NAMES.items()
        if (directory / name.format(lang=language)).is_file()
    }
    if len(found) < len(OFFICIAL_NAMES):
        candidates: dict[str, list[Path]] = {}
        for path in sorted(directory.glob("*.csv")):
            kind = _kind_of(_header(path)) if path not in found.values() else None
            if kind and kind not in found:
                candidates.setdefault(kind, []).append(path)
        for kind, paths in candidates.items():
            if len(paths) > 1:
                paths = [p for p in paths if f"_{language}." in p.name] or paths
            if len(paths) > 1:
                names = ", ".join(p.name for p in paths)
                raise EscoImportError(f"several files look like ESCO {kind}: {names}")
            found[kind] = paths[0]
    if not found:
        raise EscoImportError(
            f"no ESCO CSV files in {directory} (expected e.g. skills_{language}.csv, "
            f"occupations_{language}.csv, occupationSkillRelations_{language}.csv)"
        )
    for kind, path in found.items():
        missing = [c for c in REQUIRED_COLUMNS[kind] if c not in _header(path)]
        if missing:
            raise EscoImportError(f"{path.name}: missing column(s) {', '.join(missing)}")
    return found


# --- reading rows -------------------------------------------------------------------------------


def _rows(
    path: Path, kind: str, report: ImportReport, progress: Progress | None
) -> Iterator[tuple[int, dict[str, str]]]:
    """(first line number, row) for each well-formed record; malformed ones are reported."""
    size = path.stat().st_size
    done = 0

    def lines(f: Any) -> Iterator[str]:
        nonlocal done
        for n, line in enumerate(f):
            done += len(line)
            if progress and n % 2000 == 0:
                progress(kind, done, size)
            yield line

    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(lines(f))
            header = next(reader, None)
            if header is None:
                raise EscoImportError(f"{path.name}: the file is empty")
            width = len(header)
            previous_end = reader.line_num
            for record in reader:
                start, previous_end = previous_end + 1, reader.line_num
                if not any(v.strip() for v in record):
                    continue
                if len(record) != width:
                    report.problem(
                        path.name, start, f"expected {width} fields, found {len(record)}"
                    )
                    continue
                # Labels and descriptions may span lines; nothing may hold NUL or controls.
                problem = next(
                    (
                        f"{name} {found}"
                        for name, value in zip(header, record, strict=True)
                        if (found := text_problem(value.replace("\r\n", "\n"), single_line=False))
                    ),
                    None,
                )
                if problem:
                    report.problem(path.name, start, problem)
                    continue
                yield start, dict(zip(header, record, strict=True))
    except UnicodeDecodeError as exc:
        raise EscoImportError(f"{path.name}: not UTF-8 text ({exc.reason})") from None
    except csv.Error as exc:
        raise EscoImportError(f"{path.name}: line {reader.line_num}: {exc}") from None
    if progress:
        progress(kind, size, size)


def _labels(value: str) -> str:
    """ESCO separates alternative labels by newlines (some extracts by ' | ')."""
    parts = value.splitlines() if "\n" in value else value.split(" | ")
    return "\n".join(dict.fromkeys(p.strip() for p in parts if p.strip()))


def _concept_row(
    kind: str, prefix: str, row: dict[str, str], seen: dict[str, int], line: int
) -> tuple[str, str] | str:
    """(uri, label) or a problem message."""
    uri = row["conceptUri"].strip()
    label = row["preferredLabel"].strip()
    concept_type = row.get("conceptType", "").strip()
    if not uri.startswith(prefix) or len(uri) > 500 or " " in uri:
        return f"conceptUri {uri!r} is not an ESCO {kind[:-1]} URI ({prefix}…)"
    if concept_type and concept_type != CONCEPT_TYPES[kind]:
        return f"conceptType {concept_type!r} is not {CONCEPT_TYPES[kind]}"
    if not label:
        return "preferredLabel is empty"
    if problem := text_problem(label, single_line=True):
        return f"preferredLabel {problem}"
    if len(label) > 500:
        return "preferredLabel is longer than 500 characters"
    if uri in seen:
        return f"conceptUri {uri} repeats line {seen[uri]}"
    seen[uri] = line
    return uri, label


class SlugAllocator:
    """Stable, unique slugs: an existing concept keeps its slug; a new one gets one from its
    label, made unique with a short hash of its URI when the label's slug is taken."""

    def __init__(self, session: Session, table: Table) -> None:
        self.by_iri: dict[str, str] = dict(session.exec(select(table.c.iri, table.c.slug)).all())
        self.taken = set(self.by_iri.values())

    def __call__(self, iri: str, label: str) -> str:
        if iri in self.by_iri:
            return self.by_iri[iri]
        base = slugify(label)[:100].strip("-")
        slug = base
        if slug in self.taken:
            slug = f"{base}-{hashlib.sha1(iri.encode()).hexdigest()[:6]}"
        n = 1
        while slug in self.taken:
            n += 1
            slug = f"{base}-{hashlib.sha1(iri.encode()).hexdigest()[:6]}-{n}"
        self.taken.add(slug)
        self.by_iri[iri] = slug
        return slug


def _ids(session: Session, table: Table, iris: list[str]) -> dict[str, int]:
    return dict(session.exec(select(table.c.iri, table.c.id).where(table.c.iri.in_(iris))).all())


def _count(session: Session, table: Table) -> int:
    return session.exec(select(func.count()).select_from(table)).one()


def _tally(counts: Counts, valid: int, inserted: int, changed: int) -> None:
    counts.inserted += inserted
    counts.updated += changed - inserted
    counts.unchanged += valid - changed


# --- the three files ----------------------------------------------------------------------------


def _import_skills(
    session: Session, path: Path, language: str, report: ImportReport, progress: Progress | None
) -> set[int]:
    table = table_of(Skill)
    labels_table = table_of(SkillLabel)
    slugs = SlugAllocator(session, table)
    seen: dict[str, int] = {}
    touched: set[int] = set()
    primary = language == PRIMARY_LANGUAGE
    main_columns = ("preferred_label", "alt_labels", "description", "skill_type", "reuse_level")
    before = _count(session, table)
    changed = valid = 0
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        nonlocal changed
        now = datetime.now(UTC)
        for row in batch:
            row["created_at"] = row["updated_at"] = now
        changed += bulk.upsert(
            session,
            table,
            [{k: v for k, v in r.items() if k != "language_row"} for r in batch],
            key=("iri",),
            update=main_columns if primary else ("skill_type", "reuse_level"),
            touch=("updated_at",),
        )
        ids = _ids(session, table, [r["iri"] for r in batch])
        touched.update(ids.values())
        bulk.upsert(
            session,
            labels_table,
            [{**r["language_row"], "skill_id": ids[r["iri"]]} for r in batch],
            key=("skill_id", "language"),
            update=("preferred_label", "alt_labels", "description"),
        )
        batch.clear()

    for line, row in _rows(path, "skills", report, progress):
        report.skills.read += 1
        found = _concept_row("skills", ESCO_SKILL, row, seen, line)
        if isinstance(found, str):
            report.problem(path.name, line, found)
            continue
        uri, label = found
        skill_type = row.get("skillType", "").strip()
        reuse = row.get("reuseLevel", "").strip()
        if skill_type and skill_type not in SKILL_TYPES:
            report.problem(path.name, line, f"skillType {skill_type!r} is not one of ESCO's")
            continue
        if reuse and reuse not in REUSE_LEVELS:
            report.problem(path.name, line, f"reuseLevel {reuse!r} is not one of ESCO's")
            continue
        alt = _labels(row.get("altLabels", ""))
        description = row.get("description", "").strip() or None
        valid += 1
        batch.append(
            {
                "iri": uri,
                "slug": slugs(uri, label),
                "preferred_label": label,
                "alt_labels": alt,
                "description": description,
                "skill_type": SKILL_TYPES.get(skill_type),
                "reuse_level": reuse or None,
                "language_row": {
                    "language": language,
                    "preferred_label": label,
                    "alt_labels": alt,
                    "description": description,
                },
            }
        )
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    _tally(report.skills, valid, _count(session, table) - before, changed)
    return touched


def _import_occupations(
    session: Session, path: Path, language: str, report: ImportReport, progress: Progress | None
) -> set[int]:
    table = table_of(JobRole)
    slugs = SlugAllocator(session, table)
    seen: dict[str, int] = {}
    touched: set[int] = set()
    primary = language == PRIMARY_LANGUAGE
    columns = ("title", "alt_titles", "description", "isco_code", "esco_code")
    before = _count(session, table)
    changed = valid = 0
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        nonlocal changed
        changed += bulk.upsert(
            session,
            table,
            batch,
            key=("iri",),
            update=columns if primary else ("isco_code", "esco_code"),
            touch=("updated_at",),
        )
        touched.update(_ids(session, table, [r["iri"] for r in batch]).values())
        batch.clear()

    for line, row in _rows(path, "occupations", report, progress):
        report.occupations.read += 1
        found = _concept_row("occupations", ESCO_OCCUPATION, row, seen, line)
        if isinstance(found, str):
            report.problem(path.name, line, found)
            continue
        uri, label = found
        isco = row.get("iscoGroup", "").strip()
        code = row.get("code", "").strip()
        if isco and not _ISCO.fullmatch(isco):
            report.problem(path.name, line, f"iscoGroup {isco!r} is not an ISCO-08 code")
            continue
        if len(code) > 40:
            report.problem(path.name, line, "code is longer than 40 characters")
            continue
        valid += 1
        now = datetime.now(UTC)
        batch.append(
            {
                "iri": uri,
                "slug": slugs(uri, label),
                "title": label,
                "alt_titles": _labels(row.get("altLabels", "")),
                "description": row.get("description", "").strip() or None,
                "isco_code": isco or None,
                "esco_code": code or None,
                "created_at": now,
                "updated_at": now,
            }
        )
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    _tally(report.occupations, valid, _count(session, table) - before, changed)
    return touched


def _import_relations(
    session: Session, path: Path, report: ImportReport, progress: Progress | None
) -> None:
    table = table_of(JobRoleSkill)
    skill_ids = dict(session.exec(select(Skill.iri, col(Skill.id))).all())
    role_ids = dict(session.exec(select(JobRole.iri, col(JobRole.id))).all())
    seen: set[int] = set()
    before = _count(session, table)
    changed = valid = 0
    batch: list[dict[str, Any]] = []
    for line, row in _rows(path, "relations", report, progress):
        report.relations.read += 1
        occupation = row["occupationUri"].strip()
        skill = row["skillUri"].strip()
        relation = row["relationType"].strip().lower()
        role_id = role_ids.get(occupation)
        skill_id = skill_ids.get(skill)
        if relation not in ("essential", "optional"):
            problem = f"relationType {relation!r} is neither essential nor optional"
        elif role_id is None:
            problem = f"occupationUri {occupation or '(empty)'} is not a known occupation"
        elif skill_id is None:
            problem = f"skillUri {skill or '(empty)'} is not a known skill"
        elif (pair := role_id << 32 | skill_id) in seen:
            problem = "the same occupation and skill appear on an earlier line"
        else:
            problem = None
        if problem:
            report.problem(path.name, line, problem)
            continue
        seen.add(pair)
        valid += 1
        essential = relation == "essential"
        # ESCO gives no levels; a curated level survives re-imports (only `essential` updates).
        level = (SkillLevel.practitioner if essential else SkillLevel.awareness).value
        batch.append(
            {"job_role_id": role_id, "skill_id": skill_id, "essential": essential, "level": level}
        )
        if len(batch) >= BATCH:
            changed += bulk.upsert(
                session, table, batch, key=("job_role_id", "skill_id"), update=("essential",)
            )
            batch.clear()
    changed += bulk.upsert(
        session, table, batch, key=("job_role_id", "skill_id"), update=("essential",)
    )
    _tally(report.relations, valid, _count(session, table) - before, changed)


def import_esco(
    session: Session,
    directory: Path,
    *,
    language: str = PRIMARY_LANGUAGE,
    strict: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Upsert ESCO skills, occupations and relations from `directory` into the catalogue.

    With `strict`, any bad row fails the whole import (the caller rolls back)."""
    language = language.strip().lower()
    if not (language.isalpha() and 2 <= len(language) <= 3):
        raise EscoImportError(f"language {language!r} must be an ISO 639-1 code such as en")
    files = find_files(Path(directory), language)
    report = ImportReport(language=language, files={k: str(p) for k, p in files.items()})
    if "skills" in files:
        skill_ids = _import_skills(session, files["skills"], language, report, progress)
        search.index(session, "skill", skill_ids)
    if "occupations" in files:
        role_ids = _import_occupations(session, files["occupations"], language, report, progress)
        search.index(session, "job_role", role_ids)
    if "relations" in files:
        _import_relations(session, files["relations"], report, progress)
    if strict and report.problem_count:
        first = report.problems[0]
        raise EscoImportError(
            f"{report.problem_count} bad row(s), nothing imported; first: "
            f"{first.file} line {first.line}: {first.message}",
            details=[vars(p) for p in report.problems],
        )
    return report


def count_concepts(session: Session) -> dict[str, int]:
    """How many skills, job roles and relations the catalogue holds."""
    return {
        "skills": session.exec(select(func.count()).select_from(Skill)).one(),
        "job_roles": session.exec(select(func.count()).select_from(JobRole)).one(),
        "relations": session.exec(select(func.count()).select_from(JobRoleSkill)).one(),
    }
