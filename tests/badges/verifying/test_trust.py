"""The `issuer_trust` check on SQLite and PostgreSQL: a registered provider's badge, an unknown
issuer's, look-alikes (by name, with case, confusable and spacing variants; by an address of
this hub), trust lists (ours and the DCC registry format); and this hub's own links resolved
from the database on an http BASE_URL."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from badges import issuing, status
from badges.models import IssuedCredential, Issuer
from badges.report import Check, IssuerTrust, Status, VerificationReport
from badges.securing import issuer_signer, secure
from badges.sharing.page import set_public
from badges.verifying import VerificationContext, verify
from badges.verifying.fetching import FetchError
from badges.verifying.trust_lists import TrustListError, TrustLists, read_trust_list
from catalogue.base import pk
from catalogue.errors import DomainError
from catalogue.models import Organisation
from skillshub.db import make_engine
from skillshub.settings import Settings
from skillshub.verifier import VerifierSettingsError, verification_context
from tests.support.own import Signer, credential
from tests.support.present import check_of, present
from tests.support.world import World, make_world

BASE_URL = "http://testserver"
LEGAL_NAME = "VoltAcademy Batterietechnik GmbH"
FULLWIDTH = "".join(chr(ord(c) + 0xFEE0) for c in "VoltAcademy")


@pytest.fixture
def hub(session: Session, master_key: str) -> World:
    """The issue's provider: VoltAcademy, registered under its legal name."""
    world = make_world(session, master_key)
    world.org.legal_name = LEGAL_NAME
    session.add(world.org)
    session.commit()
    return world


def _settings(settings: Settings, **changes: Any) -> Settings:
    return settings.model_copy(update={"base_url": BASE_URL, "fetch_offline": True, **changes})


@pytest.fixture
def context(settings: Settings, session: Session) -> VerificationContext:
    return verification_context(_settings(settings)).bound(session)


def _issue(session: Session, world: World, *, public: bool = True) -> IssuedCredential:
    record = issuing.issue(
        session,
        world.master_key,
        issuer=world.issuer,
        micro_credential=world.mc,
        recipient=issuing.Recipient(name="Ada Lovelace", email="ada@example.org"),
        base_url=BASE_URL,
    )
    set_public(session, record, public)
    session.commit()
    return record


def _resigned(genuine: dict[str, Any], signer: Signer, **issuer: Any) -> dict[str, Any]:
    """The issue's look-alike: the genuine badge copied, another recipient, the issuer id
    swapped for a fresh did:key, re-signed."""
    copied = copy.deepcopy(genuine)
    copied.pop("proof")
    copied.pop("credentialStatus", None)
    copied["issuer"]["id"] = signer.did
    copied["issuer"].update(issuer)
    copied["credentialSubject"]["identifier"][1]["identityHash"] = "Mallory Impostor"
    return signer.data_integrity(copied)


def _foreign(signer: Signer, name: str, **achievement: Any) -> dict[str, Any]:
    """A badge of an issuer this hub does not know, naming itself `name`."""
    unsigned = credential(signer.did)
    unsigned["issuer"]["name"] = name
    unsigned["credentialSubject"]["achievement"].update(achievement)
    return signer.data_integrity(unsigned)


def trust_of(report: VerificationReport) -> Check:
    return check_of(report, "issuer_trust")


def issuer_of(report: VerificationReport) -> IssuerTrust:
    return present(report.summary.issuer_trust, "the issuer's trust in the summary")


# --- registered, unknown ----------------------------------------------------------------------


def test_a_registered_providers_badge_names_its_legal_name(
    session: Session, hub: World, context: VerificationContext
) -> None:
    record = _issue(session, hub)
    report = verify(context, record.signed)
    assert report.verdict == "valid", report.checks
    assert trust_of(report).status is Status.OK
    assert LEGAL_NAME in trust_of(report).message
    trust = issuer_of(report)
    assert (trust.standing, trust.legal_name, trust.country) == ("registered", LEGAL_NAME, "DE")
    assert trust.organisation_url == "/organisations/voltacademy"
    # What the catalogue knows: the EU elements and the skill's level.
    facts = present(report.summary.micro_credential, "the catalogue facts")
    assert (facts.workload_hours, facts.ects, facts.eqf_level) == (75, 3, 5)
    assert facts.url == f"{BASE_URL}/micro-credentials/{hub.mc.slug}"


def test_an_unknown_did_key_issuer_is_authentic_but_unvouched(
    context: VerificationContext, hub: World
) -> None:
    signer = Signer.ed25519()
    report = verify(context, signer.data_integrity(credential(signer.did)))
    assert report.verdict == "valid"
    assert trust_of(report).status is Status.WARNING
    assert "what the issuer says about itself" in trust_of(report).message
    assert issuer_of(report).standing == "unknown"
    assert issuer_of(report).claimed_name == "Volt Academy"
    assert report.summary.micro_credential is None  # no catalogue facts for strangers


def test_a_broken_signature_is_not_assessed(context: VerificationContext, hub: World) -> None:
    signer = Signer.ed25519()
    signed = _foreign(signer, LEGAL_NAME)
    signed["name"] = "Changed after signing"
    report = verify(context, signed)
    assert report.verdict == "invalid"
    assert trust_of(report).status is Status.SKIPPED
    assert issuer_of(report).standing == "unchecked"


# --- look-alikes ------------------------------------------------------------------------------


def test_the_issues_re_signed_copy_is_refused(
    session: Session, hub: World, context: VerificationContext
) -> None:
    genuine = json.loads(_issue(session, hub).signed)
    report = verify(context, _resigned(genuine, Signer.ed25519()))
    assert report.verdict == "invalid"
    check = trust_of(report)
    assert check.status is Status.ERROR
    assert f"the name of {LEGAL_NAME}" in check.message
    assert "micro-credentials/voltacademy-hv-battery belongs to" in check.message
    assert issuer_of(report).standing == "impersonation"
    assert issuer_of(report).legal_name == LEGAL_NAME
    assert report.summary.micro_credential is None


@pytest.mark.parametrize(
    "name",
    [
        LEGAL_NAME,
        "voltacademy batterietechnik gmbh",  # case
        "VOLTACADEMY BATTERIETECHNIK GMBH",
        "VoItAcademy Batterietechnik GmbH",  # capital I for l
        "V0ltAcademy Batterietechnik GmbH",  # zero for O
        "VoltAc\u0430demy Batterietechnik GmbH",  # Cyrillic a
        FULLWIDTH + " Batterietechnik GmbH",  # fullwidth (NFKC)
        "  VoltAcademy   Batterietechnik\u00a0GmbH ",  # spacing
        "Volt\u200bAcademy Batterietechnik GmbH",  # zero-width space
        "Volt-Academy Batterietechnik G.m.b.H.",  # punctuation
        "Voltacademy Badges",  # the registered issuer's own name
    ],
)
def test_a_look_alike_name_is_refused(context: VerificationContext, hub: World, name: str) -> None:
    report = verify(context, _foreign(Signer.ed25519(), name))
    assert report.verdict == "invalid", name
    assert trust_of(report).status is Status.ERROR
    assert "calls its issuer" in trust_of(report).message
    assert issuer_of(report).legal_name == LEGAL_NAME


@pytest.mark.parametrize(
    "name", ["VoltAcademy Batterietechnik", "Volt Academy Akkutechnik GmbH", "Ampere Akademie"]
)
def test_a_different_name_is_only_unknown(
    context: VerificationContext, hub: World, name: str
) -> None:
    report = verify(context, _foreign(Signer.ed25519(), name))
    assert report.verdict == "valid"
    assert trust_of(report).status is Status.WARNING


@pytest.mark.parametrize(
    ("where", "change"),
    [
        (
            "achievement",
            {"achievement": {"id": f"{BASE_URL}/micro-credentials/voltacademy-hv-battery"}},
        ),
        (
            "achievement",
            {
                "achievement": {
                    "id": "HTTP://TestServer:80/micro-credentials/voltacademy-hv-battery"
                }
            },
        ),
        ("issuer profile", {"issuer": {"url": f"{BASE_URL}/issuers/voltacademy"}}),
        ("issuer profile", {"issuer": {"url": f"{BASE_URL}/organisations/voltacademy"}}),
        ("image", {"image": f"{BASE_URL}/micro-credentials/voltacademy-hv-battery/image"}),
        (
            "image",
            {"issuer": {"image": {"id": f"{BASE_URL}/issuers/voltacademy", "type": "Image"}}},
        ),
    ],
)
def test_an_address_of_a_registered_provider_is_refused(
    context: VerificationContext, hub: World, where: str, change: dict[str, Any]
) -> None:
    signer = Signer.ed25519()
    unsigned = credential(signer.did)
    achievement = unsigned["credentialSubject"]["achievement"]
    achievement.update(change.get("achievement", {}))
    if "image" in change:
        achievement["image"] = {"id": change["image"], "type": "Image"}
    unsigned["issuer"].update(change.get("issuer", {}))
    report = verify(context, signer.data_integrity(unsigned))
    assert report.verdict == "invalid"
    assert f"its {where} " in trust_of(report).message
    assert f"belongs to {LEGAL_NAME}" in trust_of(report).message
    assert issuer_of(report).legal_name == LEGAL_NAME


def test_an_unowned_address_of_this_hub_is_refused_to_strangers(
    context: VerificationContext, hub: World
) -> None:
    report = verify(
        context, _foreign(Signer.ed25519(), "Someone", id=f"{BASE_URL}/micro-credentials/nothing")
    )
    assert report.verdict == "invalid"
    assert "where it publishes nothing" in trust_of(report).message


def test_another_registered_provider_may_not_claim_the_achievement(
    session: Session, hub: World, master_key: str, context: VerificationContext
) -> None:
    other = make_world(session, master_key, slug="ampere")
    unsigned = json.loads(_issue(session, hub).signed)
    unsigned.pop("proof")
    unsigned.pop("credentialStatus")
    unsigned["id"] = "urn:uuid:5d0c7c1e-0000-4000-8000-000000000001"
    unsigned["issuer"] = {"id": other.issuer.did, "type": ["Profile"], "name": "Ampere Badges"}
    # Signed with B's own key outside the hub's API (which refuses this award with 403).
    signer = issuer_signer(session, other.master_key, pk(other.issuer), "ldp")
    signed = secure(unsigned, "ldp", signer)
    report = verify(context, signed)
    assert report.verdict == "invalid"
    assert f"belongs to {LEGAL_NAME}, not to its signer" in trust_of(report).message


# --- trust lists ------------------------------------------------------------------------------


def _write(tmp_path: Path, name: str, document: Any) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def _ours(tmp_path: Path, did: str) -> Path:
    return _write(
        tmp_path,
        "trusted.json",
        {
            "name": "Accredited providers (test)",
            "issuers": [
                {
                    "id": did,
                    "legal_name": "Ampère Akademie e.V.",
                    "country": "DE",
                    "accreditation": "AZAV certificate 4711",
                }
            ],
        },
    )


def _dcc(tmp_path: Path, did: str) -> Path:
    return _write(
        tmp_path,
        "dcc-registry.json",
        {
            "meta": {"created": "2020-12-02T02:32:16+0000", "updated": "2022-05-25T12:40:00+0000"},
            "registry": {
                did: {
                    "name": "Example University 1",
                    "location": "Cambridge, MA, USA",
                    "url": "https://university.example",
                }
            },
        },
    )


def test_a_listed_issuer_is_trusted_with_the_lists_name(
    settings: Settings, session: Session, hub: World, tmp_path: Path
) -> None:
    signer = Signer.ed25519()
    lists = (_ours(tmp_path, signer.did),)
    context = verification_context(_settings(settings, trust_lists=lists)).bound(session)
    report = verify(context, _foreign(signer, "Ampere Akademie"))
    assert report.verdict == "valid"
    assert trust_of(report).status is Status.OK
    assert "Accredited providers (test)" in trust_of(report).message
    trust = issuer_of(report)
    assert (trust.standing, trust.legal_name, trust.country) == (
        "listed",
        "Ampère Akademie e.V.",
        "DE",
    )
    assert trust.accreditation == "AZAV certificate 4711"
    # Another signer borrowing the listed name is a look-alike.
    forged = verify(context, _foreign(Signer.ed25519(), "AMPERE AKADEMIE E.V."))
    assert forged.verdict == "invalid"
    assert "the name of Ampère Akademie e.V." in trust_of(forged).message


def test_the_dcc_registry_format_is_read(
    settings: Settings, session: Session, hub: World, tmp_path: Path
) -> None:
    signer = Signer.ed25519()
    lists = (_dcc(tmp_path, signer.did),)
    context = verification_context(_settings(settings, trust_lists=lists)).bound(session)
    report = verify(context, _foreign(signer, "Example University 1"))
    assert trust_of(report).status is Status.OK
    trust = issuer_of(report)
    assert (trust.standing, trust.legal_name) == ("listed", "Example University 1")
    assert trust.location == "Cambridge, MA, USA"
    assert trust.source == "dcc-registry (Digital Credentials Consortium registry)"


def test_a_listed_name_of_a_registered_provider_on_another_did_is_refused(
    settings: Settings, session: Session, hub: World, tmp_path: Path
) -> None:
    """A list vouches for its own entries' names, not for a registered provider's name."""
    signer = Signer.ed25519()
    lists = (_dcc(tmp_path, signer.did),)
    context = verification_context(_settings(settings, trust_lists=lists)).bound(session)
    report = verify(context, _foreign(signer, LEGAL_NAME))
    assert report.verdict == "invalid"
    assert f"the name of {LEGAL_NAME}" in trust_of(report).message


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"issuers": []}, "'name' (required)"),
        ({"name": "x", "issuers": [{"id": "did:key:z6Mk", "legal_name": "A"}]}, "'country'"),
        (
            {"name": "x", "issuers": [{"id": "mailto:a@b", "legal_name": "A", "country": "DE"}]},
            "DID or an http(s) URL",
        ),
        ({"registry": {"did:key:z6Mk": {"location": "x"}}}, "'name' (required)"),
        ({"something": "else"}, "neither a Skills Hub trust list"),
        ([1, 2], "neither a Skills Hub trust list"),
    ],
)
def test_a_bad_trust_list_is_refused_with_where(
    tmp_path: Path, document: Any, message: str
) -> None:
    path = _write(tmp_path, "list.json", document)
    with pytest.raises(TrustListError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_trust_list(path)


def test_a_bad_trust_list_stops_the_start(settings: Settings, tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    with pytest.raises(VerifierSettingsError, match=r"SKILLSHUB_TRUST_LISTS: nope\.json"):
        verification_context(_settings(settings, trust_lists=(missing,)))


def test_the_first_list_wins(tmp_path: Path) -> None:
    did = Signer.ed25519().did
    first = read_trust_list(_ours(tmp_path, did))
    second = read_trust_list(_dcc(tmp_path, did))
    assert (
        present(TrustLists([*first, *second]).lookup(did + "#key-1")).legal_name
        == "Ampère Akademie e.V."
    )


# --- this hub's own links, from the database on http -------------------------------------------


def test_own_credential_url_verifies_from_the_database(
    session: Session, hub: World, context: VerificationContext
) -> None:
    record = _issue(session, hub)
    report = verify(context, f"{BASE_URL}/credentials/{record.uuid}")
    assert report.verdict == "valid", report.checks
    assert issuer_of(report).standing == "registered"
    jwt = issuing.issue(
        session,
        hub.master_key,
        issuer=hub.issuer,
        micro_credential=hub.mc,
        recipient=issuing.Recipient(name="Ada", email="ada@example.org"),
        base_url=BASE_URL,
        fmt="jwt",
    )
    set_public(session, jwt, True)
    session.commit()
    assert verify(context, f"{BASE_URL}/credentials/{jwt.uuid}").verdict == "valid"


def test_own_baked_image_url_verifies(
    session: Session, hub: World, context: VerificationContext
) -> None:
    record = _issue(session, hub)
    for kind in ("png", "svg"):
        report = verify(context, f"{BASE_URL}/credentials/{record.uuid}/badge.{kind}")
        assert report.verdict == "valid", (kind, report.checks)
        assert f"baked in a {kind.upper()} image" in check_of(report, "format").message


def test_a_hidden_or_unknown_own_credential_is_not_found(
    session: Session, hub: World, context: VerificationContext
) -> None:
    hidden = _issue(session, hub, public=False)
    for url in (
        f"{BASE_URL}/credentials/{hidden.uuid}",
        f"{BASE_URL}/credentials/00000000-0000-4000-8000-000000000000",
        f"{BASE_URL}/admin",
    ):
        with pytest.raises(FetchError, match="publishes no public credential"):
            verify(context, url)


def test_other_hosts_keep_the_strict_rules(context: VerificationContext, hub: World) -> None:
    """Only BASE_URL is answered locally: http elsewhere is refused as before."""
    online = replace(context, fetcher=verification_context(Settings(base_url=BASE_URL)).fetcher)
    with pytest.raises(DomainError, match="only https URLs are fetched"):
        verify(online, "http://127.0.0.1:9/credentials/00000000-0000-4000-8000-000000000000")


def test_revocation_reason_and_date_are_reported(
    session: Session, hub: World, context: VerificationContext
) -> None:
    record = _issue(session, hub)
    status.change_status(
        session,
        hub.master_key,
        credential_uuid=record.uuid,
        action="revoke",
        organisation_id=hub.org.id,
        actor="test",
        base_url=BASE_URL,
        reason="issued in error",
    )
    session.commit()
    report = verify(context, f"{BASE_URL}/credentials/{record.uuid}")
    assert report.verdict == "invalid"
    state = present(report.summary.state, "the credential state")
    assert (state.state, state.reason) == ("revoked", "issued in error")
    assert state.since is not None and state.since[:4].isdigit()


def test_every_own_document_is_answered_from_the_database(
    session: Session, master_key: str
) -> None:
    """Credential, issuer profile, DID document and status list under BASE_URL: read from the
    database by the verifier's local source, never fetched."""
    from badges.verifying.resolving import DatabaseDocuments

    base = "https://voltacademy.example"
    world = make_world(session, master_key, public_https=True)
    record = issuing.issue(
        session,
        world.master_key,
        issuer=world.issuer,
        micro_credential=world.mc,
        recipient=issuing.Recipient(name="Ada", email="ada@example.org"),
        base_url=base,
    )
    set_public(session, record, True)
    session.commit()
    documents = DatabaseDocuments(
        session, base, lambda s, url: status.local_status_list(s, base, url)
    )
    json_types = ["application/json", "application/ld+json", "application/jwt"]
    entry = json.loads(record.signed)["credentialStatus"]  # one entry by default: an object
    list_url = (entry[0] if isinstance(entry, list) else entry)["statusListCredential"]
    for url, expected in [
        (f"{base}/credentials/{record.uuid}", record.uuid),
        (f"{base}/issuers/voltacademy", '"type": ["Profile"]'),
        (f"{base}/issuers/voltacademy/did.json", '"assertionMethod"'),
        (list_url.replace(base, "https://VoltAcademy.example:443"), "BitstringStatusList"),
    ]:
        assert documents.owns(url)
        fetched = documents.fetch(url, accept=json_types)
        assert fetched.source == "local"
        assert expected in fetched.body.decode(), url
    assert documents.owns("did:web:voltacademy.example:issuers:voltacademy")
    assert not documents.owns("https://voltacademy.example.evil/credentials/x")
    assert not documents.owns("https://other.example/credentials/x")


def test_the_register_kept_between_verifications_follows_any_processs_changes(
    context: VerificationContext, hub: World, db_url: str
) -> None:
    """The register is read once per change (a counter the tables' triggers bump): a new
    issuer or a renamed provider, written through another engine as by another process, is
    seen at the next verification."""
    signer = Signer.ed25519()
    signed = signer.data_integrity(credential(signer.did))
    assert report_standing(context, signed) == ("unknown", None)
    other = make_engine(db_url)  # another process's connection pool
    with Session(other) as elsewhere:
        elsewhere.add(
            Issuer(organisation_id=pk(hub.org), slug="volt-2", name="Volt 2", did=signer.did)
        )
        elsewhere.commit()
    assert report_standing(context, signed) == ("registered", LEGAL_NAME)
    with Session(other) as elsewhere:
        org = elsewhere.get(Organisation, pk(hub.org))
        assert org is not None
        org.legal_name = "VoltAcademy Akkutechnik GmbH"
        elsewhere.add(org)
        elsewhere.commit()
    other.dispose()
    assert report_standing(context, signed) == ("registered", "VoltAcademy Akkutechnik GmbH")


def report_standing(context: VerificationContext, signed: dict[str, Any]) -> tuple[str, Any]:
    """The standing a verification reports, as a request of its own (its own transaction)."""
    assert context.session is not None
    context.session.rollback()
    trust = issuer_of(verify(context, signed))
    return trust.standing, trust.legal_name
