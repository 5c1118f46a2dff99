"""The `issuer_trust` check: is the badge really from the organisation it names?

A valid signature proves that whoever holds the issuer's key signed it; it says nothing about
who that is. Anybody can make a fresh did:key, call it "VoltAcademy Batterietechnik GmbH" and
point its achievement at this hub's micro-credential page. So, for a badge whose signature
ties it to its issuer id:

- ok: the issuer id is one of this hub's registered issuers (the report names the provider's
  registered legal name), or is listed in a configured trust list (`trust_lists`);
- error (impersonation): the badge claims what only a registered provider may: an address
  under BASE_URL (its own id, achievement, issuer profile, image) that the signer does not
  own, or the name of a registered or listed organisation (`names.look_alike`: after NFKC,
  case folding, Unicode confusables and spacing) that is not the signer's own;
- warning: anyone else: the name is what the issuer says about itself.

The decision (`decide`) is pure given the badge's claims, the register of this hub's providers
(`Register`; `DatabaseRegister` reads it over a Session) and the trust lists.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from badges.models import IssuedCredential, Issuer
from badges.report import Check, IssuerTrust
from badges.verifying.names import name_keys
from badges.verifying.proofs import issuer_id_of
from badges.verifying.resolving import path_under
from badges.verifying.trust_lists import ListedIssuer, TrustLists
from catalogue.base import pk
from catalogue.models import Course, MicroCredential, Organisation

ISSUER_TRUST = "issuer_trust"
_MAX_NAMES = 8
_MAX_URLS = 32
_MAX_TEXT = 500
# Addresses under BASE_URL that name an owner: (pattern, what it is).
_MICRO_CREDENTIAL = re.compile(r"/micro-credentials/([a-z0-9-]+)(?:/image)?")
_ISSUER = re.compile(r"/issuers/([a-z0-9-]+)(?:/did\.json|/jwks\.json)?")
_CREDENTIAL = re.compile(r"/credentials/([0-9a-f-]{36})(?:/[a-z.]+)?")
_ORGANISATION = re.compile(r"/organisations/([a-z0-9-]+)")
_STATUS = re.compile(r"/status/([a-z0-9-]+)/[a-z]+/[0-9]+")


@dataclass(frozen=True)
class Provider:
    """A registered organisation, as the report names it."""

    organisation_id: int
    slug: str
    legal_name: str
    country: str


@dataclass(frozen=True)
class Owner:
    """Who may put an address of this hub into a badge: the provider, and when the address
    is one issuer's (its profile, a credential it issued), that issuer's DID."""

    provider: Provider
    issuer_did: str | None = None


class Register(Protocol):
    """This hub's registered providers and what they own."""

    base_url: str | None

    def provider_of(self, issuer_id: str) -> Provider | None: ...

    def owner(self, path: str) -> Owner | None: ...

    def names(self) -> Iterator[tuple[str, Provider]]: ...


# --- what the badge claims ----------------------------------------------------------------


@dataclass(frozen=True)
class Claims:
    issuer_id: str | None
    names: list[str] = field(default_factory=list)
    urls: list[tuple[str, str]] = field(default_factory=list)  # (what, URL)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _texts(value: Any) -> list[str]:
    """A name: a string, a language value {"@value": …}, or a list of those."""
    found = []
    for item in _as_list(value):
        if isinstance(item, Mapping):
            item = item.get("@value")
        if isinstance(item, str) and item.strip():
            found.append(item[:_MAX_TEXT])
    return found


def _ids(value: Any) -> list[str]:
    """URLs of a node or a plain URL value (an image, a profile)."""
    found = []
    for item in _as_list(value):
        if isinstance(item, Mapping):
            item = item.get("id")
        if isinstance(item, str):
            found.append(item[:2048])
    return found


def claims_of(credential: Mapping[str, Any]) -> Claims:
    issuer = credential.get("issuer")
    issuer = issuer if isinstance(issuer, Mapping) else {}
    urls: list[tuple[str, str]] = [("credential", u) for u in _ids(credential.get("id"))]
    urls += [("issuer profile", u) for u in [*_ids(issuer.get("id")), *_ids(issuer.get("url"))]]
    urls += [("image", u) for u in [*_ids(issuer.get("image")), *_ids(credential.get("image"))]]
    names = _texts(issuer.get("name"))
    for subject in _as_list(credential.get("credentialSubject")):
        achievement = subject.get("achievement") if isinstance(subject, Mapping) else None
        if not isinstance(achievement, Mapping):
            continue
        urls += [("achievement", u) for u in _ids(achievement.get("id"))]
        criteria = achievement.get("criteria")
        if isinstance(criteria, Mapping):
            urls += [("achievement", u) for u in _ids(criteria.get("id"))]
        urls += [("image", u) for u in _ids(achievement.get("image"))]
        creator = achievement.get("creator")
        if isinstance(creator, Mapping):
            urls += [("issuer profile", u) for u in [*_ids(creator), *_ids(creator.get("url"))]]
            urls += [("image", u) for u in _ids(creator.get("image"))]
            names += _texts(creator.get("name"))
    return Claims(issuer_id_of(credential), names[:_MAX_NAMES], urls[:_MAX_URLS])


# --- the decision ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TrustOutcome:
    check: Check
    trust: IssuerTrust


def _own_names(
    provider: Provider | None, listed: ListedIssuer | None, register: Register | None
) -> list[str]:
    names = [listed.legal_name] if listed else []
    if provider is not None and register is not None:
        names += [name for name, owner in register.names() if owner == provider]
    return names


def _address_problems(
    claims: Claims, register: Register, signer: Provider | None
) -> list[tuple[str, str | None]]:
    """(problem, the provider whose address it is) for each address of this hub the badge
    claims without owning it."""
    problems: list[tuple[str, str | None]] = []
    for what, url in claims.urls:
        path = path_under(register.base_url, url)
        if path is None:
            continue
        owner = register.owner(path)
        if owner is None:
            if signer is None:
                problem = f"its {what} {url} is an address of this hub, where it publishes nothing"
                problems.append((problem, None))
            continue
        if owner.provider != signer or (
            owner.issuer_did is not None and owner.issuer_did != claims.issuer_id
        ):
            victim = owner.provider.legal_name
            problems.append((f"its {what} {url} belongs to {victim}, not to its signer", victim))
    return problems


def _imitated(
    claims: Claims,
    register: Register | None,
    lists: TrustLists,
    own: list[str],
) -> tuple[str, str] | None:
    """(claimed name, the organisation it imitates) when the badge borrows a protected name."""
    for claimed in claims.names:
        if any(looks_like(claimed, mine) for mine in own):
            continue
        if register is not None:
            for name, provider in register.names():
                if looks_like(claimed, name):
                    return claimed, provider.legal_name
        for listed in lists.named(claimed):
            return claimed, listed.legal_name
    return None


def decide(
    claims: Claims, register: Register | None, lists: TrustLists, *, verified: bool
) -> TrustOutcome:
    claimed = claims.names[0] if claims.names else None
    if not verified or claims.issuer_id is None:
        return TrustOutcome(
            Check.skipped(
                ISSUER_TRUST, "not checked: the signature does not tie the badge to its issuer"
            ),
            IssuerTrust("unchecked", claimed_name=claimed),
        )
    provider = register.provider_of(claims.issuer_id) if register is not None else None
    listed = lists.lookup(claims.issuer_id)
    problems = _address_problems(claims, register, provider) if register is not None else []
    imitated = _imitated(claims, register, lists, _own_names(provider, listed, register))
    if imitated is not None:
        name, organisation = imitated
        problem = (
            f"it calls its issuer “{name}”, the name of {organisation}, but it was signed by "
            f"another identity ({claims.issuer_id})"
        )
        problems.insert(0, (problem, organisation))
    if problems:
        victim = next((who for _, who in problems if who), None)
        return TrustOutcome(
            Check.error(ISSUER_TRUST, "impersonation: " + "; ".join(p for p, _ in problems)),
            IssuerTrust("impersonation", legal_name=victim, claimed_name=claimed),
        )
    if provider is not None:
        return TrustOutcome(
            Check.ok(
                ISSUER_TRUST,
                f"a registered provider of this hub: {provider.legal_name} ({provider.country})",
            ),
            IssuerTrust(
                "registered",
                legal_name=provider.legal_name,
                country=provider.country,
                organisation_url=f"/organisations/{provider.slug}",
                claimed_name=claimed,
            ),
        )
    if listed is not None:
        where = ", ".join(filter(None, [listed.country, listed.location]))
        accredited = f"; accreditation: {listed.accreditation}" if listed.accreditation else ""
        return TrustOutcome(
            Check.ok(
                ISSUER_TRUST,
                f"listed in the trust list “{listed.list_name}”: {listed.legal_name}"
                f"{f' ({where})' if where else ''}{accredited}",
            ),
            IssuerTrust(
                "listed",
                legal_name=listed.legal_name,
                country=listed.country,
                location=listed.location,
                accreditation=listed.accreditation,
                source=listed.list_name,
                claimed_name=claimed,
            ),
        )
    said = f"“{claimed}”" if claimed else "(no name)"
    return TrustOutcome(
        Check.warning(
            ISSUER_TRUST,
            f"unknown issuer: the name {said} is what the issuer says about itself; neither "
            "this hub's register nor a trust list vouches for it",
        ),
        IssuerTrust("unknown", claimed_name=claimed),
    )


def assess_issuer(
    credential: Mapping[str, Any],
    session: Session | None,
    base_url: str | None,
    lists: TrustLists,
    *,
    verified: bool,
) -> TrustOutcome:
    """The `issuer_trust` check of a credential whose signature is `verified` (or not)."""
    register = DatabaseRegister(session, base_url) if session is not None else None
    return decide(claims_of(credential), register, lists, verified=verified)


# --- the register, over the database ----------------------------------------------------------

# Bumped by triggers on every write to the organisation and issuer tables, from any process
# (migration e5c7a9b3d2f1): the register's names and identities are kept per database and
# read again only after a change, instead of two queries at every verification.
_REGISTER_VERSION = text("SELECT version FROM catalogue_version WHERE name = 'register'")


@dataclass(frozen=True)
class _Snapshot:
    version: int | None
    names: list[tuple[str, Provider]]  # legal names and issuer names, with their provider
    by_did: dict[str, Provider]  # the provider of each issuer DID


_snapshots: WeakKeyDictionary[Engine, _Snapshot] = WeakKeyDictionary()
_snapshots_lock = threading.Lock()


def _snapshot(session: Session) -> _Snapshot:
    """The register as of its current version. The version is read first: a write landing
    meanwhile is at worst read early and kept under the older version, which the next
    verification finds outdated."""
    version = session.exec(_REGISTER_VERSION).scalar()  # type: ignore[call-overload]
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    with _snapshots_lock:
        kept = _snapshots.get(engine)
    if kept is not None and version is not None and kept.version == version:
        return kept
    orgs = {pk(org): DatabaseRegister.provider(org) for org in session.exec(select(Organisation))}
    names = [(provider.legal_name, provider) for provider in orgs.values()]
    by_did: dict[str, Provider] = {}
    for name, did, org_id in session.exec(select(Issuer.name, Issuer.did, Issuer.organisation_id)):
        names.append((name, orgs[org_id]))
        by_did[did] = orgs[org_id]
    fresh = _Snapshot(version, names, by_did)
    if version is not None:
        with _snapshots_lock:
            current = _snapshots.get(engine)
            if current is None or current.version is None or current.version <= version:
                _snapshots[engine] = fresh
    return fresh


class DatabaseRegister:
    """This hub's providers, their issuers and what they publish, read from the database."""

    def __init__(self, session: Session, base_url: str | None) -> None:
        self.session = session
        self.base_url = base_url
        self._snapshot: _Snapshot | None = None

    @staticmethod
    def provider(org: Organisation) -> Provider:
        assert org.id is not None
        return Provider(org.id, org.slug, org.legal_name, org.country)

    def _register(self) -> _Snapshot:
        if self._snapshot is None:
            self._snapshot = _snapshot(self.session)
        return self._snapshot

    def provider_of(self, issuer_id: str) -> Provider | None:
        return self._register().by_did.get(issuer_id.partition("#")[0])

    def owner(self, path: str) -> Owner | None:
        if match := _MICRO_CREDENTIAL.fullmatch(path):
            org = self.session.exec(
                select(Organisation)
                .join(Course, col(Course.organisation_id) == col(Organisation.id))
                .join(MicroCredential, col(MicroCredential.course_id) == col(Course.id))
                .where(MicroCredential.slug == match[1])
            ).first()
            return Owner(self.provider(org)) if org is not None else None
        if match := _ORGANISATION.fullmatch(path):
            org = self.session.exec(
                select(Organisation).where(Organisation.slug == match[1])
            ).first()
            return Owner(self.provider(org)) if org is not None else None
        issuer: Issuer | None = None
        if match := _ISSUER.fullmatch(path) or _STATUS.fullmatch(path):
            issuer = self.session.exec(select(Issuer).where(Issuer.slug == match[1])).first()
        elif match := _CREDENTIAL.fullmatch(path):
            issuer = self.session.exec(
                select(Issuer)
                .join(IssuedCredential, col(IssuedCredential.issuer_id) == col(Issuer.id))
                .where(IssuedCredential.uuid == match[1])
            ).first()
        if issuer is None:
            return None
        org = self.session.get(Organisation, issuer.organisation_id)
        assert org is not None  # enforced by the foreign key
        return Owner(self.provider(org), issuer.did)

    def names(self) -> Iterator[tuple[str, Provider]]:
        """Every registered organisation's legal name and its issuers' names."""
        return iter(self._register().names)


def looks_like(claimed: str, name: str) -> bool:
    """`names.look_alike`, with the keys of names met before kept (the register's are met
    at every verification)."""
    return bool(name_keys(claimed) & name_keys(name))
