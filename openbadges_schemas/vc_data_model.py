"""The W3C Verifiable Credentials Data Model rules a document must meet, as code.

`credential_problems` and `presentation_problems` check the MUST statements of VC Data
Model 2.0 §4 and §5.3-5.6 (and of VC 1.1 for a document whose first @context is the 1.1
one) that JSON alone decides: contexts, identifiers, types, names and descriptions,
issuer, credential subject, validity period, status, schemas, related resources, terms of
use, evidence, refresh, holder. Whether every term is defined is JSON-LD's to say (the
canonicalizer refuses undefined terms); the Open Badges 3.0 rules are `ob3.validate_structure`'s.

Each problem names its rule (the section, and a link to it) and carries the VC DM 2.0 §7.2
problem type, so that an issuer can answer RFC 9457 problem details and a verifier report
the same words. Pure: no I/O.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from keys.multikey import KeyFormatError, b58decode

VC_V2 = "https://www.w3.org/ns/credentials/v2"
VC_V1 = "https://www.w3.org/2018/credentials/v1"
_SPEC_2_0 = "https://www.w3.org/TR/vc-data-model-2.0/"
_SPEC_1_1 = "https://www.w3.org/TR/vc-data-model/"
# VC DM 2.0 §7.2: the problem types are under this base, not under the dated spec's URL.
PROBLEM_TYPE_BASE = "https://www.w3.org/TR/vc-data-model#"
PARSING_ERROR = "PARSING_ERROR"
MALFORMED_VALUE_ERROR = "MALFORMED_VALUE_ERROR"
RANGE_ERROR = "RANGE_ERROR"

# A URL as a JSON-LD processor takes it: a scheme, no whitespace. (`https ://x` has neither.)
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:\S+")
# XML Schema 1.1 dateTime; dateTimeStamp is the same with the time zone required.
_DATETIME = re.compile(
    r"-?\d{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?"
    r"(?P<tz>Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00))?"
)
# Subresource Integrity §3.5 hash-expression: algorithm, base64 (or base64url) digest.
_SRI = re.compile(r"(sha256|sha384|sha512)-([A-Za-z0-9+/_-]+={0,2})(\?\S*)?")
_SRI_DIGEST_BYTES = {"sha256": 32, "sha384": 48, "sha512": 64}
# Multihash codes of the digests VC Data Integrity §2.6 names, with their lengths.
_MULTIHASH_BYTES = {0x12: 32, 0x13: 64, 0x14: 64, 0x15: 48, 0x16: 32, 0x20: 48}
_MAX_DIGEST_CHARS = 200


@dataclass(frozen=True)
class Rule:
    title: str  # "VC DM 2.0 §4.3 Contexts"
    url: str


@dataclass(frozen=True)
class Problem:
    """One MUST the document breaks: where, which rule, and the §7.2 problem type."""

    rule: Rule
    path: str  # a JSON Pointer into the document ("" for the document itself)
    message: str
    kind: str = MALFORMED_VALUE_ERROR

    @property
    def type_url(self) -> str:
        return PROBLEM_TYPE_BASE + self.kind

    def __str__(self) -> str:
        where = self.path or "/"
        return f"{self.rule.title}: {where}: {self.message}"

    def as_problem_details(self) -> dict[str, Any]:
        """RFC 9457 problem details (VC DM 2.0 §7.2), with the rule and the path."""
        return {
            "type": self.type_url,
            "title": self.kind,
            "detail": str(self),
            "rule": self.rule.title,
            "ruleUrl": self.rule.url,
            "path": self.path,
        }


def _rules(version: str) -> dict[str, Rule]:
    spec = _SPEC_2_0 if version == "2.0" else _SPEC_1_1
    sections = {
        "2.0": {
            "document": ("§6 Syntaxes", "syntaxes"),
            "contexts": ("§4.3 Contexts", "contexts"),
            "identifiers": ("§4.4 Identifiers", "identifiers"),
            "types": ("§4.5 Types", "types"),
            "names": ("§4.6 Names and Descriptions", "names-and-descriptions"),
            "issuer": ("§4.7 Issuer", "issuer"),
            "subject": ("§4.8 Credential Subject", "credential-subject"),
            "validity": ("§4.9 Validity Period", "validity-period"),
            "status": ("§4.10 Status", "status"),
            "schemas": ("§4.11 Data Schemas", "data-schemas"),
            "presentations": ("§4.13 Verifiable Presentations", "verifiable-presentations"),
            "related": ("§5.3 Integrity of Related Resources", "integrity-of-related-resources"),
            "refresh": ("§5.4 Refreshing", "refreshing"),
            "terms": ("§5.5 Terms of Use", "terms-of-use"),
            "evidence": ("§5.6 Evidence", "evidence"),
        },
        "1.1": {
            "document": ("§6 Syntaxes", "syntaxes"),
            "contexts": ("§4.1 Contexts", "contexts"),
            "identifiers": ("§4.2 Identifiers", "identifiers"),
            "types": ("§4.3 Types", "types"),
            "names": ("§4.3 Types", "types"),
            "issuer": ("§4.5 Issuer", "issuer"),
            "subject": ("§4.4 Credential Subject", "credential-subject"),
            "validity": ("§4.6-4.7 Issuance Date and Expiration", "issuance-date"),
            "status": ("§4.9 Status", "status"),
            "schemas": ("§5.4 Data Schemas", "data-schemas"),
            "presentations": ("§4.10 Presentations", "presentations-0"),
            "related": ("§5.3 Integrity of Related Resources", "integrity-of-related-resources"),
            "refresh": ("§5.5 Refreshing", "refreshing"),
            "terms": ("§5.6 Terms of Use", "terms-of-use"),
            "evidence": ("§5.7 Evidence", "evidence"),
        },
    }[version]
    related_spec = _SPEC_2_0  # VC 1.1 has no relatedResource; the 2.0 rule is the one
    return {
        key: Rule(
            f"VC DM {version} {title}",
            (related_spec if key == "related" else spec) + "#" + anchor,
        )
        for key, (title, anchor) in sections.items()
    }


_RULES = {version: _rules(version) for version in ("2.0", "1.1")}


def version_of(document: Any) -> str:
    """ "1.1" for a document whose first @context is the VC 1.1 one, else "2.0"."""
    if isinstance(document, Mapping):
        context = document.get("@context")
        first = context[0] if isinstance(context, list) and context else context
        if first == VC_V1:
            return "1.1"
    return "2.0"


class _Checker:
    """Collects the problems of one document; each method checks one section."""

    def __init__(self, document: Mapping[str, Any], version: str) -> None:
        self.document = document
        self.version = version
        self.rules = _RULES[version]
        self.problems: list[Problem] = []

    def add(self, rule: str, path: str, message: str, kind: str = MALFORMED_VALUE_ERROR) -> None:
        self.problems.append(Problem(self.rules[rule], path, message, kind))

    # --- shared ------------------------------------------------------------------------

    def contexts(self) -> None:
        if "@context" not in self.document:
            self.add("contexts", "/@context", "@context is required")
            return
        value = self.document["@context"]
        items = value if isinstance(value, list) else [value]
        base = VC_V1 if self.version == "1.1" else VC_V2
        if not items or items[0] != base:
            self.add("contexts", "/@context/0", f"the first @context item must be {VC_V2}")
        for index, item in enumerate(items[1:], start=1):
            if isinstance(item, Mapping):
                continue
            if not isinstance(item, str) or not _URL.fullmatch(item):
                self.add(
                    "contexts",
                    f"/@context/{index}",
                    "each further @context item must be a URL or a context object",
                )

    def identifier(self, path: str, value: Any, what: str) -> None:
        if not isinstance(value, str) or not _URL.fullmatch(value):
            self.add("identifiers", path, f"{what} must be a single URL")

    def types(self, required: str) -> None:
        if "type" not in self.document:
            self.add("types", "/type", f"type is required and must include {required}")
            return
        kinds = self.document["type"]
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if not kinds or not all(isinstance(k, str) and k for k in kinds):
            self.add("types", "/type", "type must be a string or a list of strings")
        elif required not in kinds:
            self.add("types", "/type", f"type must include {required}")

    def names(self) -> None:
        for name in ("name", "description"):
            if name in self.document and not _language_values(self.document[name]):
                self.add(
                    "names",
                    f"/{name}",
                    f"{name} must be a string, a language value object or a list of them",
                )

    def typed_objects(self, name: str, rule: str, *, needs_id: bool = False) -> None:
        """`name`, when present, is one object or a list of objects, each with a `type`."""
        if name not in self.document:
            return
        for path, item in _objects(self.document[name], f"/{name}"):
            if item is None:
                self.add(rule, path, f"{name} must be an object or a list of objects")
                continue
            if not _has_type(item):
                self.add(rule, path, f"each {name} object must have a type")
            if needs_id or "id" in item:
                self.identifier(f"{path}/id", item.get("id"), f"the {name} id")

    # --- credentials -------------------------------------------------------------------

    def issuer(self) -> None:
        if "issuer" not in self.document:
            self.add("issuer", "/issuer", "issuer is required")
            return
        issuer = self.document["issuer"]
        if isinstance(issuer, Mapping):
            self.identifier("/issuer/id", issuer.get("id"), "the issuer id")
        elif isinstance(issuer, str):
            self.identifier("/issuer", issuer, "issuer")
        else:
            self.add("issuer", "/issuer", "issuer must be a URL or an object with an id URL")

    def subject(self) -> None:
        if "credentialSubject" not in self.document:
            self.add("subject", "/credentialSubject", "credentialSubject is required")
            return
        value = self.document["credentialSubject"]
        if isinstance(value, list) and not value:
            self.add("subject", "/credentialSubject", "credentialSubject must not be empty")
        for path, item in _objects(value, "/credentialSubject"):
            if item is None:
                self.add("subject", path, "credentialSubject must be an object or a list of them")
            elif not item:
                self.add("subject", path, "a credentialSubject object needs at least one claim")
            elif "id" in item:
                self.identifier(f"{path}/id", item["id"], "the credentialSubject id")

    def validity(self) -> None:
        start, end = (
            ("validFrom", "validUntil")
            if self.version == "2.0"
            else (
                "issuanceDate",
                "expirationDate",
            )
        )
        stamp = self.version == "2.0"  # VC 2.0 wants the time zone (dateTimeStamp)
        if self.version == "1.1" and start not in self.document:
            self.add("validity", f"/{start}", f"{start} is required by VC 1.1")
        moments = {}
        for name in (start, end):
            if name not in self.document:
                continue
            moment = _moment(self.document[name], stamp=stamp)
            if moment is None:
                kind = "dateTimeStamp (with a time zone)" if stamp else "dateTime"
                self.add("validity", f"/{name}", f"{name} must be an XML Schema {kind} string")
            else:
                moments[name] = moment
        if start in moments and end in moments and _before(moments[end], moments[start]):
            self.add("validity", f"/{end}", f"{end} must not be earlier than {start}", RANGE_ERROR)

    def related_resources(self) -> None:
        if "relatedResource" not in self.document:
            return
        seen: set[str] = set()
        for path, item in _objects(self.document["relatedResource"], "/relatedResource"):
            if item is None:
                self.add("related", path, "relatedResource must be one or more objects")
                continue
            resource_id = item.get("id")
            self.identifier(f"{path}/id", resource_id, "the relatedResource id")
            if isinstance(resource_id, str) and resource_id in seen:
                self.add("related", f"{path}/id", "relatedResource ids must be unique")
            if isinstance(resource_id, str):
                seen.add(resource_id)
            self.digests(path, item)

    def digests(self, path: str, item: Mapping[str, Any]) -> None:
        if "digestSRI" not in item and "digestMultibase" not in item:
            self.add("related", path, "a relatedResource needs a digestSRI or a digestMultibase")
        checks: dict[str, Callable[[str], str | None]] = {
            "digestSRI": _sri_problem,
            "digestMultibase": _multibase_problem,
        }
        for name, check in checks.items():
            if name not in item:
                continue
            values = item[name] if isinstance(item[name], list) else [item[name]]
            problems = [check(v) if isinstance(v, str) else "must be a string" for v in values]
            for problem in [p for p in problems if p] or ([] if values else ["is empty"]):
                self.add("related", f"{path}/{name}", f"{name} {problem}")


def credential_problems(document: Any) -> list[Problem]:
    """What keeps `document` from being a conforming VC Data Model credential (2.0, or
    1.1 when its first @context says so): empty when nothing does."""
    if not isinstance(document, Mapping):
        rule = _RULES["2.0"]["document"]
        return [Problem(rule, "", "a credential must be a JSON object", PARSING_ERROR)]
    checker = _Checker(document, version_of(document))
    checker.contexts()
    if "id" in document:
        checker.identifier("/id", document["id"], "the credential id")
    checker.types("VerifiableCredential")
    checker.names()
    checker.issuer()
    checker.subject()
    checker.validity()
    checker.typed_objects("credentialStatus", "status", needs_id=checker.version == "1.1")
    checker.typed_objects("credentialSchema", "schemas", needs_id=True)
    checker.typed_objects("termsOfUse", "terms")
    checker.typed_objects("evidence", "evidence")
    checker.typed_objects("refreshService", "refresh", needs_id=checker.version == "1.1")
    checker.related_resources()
    return checker.problems


def presentation_problems(document: Any) -> list[Problem]:
    """What keeps `document` from being a conforming verifiable presentation (§4.13); the
    credentials it carries are checked as credentials by whoever verifies them."""
    if not isinstance(document, Mapping):
        rule = _RULES["2.0"]["document"]
        return [Problem(rule, "", "a presentation must be a JSON object", PARSING_ERROR)]
    checker = _Checker(document, version_of(document))
    checker.contexts()
    if "id" in document:
        checker.identifier("/id", document["id"], "the presentation id")
    checker.types("VerifiablePresentation")
    holder = document.get("holder")
    if isinstance(holder, Mapping):
        checker.identifier("/holder/id", holder.get("id"), "the holder id")
    elif "holder" in document:
        checker.identifier("/holder", holder, "holder")
    if "verifiableCredential" in document:
        for path, item in _objects(document["verifiableCredential"], "/verifiableCredential"):
            allowed_string = checker.version == "1.1" and isinstance(item, str)
            if item is None and not allowed_string:
                checker.add(
                    "presentations", path, "verifiableCredential must be one or more objects"
                )
    return checker.problems


# --- values -------------------------------------------------------------------------------


def _objects(value: Any, path: str) -> Iterator[tuple[str, Mapping[str, Any] | None]]:
    """(path, object) for a value that may be one object or a list; None for a non-object."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield f"{path}/{index}", item if isinstance(item, Mapping) else None
    else:
        yield path, value if isinstance(value, Mapping) else None


def _has_type(item: Mapping[str, Any]) -> bool:
    kind = item.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    return bool(kinds) and all(isinstance(k, str) and k for k in kinds)


def _language_values(value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    return bool(values) and all(
        isinstance(v, str) or (isinstance(v, Mapping) and isinstance(v.get("@value"), str))
        for v in values
    )


def _moment(value: Any, *, stamp: bool) -> datetime | str | None:
    """The instant of an XML Schema dateTime(Stamp) string (the string itself when Python
    cannot represent it, e.g. a year past 9999), or None when it is not one."""
    if not isinstance(value, str):
        return None
    match = _DATETIME.fullmatch(value)
    if match is None or (stamp and match["tz"] is None):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return value


def _before(end: datetime | str, start: datetime | str) -> bool:
    if not isinstance(end, datetime) or not isinstance(start, datetime):
        return False  # outside Python's range: not compared rather than guessed
    if (end.tzinfo is None) != (start.tzinfo is None):
        return False  # a floating and a zoned time: XML Schema leaves the order undecided
    return end < start


def _sri_problem(value: str) -> str | None:
    expressions = value.split()
    if not expressions or len(value) > _MAX_DIGEST_CHARS * 3:
        return "must be one or more SRI hash expressions (e.g. sha384-…)"
    for expression in expressions:
        match = _SRI.fullmatch(expression)
        if match is None:
            return f"{expression[:60]!r} is not an SRI hash expression (sha256/384/512-base64)"
        digest = match[2].replace("-", "+").replace("_", "/")
        try:
            raw = base64.b64decode(digest + "=" * (-len(digest) % 4), validate=True)
        except (binascii.Error, ValueError):
            return f"{expression[:60]!r} is not valid base64"
        if len(raw) != _SRI_DIGEST_BYTES[match[1]]:
            return f"a {match[1]} digest is {_SRI_DIGEST_BYTES[match[1]]} bytes, not {len(raw)}"
    return None


def _multibase_problem(value: str) -> str | None:
    if len(value) > _MAX_DIGEST_CHARS:
        return "is too long for a digest"
    try:
        raw = _multibase_decode(value)
    except ValueError as exc:
        return str(exc)
    if len(raw) < 2 or raw[0] not in _MULTIHASH_BYTES:
        return "is not a multihash of a SHA-2 or SHA-3 digest"
    # Codes and lengths here all fit one varint byte each.
    if raw[1] != _MULTIHASH_BYTES[raw[0]] or len(raw) != 2 + raw[1]:
        return "does not hold a digest of its hash function's length"
    return None


def _multibase_decode(value: str) -> bytes:
    prefix, body = value[:1], value[1:]
    if not body:
        raise ValueError("must be a multibase string")
    if prefix == "u":
        if not re.fullmatch(r"[A-Za-z0-9_-]+", body):
            raise ValueError("is not base64url (multibase 'u')")
        return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    if prefix == "z":
        try:
            return b58decode(body)
        except KeyFormatError:
            raise ValueError("is not base58btc (multibase 'z')") from None
    raise ValueError("must be multibase base64url ('u') or base58btc ('z')")
