"""`skillshub issue` and `skillshub issue-bulk` against a real database (both kinds)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner, Result

from badges.models import IssuedCredential
from badges.proofs import eddsa_rdfc_2022, vc_jwt
from keys.did import resolve_did_key
from skillshub.cli import app
from tests.support.world import World, make_world

runner = CliRunner()
BASE_URL = "http://testserver"


@pytest.fixture
def world(session: Session, master_key: str) -> World:
    return make_world(session, master_key)


@pytest.fixture
def env(tmp_path: Path, db_url: str, master_key: str) -> dict[str, str]:
    return {
        "SKILLSHUB_DATABASE_URL": db_url,
        "SKILLSHUB_MASTER_KEY": master_key,
        "SKILLSHUB_DATA_DIR": str(tmp_path / "data"),
        "SKILLSHUB_BASE_URL": BASE_URL,
    }


def _said(result: Result) -> str:
    """Everything the command wrote, with rich's line wrapping undone."""
    return " ".join(result.output.split())


def _credentials(engine: Engine) -> list[IssuedCredential]:
    with Session(engine) as fresh:
        return list(fresh.exec(select(IssuedCredential)))


def _issue_args(world: World, *extra: str) -> list[str]:
    return [
        "issue",
        "--micro-credential",
        world.mc.slug,
        "--name",
        "Ada Lovelace",
        "--email",
        "Ada@Example.org",
        *extra,
    ]


def test_issue_prints_a_data_integrity_credential_that_verifies(
    world: World, env: dict[str, str], engine: Engine
) -> None:
    result = runner.invoke(app, _issue_args(world, "--grade", "A"), env=env)
    assert result.exit_code == 0, result.output
    credential: dict[str, Any] = json.loads(result.stdout)  # stdout is the credential alone
    assert credential["issuer"]["id"] == world.issuer.did
    assert credential["credentialSubject"]["result"][0]["value"] == "A"
    [proof] = credential["proof"]
    _, public_key = resolve_did_key(proof["verificationMethod"])
    assert eddsa_rdfc_2022.verify_proof(credential, proof, public_key).ok
    [record] = _credentials(engine)
    assert record.signed == result.stdout.rstrip("\n")  # printed verbatim, as stored
    assert credential["id"] == f"{BASE_URL}/credentials/{record.uuid}"


def test_issue_with_given_and_family_names(
    world: World, env: dict[str, str], engine: Engine
) -> None:
    args = ["issue", "--micro-credential", world.mc.slug, "--email", "anna@example.org"]
    names = ["--given-name", "Anna", "--family-name", "Kovács", "--contact-consent"]
    result = runner.invoke(app, [*args, *names], env=env)
    assert result.exit_code == 0, result.output
    [record] = _credentials(engine)
    assert (record.recipient_name, record.recipient_given_name, record.recipient_family_name) == (
        "Anna Kovács",
        "Anna",
        "Kovács",
    )
    assert record.recipient_contact_consent
    nameless = runner.invoke(app, args, env=env)
    assert nameless.exit_code != 0 and "name" in _said(nameless)
    assert len(_credentials(engine)) == 1


def test_issue_format_jwt_prints_a_jws(world: World, env: dict[str, str]) -> None:
    result = runner.invoke(
        app, _issue_args(world, "--format", "jwt", "--did", "did:example:ada"), env=env
    )
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert token.count(".") == 2 and "{" not in token
    header, _ = vc_jwt.decode_unverified(token)
    _, public_key = resolve_did_key(header["kid"])
    claims = vc_jwt.verify(token, public_key)
    assert (claims["iss"], claims["sub"]) == (world.issuer.did, "did:example:ada")


def test_issue_out_writes_the_file(world: World, env: dict[str, str], tmp_path: Path) -> None:
    target = tmp_path / "badge.json"
    result = runner.invoke(app, _issue_args(world, "--out", str(target)), env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert json.loads(target.read_text())["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert str(target) in _said(result)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--micro-credential", "missing"], "micro-credential 'missing' does not exist"),
        (["--email", "not-an-email"], "email:"),
        (["--format", "xml"], "format must be one of ldp, jwt"),
        (["--did", "mailto:ada@example.org"], "is not a DID"),
    ],
)
def test_issue_refusals_are_clear_and_write_nothing(
    world: World, env: dict[str, str], engine: Engine, args: list[str], message: str
) -> None:
    result = runner.invoke(app, _issue_args(world, *args), env=env)
    assert result.exit_code == 1
    assert message in _said(result)
    assert result.stdout == ""
    assert _credentials(engine) == []


def test_issue_external_id_issues_once(world: World, env: dict[str, str], engine: Engine) -> None:
    first = runner.invoke(app, _issue_args(world, "--external-id", "enrol-7"), env=env)
    assert first.exit_code == 0, first.output
    # The same award again (a retried script): the same credential, said so, no second one.
    again = runner.invoke(app, _issue_args(world, "--external-id", "enrol-7"), env=env)
    assert again.exit_code == 0, again.output
    assert again.stdout == first.stdout
    assert "was issued before with this external id" in _said(again)
    # Another award under that id is refused.
    other = runner.invoke(
        app, _issue_args(world, "--external-id", "enrol-7", "--grade", "B"), env=env
    )
    assert other.exit_code == 1
    assert "external id 'enrol-7' was already issued" in _said(other)
    assert len(_credentials(engine)) == 1


def test_issue_with_another_organisations_issuer_is_refused(
    world: World, env: dict[str, str], session: Session, master_key: str, engine: Engine
) -> None:
    other = make_world(session, master_key, slug="otherco")
    result = runner.invoke(app, _issue_args(world, "--issuer", other.issuer.slug), env=env)
    assert result.exit_code == 1
    assert "is not awarded by issuer 'otherco'" in _said(result)
    assert _credentials(engine) == []


CSV = (
    "name,email,external_id,grade\n"
    "Ada Lovelace,ada@example.org,e1,A\n"
    "Bob,not-an-email,e2,B\n"
    "Cy Young,cy@example.org,e3,\n"
)


def test_issue_bulk_reports_the_bad_row_and_a_rerun_issues_nothing_twice(
    world: World, env: dict[str, str], engine: Engine, tmp_path: Path
) -> None:
    csv_file = tmp_path / "cohort.csv"
    csv_file.write_text(CSV)
    args = ["issue-bulk", str(csv_file), "--micro-credential", world.mc.slug]
    first = runner.invoke(app, args, env=env)
    assert first.exit_code == 1  # a row failed
    said = _said(first)
    assert "line 3: email:" in said
    assert "issued 2, already issued 0, failed 1 of 3 rows" in said
    records = _credentials(engine)
    assert sorted(r.external_id or "" for r in records) == ["e1", "e3"]

    rerun = runner.invoke(app, [*args, "--json"], env=env)
    assert rerun.exit_code == 1
    report = json.loads(rerun.stdout)
    assert (report["issued"], report["duplicates"], report["failed"]) == (0, 2, 1)
    by_line = {row["line"]: row for row in report["rows"]}
    assert by_line[3]["status"] == "failed" and "email" in by_line[3]["error"]
    assert {by_line[2]["credential"], by_line[4]["credential"]} == {r.uuid for r in records}
    assert len(_credentials(engine)) == 2


def test_issue_bulk_all_good_exits_zero_and_signs_each_row(
    world: World, env: dict[str, str], engine: Engine, tmp_path: Path
) -> None:
    csv_file = tmp_path / "good.csv"
    csv_file.write_text("name,email\nAda,ada@example.org\nCy,cy@example.org\n")
    result = runner.invoke(
        app,
        ["issue-bulk", str(csv_file), "--micro-credential", world.mc.slug, "--format", "jwt"],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert "issued 2, already issued 0, failed 0 of 2 rows" in _said(result)
    for record in _credentials(engine):
        header, _ = vc_jwt.decode_unverified(record.signed)
        _, public_key = resolve_did_key(header["kid"])
        assert vc_jwt.verify(record.signed, public_key)["iss"] == world.issuer.did


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("email\nada@example.org\n", "must name the column 'name', or 'given_name' and"),
        ("name\nAda\n", "the CSV header must name the column 'email'"),
        ("name,email,shoe_size\nAda,ada@example.org,42\n", "unknown CSV column(s): shoe_size"),
        ("name,email\n", "the bulk request has no rows"),
    ],
)
def test_issue_bulk_refuses_an_unusable_file(
    world: World,
    env: dict[str, str],
    engine: Engine,
    tmp_path: Path,
    content: str,
    message: str,
) -> None:
    csv_file = tmp_path / "bad.csv"
    csv_file.write_text(content)
    result = runner.invoke(
        app, ["issue-bulk", str(csv_file), "--micro-credential", world.mc.slug], env=env
    )
    assert result.exit_code == 1
    assert message in _said(result)
    assert _credentials(engine) == []
    missing = runner.invoke(
        app,
        ["issue-bulk", str(tmp_path / "nope.csv"), "--micro-credential", world.mc.slug],
        env=env,
    )
    assert missing.exit_code == 1 and "cannot read" in _said(missing)


def test_issue_to_an_unwritable_path_issues_nothing(
    world: World, env: dict[str, str], tmp_path: Path, session: Session
) -> None:
    result = runner.invoke(
        app, _issue_args(world, "--out", str(tmp_path / "missing" / "badge.json")), env=env
    )
    assert result.exit_code == 1 and "cannot write" in result.output
    session.expire_all()
    assert session.exec(select(IssuedCredential)).all() == []
