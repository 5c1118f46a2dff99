"""What a learner shares: the public badge page's content, its status, QR codes, LinkedIn.

The page shows what the signed credential says (name, description, skills), read from the
stored text, plus the credential's current status. The recipient's e-mail is never part of
it: the credential carries only a salted hash, and nothing here reads the stored address.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

import qrcode
import qrcode.constants
import qrcode.image.svg
from sqlmodel import Session, col, select

from badges.issuing import Urls, awarded_micro_credential
from badges.models import IssuedCredential, Issuer
from badges.proofs import vc_jwt
from catalogue.models import Skill

LINKEDIN_ADD = "https://www.linkedin.com/profile/add"
STATUS_LABELS = {
    "valid": "Valid",
    "revoked": "Revoked",
    "suspended": "Suspended",
    "expired": "Expired",
}


@dataclass(frozen=True)
class SkillLink:
    label: str
    href: str
    in_catalogue: bool


@dataclass(frozen=True)
class BadgeView:
    uuid: str
    url: str
    achievement_name: str
    achievement_description: str
    criteria: str | None
    issuer_name: str
    issuer_slug: str
    recipient_name: str
    micro_credential_slug: str | None  # None: a VC-API credential awarding none of ours
    valid_from: datetime
    valid_until: datetime | None
    status: str
    skills: list[SkillLink]
    format: str
    public: bool

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


def document(record: IssuedCredential) -> dict[str, Any]:
    """The stored credential's claims: the JSON document, or the VC-JWT payload."""
    if record.format == "jwt":
        return vc_jwt.decode_unverified(record.signed)[1]
    return json.loads(record.signed)


def status_of(record: IssuedCredential, now: datetime | None = None) -> str:
    """valid | revoked | suspended | expired, the most serious first."""
    if record.revoked_at is not None:
        return "revoked"
    if record.suspended:
        return "suspended"
    if record.valid_until is not None and record.valid_until <= (now or datetime.now(UTC)):
        return "expired"
    return "valid"


def _skills(session: Session, achievement: dict[str, Any]) -> list[SkillLink]:
    alignments = [a for a in achievement.get("alignment") or [] if isinstance(a, dict)]
    iris = [a.get("targetUrl") for a in alignments if isinstance(a.get("targetUrl"), str)]
    slugs = {
        skill.iri: skill.slug
        for skill in session.exec(select(Skill).where(col(Skill.iri).in_(iris)))
    }
    links = []
    for alignment in alignments:
        iri, label = alignment.get("targetUrl"), alignment.get("targetName")
        if not isinstance(label, str):
            continue
        if iri in slugs:
            links.append(SkillLink(label, f"/skills/{quote(slugs[iri])}", True))
        elif isinstance(iri, str) and iri.startswith(("https://", "http://")):
            links.append(SkillLink(label, iri, False))
    return links


def badge_view(session: Session, record: IssuedCredential, base_url: str) -> BadgeView:
    claims = document(record)
    subject = claims.get("credentialSubject") or {}
    subject = subject[0] if isinstance(subject, list) and subject else subject
    achievement = (subject.get("achievement") if isinstance(subject, dict) else None) or {}
    issuer = session.get(Issuer, record.issuer_id)
    mc = awarded_micro_credential(session, record)
    assert issuer is not None  # foreign key
    criteria = achievement.get("criteria") or {}
    title = mc.title if mc is not None else str(claims.get("name") or "a credential")
    return BadgeView(
        uuid=record.uuid,
        url=Urls(base_url).credential(record.uuid),
        achievement_name=str(achievement.get("name") or title),
        achievement_description=str(achievement.get("description") or ""),
        criteria=criteria.get("narrative") if isinstance(criteria, dict) else None,
        issuer_name=issuer.name,
        issuer_slug=issuer.slug,
        recipient_name=record.recipient_name,
        micro_credential_slug=mc.slug if mc is not None else None,
        valid_from=record.valid_from,
        valid_until=record.valid_until,
        status=status_of(record),
        skills=_skills(session, achievement),
        format=record.format,
        public=record.public,
    )


def set_public(session: Session, record: IssuedCredential, public: bool) -> None:
    record.public = public
    session.add(record)
    session.flush()


def linkedin_url(view: BadgeView) -> str:
    """LinkedIn's "Add licence or certification" form, filled in."""
    fields: dict[str, str | int] = {
        "startTask": "CERTIFICATION_NAME",
        "name": view.achievement_name,
        "organizationName": view.issuer_name,
        "issueYear": view.valid_from.year,
        "issueMonth": view.valid_from.month,
    }
    if view.valid_until is not None:
        fields["expirationYear"] = view.valid_until.year
        fields["expirationMonth"] = view.valid_until.month
    fields["certId"] = view.uuid
    fields["certUrl"] = view.url
    return f"{LINKEDIN_ADD}?{urlencode(fields, quote_via=quote)}"


def _qr(url: str) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=4)
    code.add_data(url)
    code.make(fit=True)
    return code


def qr_png(url: str) -> bytes:
    out = io.BytesIO()
    _qr(url).make_image().save(out, "PNG")
    return out.getvalue()


def qr_svg(url: str) -> bytes:
    image = _qr(url).make_image(image_factory=qrcode.image.svg.SvgPathFillImage)
    return image.to_string(encoding="unicode").encode()
