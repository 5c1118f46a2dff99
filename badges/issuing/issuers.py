"""Issuers: a provider's signing identity (did:web on a public https host, else did:key)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from badges.models import Issuer
from badges.securing import ensure_p256_key
from catalogue.base import pk
from catalogue.errors import Conflict, Forbidden, NotFound
from catalogue.models import Organisation
from catalogue.organisations import check_slug
from catalogue.text import check_fields
from keys import store
from keys.did import PublicKeyInfo, build_did_document, did_key_from_public_key, did_web_from_url
from keys.jwk import build_jwks
from keys.models import IssuerKey
from keys.sealing import MasterKey


def issuer_path(slug: str) -> str:
    return f"/issuers/{slug}"


def create_issuer(
    session: Session,
    master_key: MasterKey,
    *,
    organisation: Organisation,
    name: str,
    slug: str,
    base_url: str,
    public_https: bool,
    url: str | None = None,
    description: str | None = None,
    email: str | None = None,
    image_url: str | None = None,
) -> Issuer:
    """A new issuer with an Ed25519 key (Data Integrity) and a P-256 key (ES256 VC-JWT): on
    did:web both are in its DID document; a did:key issuer's DID is its Ed25519 key, and its
    P-256 key has a did:key of its own (`did:key:zDn…`)."""
    check_slug(slug)
    fields = {"name": name, "url": url, "description": description, "email": email}
    check_fields(fields | {"image_url": image_url}, multi_line=("description",))
    if session.exec(select(Issuer).where(Issuer.slug == slug)).first():
        raise Conflict(f"an issuer with slug {slug!r} already exists")
    issuer = Issuer(
        organisation_id=pk(organisation),
        slug=slug,
        name=name,
        url=url or organisation.homepage,
        description=description,
        email=email,
        image_url=image_url or organisation.logo_url,
        did="pending",
    )
    session.add(issuer)
    session.flush()
    issuer_id = pk(issuer)
    if public_https:
        issuer.did = did_web_from_url(base_url + issuer_path(slug))
        store.add_key(
            session, master_key, issuer_id=issuer_id, controller=issuer.did, algorithm="Ed25519"
        )
        store.add_key(
            session, master_key, issuer_id=issuer_id, controller=issuer.did, algorithm="P-256"
        )
    else:
        # did:key names the key itself, so the key comes first and the DID follows from it.
        key = store.add_key(
            session, master_key, issuer_id=issuer_id, controller="pending", algorithm="Ed25519"
        )
        issuer.did = did_key_from_public_key(store.public_key(key))
        key.controller = issuer.did
        session.add(key)
    session.add(issuer)
    session.flush()
    ensure_p256_key(session, master_key, issuer_id)
    return issuer


def get_issuer(session: Session, slug: str) -> Issuer:
    issuer = session.exec(select(Issuer).where(Issuer.slug == slug)).first()
    if issuer is None:
        raise NotFound(f"issuer {slug!r} does not exist")
    return issuer


def owned_issuer(session: Session, slug: str, organisation_id: int | None) -> Issuer:
    """The issuer, if the organisation owns it (Forbidden otherwise)."""
    issuer = get_issuer(session, slug)
    if issuer.organisation_id != organisation_id:
        raise Forbidden(f"issuer {slug!r} belongs to another organisation")
    return issuer


def rotate_keys(session: Session, master_key: MasterKey, issuer: Issuer) -> list[IssuerKey]:
    """A new key for each algorithm the issuer signs with; the old ones stay published, so
    the credentials they signed still verify. Only a did:web issuer can rotate: a did:key
    DID is its key, and a new key would need a new DID."""
    if not issuer.did.startswith("did:web:"):
        raise Conflict(
            f"issuer {issuer.slug!r} is identified by did:key, which names its one key; "
            "only did:web issuers can rotate keys"
        )
    algorithms = [a for a in store.ALGORITHMS if store.active_keys(session, pk(issuer), a)]
    return [
        store.rotate(
            session, master_key, issuer_id=pk(issuer), controller=issuer.did, algorithm=algorithm
        )
        for algorithm in algorithms
    ]


def set_public_by_default(session: Session, issuer: Issuer, public: bool) -> None:
    """Whether the issuer's new credentials start with a public page."""
    issuer.public_by_default = public
    session.add(issuer)
    session.flush()


def organisation_of(session: Session, issuer: Issuer) -> Organisation:
    org = session.get(Organisation, issuer.organisation_id)
    assert org is not None  # enforced by the foreign key
    return org


def find_issuer_by_did(session: Session, did: str) -> Issuer | None:
    return session.exec(select(Issuer).where(Issuer.did == did)).first()


def list_issuers(session: Session, organisation_id: int | None = None) -> list[Issuer]:
    statement = select(Issuer).order_by(Issuer.slug)
    if organisation_id is not None:
        statement = statement.where(Issuer.organisation_id == organisation_id)
    return list(session.exec(statement))


def _key_infos(session: Session, issuer: Issuer) -> list[PublicKeyInfo]:
    return [
        PublicKeyInfo(store.public_key(k))
        for k in store.published_keys(session, pk(issuer))
        if k.controller == issuer.did
    ]


def did_document(session: Session, issuer: Issuer) -> dict[str, Any]:
    """The DID document of a did:web issuer: every key, current first, retired still listed."""
    if not issuer.did.startswith("did:web:"):
        method = ":".join(issuer.did.split(":")[:2])
        raise NotFound(f"issuer {issuer.slug!r} is identified by {method}, not did:web")
    return build_did_document(issuer.did, _key_infos(session, issuer))


def signing_identifiers(session: Session, issuer: Issuer) -> list[str]:
    """The did:keys of the issuer's keys that its own DID does not name (a did:key issuer's
    ES256 key), newest first: its served profile lists them."""
    return [
        k.controller
        for k in store.published_keys(session, pk(issuer))
        if k.controller != issuer.did and k.controller.startswith("did:key:")
    ]


def jwks(session: Session, issuer: Issuer | None = None) -> dict[str, Any]:
    """JWKS of one issuer, or of every issuer of the deployment; `kid` = the JWT `kid`."""
    issuers = [issuer] if issuer else list_issuers(session)
    entries = []
    for each in issuers:
        for record in store.published_keys(session, pk(each)):
            entries.append((store.jwt_kid(record), store.public_key(record)))
    return build_jwks(entries)
