"""Median cost of a Europass export (mapping, page rendering, JAdES seal), of verifying it,
and of one SHACL validation against the official EDC shapes.

Run: .venv/bin/python benchmarks/europass.py [rounds]
Uses a throwaway SQLite database with the demo; the SHACL figure needs the reference set
(../shared/reference, or SKILLSHUB_REFERENCE_DIR).
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlmodel import Session, col, select

from badges import europass, issuing
from badges.models import Issuer
from catalogue.models import Course, MicroCredential
from keys.sealing import generate_master_key
from keys.store import ensure_master_key
from openbadges_schemas.elm import EDC_AP_CONTEXT
from openbadges_schemas.loader import make_loader
from skillshub.db import make_engine, upgrade
from skillshub.demo import load_demo
from skillshub.devsupport import reference_dir
from skillshub.settings import Settings

ELM = reference_dir() / "elm"


def median_ms(action: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def shacl_validator() -> Callable[[dict], bool] | None:
    if not ELM.is_dir():
        return None
    import pyshacl
    from pyld import jsonld
    from rdflib import OWL, Graph

    shapes = Graph()
    for name in ("EDC-generic-no-cv.ttl", "EDC-generic-full.ttl"):
        shapes.parse(ELM / "shacl" / name, format="turtle")
    shapes.remove((None, OWL.imports, None))
    loader = make_loader(
        {EDC_AP_CONTEXT: json.loads((ELM / "context/edc-ap-context.jsonld").read_text())}
    )

    def validate(credential: dict) -> bool:
        nquads = jsonld.to_rdf(
            credential, {"format": "application/n-quads", "documentLoader": loader}
        )
        data = Graph().parse(data=nquads, format="nt")
        return bool(pyshacl.validate(data, shacl_graph=shapes, inference="none")[0])

    return validate


def main(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), master_key=generate_master_key())
        engine = make_engine(settings.sqlalchemy_url)
        upgrade(engine)
        with Session(engine, expire_on_commit=False) as session:
            load_demo(session, settings)
            master_key = ensure_master_key(session, settings.resolved_master_key())
            mc = session.exec(
                select(MicroCredential).where(col(MicroCredential.ects).is_not(None))
            ).first()
            course = session.get(Course, mc.course_id) if mc else None
            issuer = (
                session.exec(
                    select(Issuer).where(Issuer.organisation_id == course.organisation_id)
                ).first()
                if course
                else None
            )
            if mc is None or issuer is None:
                raise SystemExit("the demo catalogue has no micro-credential with ECTS to issue")
            record = issuing.issue(
                session,
                master_key,
                issuer=issuer,
                micro_credential=mc,
                recipient=issuing.Recipient(name="Ana Andromeda", email="ana@example.org"),
                base_url=settings.base_url,
            )

            def export() -> europass.EuropassExport:
                return europass.export_europass(session, master_key, record.uuid)

            document = export().document
            print(f"micro-credential {mc.slug!r}, {len(mc.languages)} language(s), {rounds} rounds")
            print(f"  export (map, render, seal)  {median_ms(export, rounds):8.1f} ms")
            verify_ms = median_ms(lambda: europass.verify_edc(document), rounds)
            print(f"  verify_edc                  {verify_ms:8.1f} ms")
            validate = shacl_validator()
            if validate is None:
                print(f"  SHACL: skipped, reference folder missing: {ELM}")
                return
            credential = json.loads(document["payload"])
            assert validate(credential)
            shacl_ms = median_ms(lambda: validate(credential), rounds)
            print(f"  SHACL validation (shapes loaded once) {shacl_ms:8.1f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
