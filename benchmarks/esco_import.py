"""ESCO import at full size (13,939 skills, 3,039 occupations, ~126,000 relations).

Generates ESCO-shaped CSVs (official file names and columns, realistic text lengths), then
imports them into a fresh SQLite file and a fresh PostgreSQL database, each in its own process,
twice (the second run finds everything unchanged). Prints seconds and peak RSS.

    .venv/bin/python benchmarks/esco_import.py [--keep DIR]

PostgreSQL: SKILLSHUB_TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test)
names a server where a scratch database may be created; it is skipped when unreachable.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

SKILLS, OCCUPATIONS, RELATIONS = 13_939, 3_039, 126_000
POSTGRES_ADMIN = os.environ.get(
    "SKILLSHUB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
WORDS = [
    "apply",
    "battery",
    "vehicle",
    "electrical",
    "systems",
    "manage",
    "design",
    "test",
    "maintain",
    "install",
    "repair",
    "safety",
    "quality",
    "data",
    "analyse",
    "develop",
    "monitor",
    "operate",
    "assemble",
    "inspect",
    "control",
    "energy",
    "storage",
    "electronic",
    "mechanical",
    "production",
    "process",
    "customer",
    "project",
    "plan",
    "technical",
    "documentation",
    "standards",
    "equipment",
    "tools",
    "software",
    "hardware",
    "thermal",
    "chemical",
    "components",
]


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def _uri(kind: str, rng: random.Random) -> str:
    return f"http://data.europa.eu/esco/{kind}/{uuid.UUID(int=rng.getrandbits(128), version=4)}"


def generate(
    directory: Path,
    n_skills: int = SKILLS,
    n_occupations: int = OCCUPATIONS,
    n_relations: int = RELATIONS,
) -> None:
    """ESCO-named CSVs with the given numbers of rows (deterministic)."""
    rng = random.Random(20260101)
    skills = [_uri("skill", rng) for _ in range(n_skills)]
    occupations = [_uri("occupation", rng) for _ in range(n_occupations)]
    with (directory / "skills_en.csv").open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(
            [
                "conceptType",
                "conceptUri",
                "skillType",
                "reuseLevel",
                "preferredLabel",
                "altLabels",
                "hiddenLabels",
                "status",
                "modifiedDate",
                "scopeNote",
                "definition",
                "inScheme",
                "description",
            ]
        )
        for uri in skills:
            out.writerow(
                [
                    "KnowledgeSkillCompetence",
                    uri,
                    rng.choice(["skill/competence", "knowledge"]),
                    rng.choice(["sector-specific", "cross-sector", "occupation-specific", ""]),
                    _text(rng, 4),
                    "\n".join(_text(rng, 4) for _ in range(rng.randint(0, 8))),
                    "",
                    "released",
                    "2023-01-01T00:00:00Z",
                    "",
                    "",
                    "http://data.europa.eu/esco/concept-scheme/skills",
                    _text(rng, rng.randint(15, 60)),
                ]
            )
    with (directory / "occupations_en.csv").open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(
            [
                "conceptType",
                "conceptUri",
                "iscoGroup",
                "preferredLabel",
                "altLabels",
                "hiddenLabels",
                "status",
                "modifiedDate",
                "regulatedProfessionNote",
                "scopeNote",
                "definition",
                "inScheme",
                "description",
                "code",
            ]
        )
        for n, uri in enumerate(occupations):
            isco = f"{rng.randint(1000, 9999)}"
            out.writerow(
                [
                    "Occupation",
                    uri,
                    isco,
                    _text(rng, 3),
                    "\n".join(_text(rng, 3) for _ in range(rng.randint(0, 10))),
                    "",
                    "released",
                    "2023-01-01T00:00:00Z",
                    "",
                    "",
                    "",
                    "http://data.europa.eu/esco/concept-scheme/occupations",
                    _text(rng, rng.randint(30, 90)),
                    f"{isco}.{n}",
                ]
            )
    with (directory / "occupationSkillRelations_en.csv").open(
        "w", newline="", encoding="utf-8"
    ) as f:
        out = csv.writer(f)
        out.writerow(["occupationUri", "relationType", "skillType", "skillUri"])
        per = n_relations // n_occupations
        extra = n_relations - per * n_occupations
        for n, occupation in enumerate(occupations):
            for skill in rng.sample(skills, per + (1 if n < extra else 0)):
                out.writerow(
                    [
                        occupation,
                        rng.choice(["essential", "essential", "optional"]),
                        "skill/competence",
                        skill,
                    ]
                )


def run_import(url: str, directory: str) -> None:
    """In a child process: import twice, print one JSON line per run."""
    from skillshub.db import make_engine, session_scope, upgrade

    engine = make_engine(url)
    upgrade(engine)
    from catalogue.esco import import_esco

    baseline_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for attempt in ("first", "again"):
        started = time.perf_counter()
        with session_scope(engine) as session:
            report = import_esco(session, Path(directory))
        seconds = time.perf_counter() - started
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            json.dumps(
                {
                    "run": attempt,
                    "seconds": round(seconds, 1),
                    "peak_rss_mib": round(peak_mib),
                    "baseline_mib": round(baseline_mib),
                    "skills": vars(report.skills),
                    "occupations": vars(report.occupations),
                    "relations": vars(report.relations),
                    "problems": report.problem_count,
                }
            ),
            flush=True,
        )
    engine.dispose()


def _postgres_database() -> tuple[str, str] | None:
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from skillshub.db import make_engine

    name = f"skillshub_bench_{uuid.uuid4().hex[:8]}"
    try:
        admin = make_engine(POSTGRES_ADMIN).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except Exception as exc:  # unreachable server: report and go on with SQLite
        print(f"PostgreSQL skipped: {type(exc).__name__}")
        return None
    url = make_url(POSTGRES_ADMIN).set(database=name).render_as_string(hide_password=False)
    return name, url


def _drop_postgres(name: str) -> None:
    from sqlalchemy import text

    from skillshub.db import make_engine

    admin = make_engine(POSTGRES_ADMIN).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _child(label: str, url: str, directory: Path) -> None:
    result = subprocess.run(
        [sys.executable, __file__, "--child", url, str(directory)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        print(f"{label}: failed\n{result.stderr}")
        return
    for line in result.stdout.splitlines():
        row = json.loads(line)
        counts = ", ".join(
            f"{k} +{row[k]['inserted']}/~{row[k]['updated']}/={row[k]['unchanged']}"
            for k in ("skills", "occupations", "relations")
        )
        print(
            f"{label:10} {row['run']:5}  {row['seconds']:6.1f} s  peak RSS "
            f"{row['peak_rss_mib']:4d} MiB (before import {row['baseline_mib']} MiB)  "
            f"({counts}; bad rows {row['problems']})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="write the generated CSVs here and keep them")
    parser.add_argument("--child", nargs=2, metavar=("URL", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_import(*args.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        directory = args.keep or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        generate(directory)
        size = sum(p.stat().st_size for p in directory.glob("*.csv")) / 2**20
        print(
            f"generated {SKILLS} skills, {OCCUPATIONS} occupations, {RELATIONS} relations "
            f"({size:.0f} MiB) in {time.perf_counter() - started:.1f} s"
        )
        print("(counts: +inserted/~updated/=unchanged)")
        _child("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}", directory)
        database = _postgres_database()
        if database:
            name, url = database
            try:
                _child("postgresql", url, directory)
            finally:
                _drop_postgres(name)


if __name__ == "__main__":
    main()
