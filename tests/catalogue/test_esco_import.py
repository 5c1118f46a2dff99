"""ESCO import: the real automotive sample, bad rows reported by line, idempotency, rollback."""

from __future__ import annotations

import csv
from pathlib import Path
from types import ModuleType

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlalchemy import select as core_select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from catalogue.base import table_of
from catalogue.esco import EscoImportError, count_concepts, import_esco
from catalogue.models import JobRole, JobRoleSkill, SearchDocument, Skill, SkillLabel
from skillshub.db import session_scope
from tests.support.reference import reference

SKILL = "http://data.europa.eu/esco/skill/"
OCCUPATION = "http://data.europa.eu/esco/occupation/"


def _sample() -> Path:
    return reference("elm", "esco")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _snapshot(session: Session) -> list[tuple]:
    rows: list[tuple] = []
    for model in (Skill, SkillLabel, JobRole, JobRoleSkill):
        rows += [tuple(r) for r in session.connection().execute(core_select(table_of(model)))]
    return rows


def test_real_sample_imports_every_row(engine: Engine, client: TestClient) -> None:
    sample = _sample()
    skills = _rows(sample / "esco_sample_skills.csv")
    occupations = _rows(sample / "esco_sample_occupations.csv")
    relations = _rows(sample / "esco_sample_occupation_skill_relations.csv")
    with session_scope(engine) as session:
        report = import_esco(session, sample)
    assert report.problem_count == 0, report.problems[:3]
    assert (report.skills.inserted, report.occupations.inserted, report.relations.inserted) == (
        len(skills),
        len(occupations),
        len(relations),
    )
    with session_scope(engine) as session:
        assert count_concepts(session) == {
            "skills": len(skills),
            "job_roles": len(occupations),
            "relations": len(relations),
        }

    engineer = next(o for o in occupations if o["preferredLabel"] == "battery system engineer")
    role = client.get(f"/api/v1/job-roles/{engineer['conceptUri']}").json()
    assert role["title"] == "battery system engineer"
    assert role["isco_code"] == engineer["iscoGroup"] and role["esco_code"] == engineer["code"]
    assert role["alt_titles"] == [a.strip() for a in engineer["altLabels"].split(" | ")]
    expected = {
        (r["skillUri"], r["relationType"] == "essential")
        for r in relations
        if r["occupationUri"] == engineer["conceptUri"]
    }
    assert {(s["iri"], s["essential"]) for s in role["skills"]} == expected
    typed = next(s for s in skills if s["skillType"] == "knowledge" and s["reuseLevel"])
    skill = client.get(f"/api/v1/skills/{typed['conceptUri']}").json()
    assert skill["preferred_label"] == typed["preferredLabel"]
    assert skill["skill_type"]["iri"] == "http://data.europa.eu/snb/skill-type/knowledge"
    assert skill["reuse_level"]["iri"].endswith("/skill-reuse-level/" + typed["reuseLevel"])
    assert skill["labels"][0]["language"] == "en"
    found = client.get("/api/v1/search", params={"q": "battery system engineer"}).json()
    assert found["items"][0]["slug"] == role["slug"]


def test_second_import_changes_nothing(engine: Engine) -> None:
    with session_scope(engine) as session:
        import_esco(session, _sample())
    with session_scope(engine) as session:
        before = _snapshot(session)
    with session_scope(engine) as session:
        again = import_esco(session, _sample())
    assert again.skills.inserted == again.skills.updated == 0
    assert again.skills.unchanged == again.skills.read
    assert again.relations.unchanged == again.relations.read
    with session_scope(engine) as session:
        assert _snapshot(session) == before


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _bad_distribution(directory: Path) -> Path:
    """ESCO-named files with bad rows at known lines (line 2-3 is one multi-line record)."""
    a, b, c, d = (f"{SKILL}0000000{n}-0000-4000-8000-000000000000" for n in range(4))
    _write(
        directory / "skills_en.csv",
        "conceptType,conceptUri,skillType,reuseLevel,preferredLabel,altLabels,description\n"
        f"KnowledgeSkillCompetence,{a},skill/competence,sector-specific,recycle batteries,"
        '"reuse cells\n'
        f'battery recycling",Recover materials from spent cells.\n'
        "KnowledgeSkillCompetence,not-a-uri,knowledge,,broken,,\n"
        f"KnowledgeSkillCompetence,{b},talent,,odd type,,\n"
        f"KnowledgeSkillCompetence,{c},knowledge,,,,\n"
        "too,few,fields\n"
        f"KnowledgeSkillCompetence,{a},knowledge,,recycle batteries again,,\n"
        f"KnowledgeSkillCompetence,{d},knowledge,transversal,cell chemistry,,\n",
    )
    role = f"{OCCUPATION}00000000-0000-4000-8000-000000000001"
    _write(
        directory / "occupations_en.csv",
        "conceptType,conceptUri,iscoGroup,preferredLabel,altLabels,description,code\n"
        f'Occupation,{role},2151,battery recycler,"cell recycler\nrecycling operative",'
        "Recycles batteries.,2151.9\n"
        f"Occupation,{OCCUPATION}00000000-0000-4000-8000-000000000002,21x,bad isco,,,\n",
    )
    _write(
        directory / "occupationSkillRelations_en.csv",
        "occupationUri,relationType,skillType,skillUri\n"
        f"{role},essential,skill/competence,{a}\n"
        f"{role},optional,knowledge,{d}\n"
        f"{role},essential,knowledge,{SKILL}99999999-0000-4000-8000-000000000000\n"
        f"{OCCUPATION}99999999-0000-4000-8000-000000000000,essential,knowledge,{a}\n"
        f"{role},sometimes,knowledge,{d}\n"
        f"{role},essential,skill/competence,{a}\n",
    )
    return directory


def test_bad_rows_are_reported_with_file_and_line(engine: Engine, tmp_path: Path) -> None:
    with session_scope(engine) as session:
        report = import_esco(session, _bad_distribution(tmp_path))
    problems = {(p.file, p.line): p.message for p in report.problems}
    assert set(problems) == {
        ("skills_en.csv", 4),
        ("skills_en.csv", 5),
        ("skills_en.csv", 6),
        ("skills_en.csv", 7),
        ("skills_en.csv", 8),
        ("occupations_en.csv", 4),
        ("occupationSkillRelations_en.csv", 4),
        ("occupationSkillRelations_en.csv", 5),
        ("occupationSkillRelations_en.csv", 6),
        ("occupationSkillRelations_en.csv", 7),
    }
    assert "not an ESCO skill URI" in problems[("skills_en.csv", 4)]
    assert "talent" in problems[("skills_en.csv", 5)]
    assert "expected 7 fields, found 3" in problems[("skills_en.csv", 7)]
    assert "repeats line 2" in problems[("skills_en.csv", 8)]
    assert "not a known skill" in problems[("occupationSkillRelations_en.csv", 4)]
    assert "not a known occupation" in problems[("occupationSkillRelations_en.csv", 5)]
    assert report.problem_count == len(problems)
    assert (report.skills.inserted, report.occupations.inserted, report.relations.inserted) == (
        2,
        1,
        2,
    )
    with session_scope(engine) as session:
        recycled = session.exec(
            select(Skill).where(col(Skill.preferred_label) == "recycle batteries")
        )
        assert recycled.one().alt_labels == "reuse cells\nbattery recycling"


def test_strict_import_with_bad_rows_writes_nothing(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(EscoImportError) as failure, session_scope(engine) as session:
        import_esco(session, _bad_distribution(tmp_path), strict=True)
    assert "skills_en.csv line 4" in failure.value.message
    with session_scope(engine) as session:
        assert count_concepts(session) == {"skills": 0, "job_roles": 0, "relations": 0}


def test_structural_problems_stop_the_import(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(EscoImportError, match="no ESCO CSV files"), session_scope(engine) as s:
        import_esco(s, tmp_path)
    _write(tmp_path / "skills_en.csv", "conceptUri,skillType\nhttp://x,knowledge\n")
    with pytest.raises(EscoImportError, match="missing column"), session_scope(engine) as s:
        import_esco(s, tmp_path)
    good = f"{SKILL}00000000-0000-4000-8000-000000000009"
    (tmp_path / "skills_en.csv").write_bytes(
        b"conceptUri,preferredLabel,skillType\n"
        + f"{good},fine,knowledge\n".encode()
        + b"http://data.europa.eu/esco/skill/x,caf\xe9,knowledge\n"
    )
    with pytest.raises(EscoImportError, match="not UTF-8"), session_scope(engine) as s:
        import_esco(s, tmp_path)
    with session_scope(engine) as session:
        assert count_concepts(session)["skills"] == 0


def test_another_language_adds_labels_only(engine: Engine, tmp_path: Path) -> None:
    sample = _sample()
    with session_scope(engine) as session:
        import_esco(session, sample)
    skill = next(
        r
        for r in _rows(sample / "esco_sample_skills.csv")
        if r["preferredLabel"] == "battery design"
    )
    _write(
        tmp_path / "skills_de.csv",
        "conceptType,conceptUri,skillType,reuseLevel,preferredLabel,altLabels,description\n"
        f"KnowledgeSkillCompetence,{skill['conceptUri']},knowledge,,Batteriedesign,,\n",
    )
    with session_scope(engine) as session:
        report = import_esco(session, tmp_path, language="de")
        assert report.skills.read == 1 and report.skills.inserted == 0
    with session_scope(engine) as session:
        row = session.exec(select(Skill).where(col(Skill.iri) == skill["conceptUri"])).one()
        assert row.preferred_label == "battery design"
        labels = session.exec(select(SkillLabel).where(col(SkillLabel.skill_id) == row.id))
        assert {(lbl.language, lbl.preferred_label) for lbl in labels} == {
            ("en", "battery design"),
            ("de", "Batteriedesign"),
        }


def _benchmark_module() -> ModuleType:
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "esco_import.py"
    spec = importlib.util.spec_from_file_location("esco_import_benchmark", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow  # full-size ESCO import: tens of seconds
def test_full_size_generated_distribution(engine: Engine, tmp_path: Path) -> None:
    """ESCO's real size (what the benchmark times): every row lands, batches join up, and a
    second run finds everything unchanged."""
    bench = _benchmark_module()
    bench.generate(tmp_path)
    with session_scope(engine) as session:
        report = import_esco(session, tmp_path)
    assert report.problem_count == 0
    assert (report.skills.inserted, report.occupations.inserted, report.relations.inserted) == (
        bench.SKILLS,
        bench.OCCUPATIONS,
        bench.RELATIONS,
    )
    with session_scope(engine) as session:
        assert count_concepts(session) == {
            "skills": bench.SKILLS,
            "job_roles": bench.OCCUPATIONS,
            "relations": bench.RELATIONS,
        }
        labels = session.exec(select(func.count()).select_from(SkillLabel)).one()
        documents = session.exec(select(func.count()).select_from(SearchDocument)).one()
        assert (labels, documents) == (bench.SKILLS, bench.SKILLS + bench.OCCUPATIONS)
    with session_scope(engine) as session:
        again = import_esco(session, tmp_path)
    assert (again.skills.unchanged, again.occupations.unchanged, again.relations.unchanged) == (
        bench.SKILLS,
        bench.OCCUPATIONS,
        bench.RELATIONS,
    )
