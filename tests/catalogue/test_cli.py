"""`skillshub catalogue …` through typer's CliRunner, against both databases."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlmodel import Session
from typer.testing import CliRunner, Result

from catalogue.demo import COURSES, MICRO_CREDENTIALS, SKILL_IRIS, SKILLS
from catalogue.organisations import create_organisation
from skillshub.cli import app
from skillshub.settings import Settings
from tests.support.reference import reference

Run = Callable[..., Result]


def _text(output: str) -> str:
    """Output with rich's line wrapping undone."""
    return " ".join(output.split())


@pytest.fixture
def run(settings: Settings) -> Run:
    runner = CliRunner()
    env = {
        "COLUMNS": "200",
        "SKILLSHUB_DATABASE_URL": settings.sqlalchemy_url,
        "SKILLSHUB_DATA_DIR": str(settings.data_dir),
        "SKILLSHUB_MASTER_KEY": settings.master_key or "",
    }

    def invoke(*args: str) -> Result:
        return runner.invoke(app, list(args), env=env)

    return invoke


def test_list_every_kind(run: Run, demo: dict) -> None:
    skills = json.loads(run("catalogue", "list", "skills", "--json").stdout)
    assert len(skills) == len(SKILLS)
    assert {s["iri"] for s in skills} == set(SKILL_IRIS.values())
    roles = json.loads(run("catalogue", "list", "job-roles", "--json").stdout)
    assert "battery-system-engineer" in {r["slug"] for r in roles}
    courses = json.loads(run("catalogue", "list", "courses", "--json").stdout)
    assert {c["slug"] for c in courses} == {f["slug"] for _p, f, _s in COURSES}
    mcs = json.loads(run("catalogue", "list", "micro-credentials", "--json", "--limit", "2").stdout)
    assert len(mcs) == 2 and {m["slug"] for m in mcs} <= {m["slug"] for m in MICRO_CREDENTIALS}
    text = run("catalogue", "list", "courses")
    assert text.exit_code == 0 and "battery-cell-chemistry-and-design" in _text(text.stdout)
    assert run("catalogue", "list", "planets").exit_code == 2


def test_gap(run: Run, demo: dict) -> None:
    have = SKILL_IRIS["battery management systems"]
    result = run("catalogue", "gap", "battery-system-engineer", "--have", have, "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert [s["iri"] for s in body["have"]] == [have]
    assert body["path"][0]["course"]["slug"] == "engineering-project-management-for-e-mobility"
    text = run("catalogue", "gap", "battery-system-engineer")
    assert "Training path" in _text(text.stdout) and "No course teaches" in _text(text.stdout)
    unknown = run("catalogue", "gap", "astronaut")
    assert unknown.exit_code == 1 and "does not exist" in _text(unknown.output)


def test_import_esco_reports_and_is_idempotent(run: Run, tmp_path: Path) -> None:
    sample = reference("elm", "esco")
    first = run("catalogue", "import-esco", str(sample), "--json")
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)
    assert report["problem_count"] == 0 and report["skills"]["inserted"] > 0
    again = json.loads(run("catalogue", "import-esco", str(sample), "--json").stdout)
    assert again["skills"]["inserted"] == again["skills"]["updated"] == 0
    assert again["relations"]["unchanged"] == report["relations"]["inserted"]
    (tmp_path / "occupationSkillRelations_en.csv").write_text(
        "occupationUri,relationType,skillType,skillUri\n"
        "http://data.europa.eu/esco/occupation/x,essential,,http://data.europa.eu/esco/skill/y\n",
        encoding="utf-8",
    )
    bad = run("catalogue", "import-esco", str(tmp_path))
    assert bad.exit_code == 0
    assert "occupationSkillRelations_en.csv line 2: occupationUri" in _text(bad.output)
    strict = run("catalogue", "import-esco", str(tmp_path), "--strict")
    assert strict.exit_code == 1 and "nothing imported" in _text(strict.output)
    missing = run("catalogue", "import-esco", str(tmp_path / "nowhere"))
    assert missing.exit_code == 1 and "not a directory" in _text(missing.output)


def test_export_then_import_into_another_provider(
    run: Run,
    demo: dict,
    session: Session,
    tmp_path: Path,
) -> None:
    exported = tmp_path / "volt.json"
    result = run("catalogue", "export", str(exported), "--org", "voltacademy")
    assert result.exit_code == 0, result.output
    document = json.loads(exported.read_text())
    assert {c["slug"] for c in document["courses"]} == {
        "battery-cell-chemistry-and-design",
        "battery-management-systems-engineering",
    }
    # Re-importing into the owner updates in place; into another provider the slugs clash.
    same = run("catalogue", "import", str(exported), "--org", "voltacademy")
    assert same.exit_code == 0 and "2 courses updated" in _text(same.stdout)
    create_organisation(session, legal_name="Copycat Ltd", country="IE", slug="copycat")
    session.commit()
    clash = run("catalogue", "import", str(exported), "--org", "copycat")
    assert clash.exit_code == 1 and "belongs to another organisation" in _text(clash.output)
    for course in document["courses"]:
        course["slug"] = "copy-" + course["slug"]
        for mc in course["micro_credentials"]:
            mc["slug"] = "copy-" + mc["slug"]
            if mc["stackable_towards"]:
                mc["stackable_towards"] = "copy-" + mc["stackable_towards"]
    exported.write_text(json.dumps(document))
    copied = run("catalogue", "import", str(exported), "--org", "copycat")
    assert copied.exit_code == 0, copied.output
    assert "2 courses created" in _text(copied.stdout) and "2 micro credentials created" in _text(
        copied.stdout
    )
    listed = json.loads(run("catalogue", "list", "micro-credentials", "--json").stdout)
    copies = {m["slug"]: m["provider"] for m in listed if m["slug"].startswith("copy-")}
    assert copies == {"copy-bms-engineer": "copycat", "copy-battery-cell-specialist": "copycat"}
    assert run("catalogue", "import", str(tmp_path / "none.json"), "--org", "x").exit_code == 1


def test_reindex(run: Run, demo: dict) -> None:
    result = run("catalogue", "reindex")
    assert result.exit_code == 0 and "(0 document(s) changed)" in _text(result.stdout)


def test_export_to_an_unwritable_path_is_a_clear_error(
    run: Run, demo: dict, tmp_path: Path
) -> None:
    target = tmp_path / "missing-folder" / "volt.json"
    result = run("catalogue", "export", str(target), "--org", "voltacademy")
    assert result.exit_code == 1
    assert f"cannot write {target}" in _text(result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit)
