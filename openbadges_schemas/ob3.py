"""Open Badges 3.0 (on the VC Data Model 2.0) as pydantic models.

Attributes are snake_case; the JSON names are the spec's camelCase (aliases), so
``to_jsonld()`` emits exactly the OB 3.0 property names. Building a credential in
Python gives the shapes the formal 1EdTech JSON Schema wants (arrays for ``type``,
``proof``, ``credentialSchema``, ``alignment``, ...; single strings where it wants them).

Parsing is liberal where JSON-LD is (the 1EdTech "JSON-LD Schema adaptation"): a single
value is accepted wherever an array is, and a one-element array wherever a single value
is; ``to_jsonld()`` then emits the formal shape. Nothing else is normalised: strings
(dates included) and numbers are kept as given, unknown properties are kept verbatim, and
nulls are omitted. :func:`validate_structure` reports what violates OB 3.0 in a document.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal, Self, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PlainValidator,
    SerializerFunctionWrapHandler,
    StrictBool,
    Tag,
    ValidationError,
    WithJsonSchema,
    model_serializer,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError, core_schema

VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
VC_V1_CONTEXT = "https://www.w3.org/2018/credentials/v1"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_EXTENSIONS_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"
# The formal schema's pattern for the second @context entry (any 3.x.y, or unversioned).
_OB_CONTEXT_RE = re.compile(r"https://purl\.imsglobal\.org/spec/ob/v3p0/context(-3\.\d\.\d)?\.json")

# ── value types ─────────────────────────────────────────────────────────────


def _as_list(value: Any) -> Any:
    return value if isinstance(value, list | tuple) else [value]


def _single(value: Any) -> Any:
    if isinstance(value, list | tuple):
        if len(value) == 1:
            return value[0]
        raise PydanticCustomError(
            "ob_single", "must be a single value, not an array of {count}", {"count": len(value)}
        )
    return value


_EXT_RE = re.compile(r"ext:[A-Za-z0-9._-]+")
_DATETIME_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(?P<tz>Z|[+-]\d\d:\d\d)?", re.I)
_DATE_RE = re.compile(r"\d{4}-\d\d-\d\d")
_DIGITS_RE = re.compile(r"[0-9]+")


def _datetime_text(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise PydanticCustomError("ob_datetime", "a datetime needs a timezone")
        return value.isoformat().replace("+00:00", "Z")
    return value


def _check_datetime(value: str, *, zone: bool) -> str:
    match = _DATETIME_RE.fullmatch(value)
    try:
        valid = match is not None and datetime.fromisoformat(value.upper()) is not None
    except ValueError:
        valid = False
    if match is None or not valid or (zone and not match["tz"]):
        what = "an ISO 8601 date-time with a timezone" if zone else "an ISO 8601 date-time"
        raise PydanticCustomError(
            "ob_datetime", "'{value}' is not {what}", {"value": value, "what": what}
        )
    return value


def _check_date(value: Any) -> str:
    if isinstance(value, date):
        return value.isoformat()
    try:
        if isinstance(value, str) and _DATE_RE.fullmatch(value) and date.fromisoformat(value):
            return value
    except ValueError:
        pass
    raise PydanticCustomError("ob_date", "'{value}' is not an ISO 8601 date", {"value": value})


def _check_number(value: Any) -> int | float:
    # bool is an int in Python but not a JSON number; int and float stay apart because
    # JSON-LD turns 42 and 42.0 into different RDF literals.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    raise PydanticCustomError("ob_number", "must be a number")


DateTimeZ = Annotated[
    str,
    BeforeValidator(_datetime_text),
    AfterValidator(lambda v: _check_datetime(v, zone=True)),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
DateTime = Annotated[
    str,
    BeforeValidator(_datetime_text),
    AfterValidator(lambda v: _check_datetime(v, zone=False)),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
Date = Annotated[
    str, PlainValidator(_check_date), WithJsonSchema({"type": "string", "format": "date"})
]
Number = Annotated[Any, PlainValidator(_check_number), WithJsonSchema({"type": "number"})]
CompactJws = Annotated[str, Field(pattern=r"^[a-zA-Z0-9_-]+\.[a-zA-Z0-9_-]*\.[a-zA-Z0-9_-]+$")]
LanguageCode = Annotated[
    str, Field(pattern=r"^[a-z]{2,4}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$")
]


def _check_index(value: Any) -> str | int:
    # The spec wants a base-10 string; the 1EdTech validator's fixtures use a JSON number.
    # Either is kept as given: the v2 context leaves the term untyped, so "23" and 23
    # are different RDF literals and a proof covers the one that was signed.
    if (isinstance(value, str) and _DIGITS_RE.fullmatch(value)) or (
        isinstance(value, int) and not isinstance(value, bool) and value >= 0
    ):
        return value
    raise PydanticCustomError("ob_index", "must be a non-negative integer, as a string")


StatusListIndex = Annotated[
    Any, PlainValidator(_check_index), WithJsonSchema({"type": "string", "pattern": "^[0-9]+$"})
]


_T = TypeVar("_T")
# An array of *_T*; a single value is accepted and wrapped.
Many = Annotated[list[_T], BeforeValidator(_as_list)]
# A single *_T*; a one-element array is accepted and unwrapped.
One = Annotated[_T, BeforeValidator(_single)]


@dataclass(frozen=True)
class _Vocabulary:
    """An OB "EnumExt" vocabulary: one of *terms*, or an ``ext:`` extension term."""

    name: str
    terms: tuple[str, ...]

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        return {
            "oneOf": [
                {"type": "string", "enum": list(self.terms)},
                {"type": "string", "pattern": f"^{_EXT_RE.pattern}$"},
            ]
        }

    def _check(self, value: str) -> str:
        if value in self.terms or _EXT_RE.fullmatch(value):
            return value
        raise PydanticCustomError(
            "ob_vocabulary",
            "'{value}' is not in the {vocabulary} vocabulary (nor an 'ext:' extension)",
            {"value": value, "vocabulary": self.name},
        )


ACHIEVEMENT_TYPES: tuple[str, ...] = (
    "Achievement",
    "ApprenticeshipCertificate",
    "Assessment",
    "Assignment",
    "AssociateDegree",
    "Award",
    "Badge",
    "BachelorDegree",
    "Certificate",
    "CertificateOfCompletion",
    "Certification",
    "CommunityService",
    "Competency",
    "Course",
    "CoCurricular",
    "Degree",
    "Diploma",
    "DoctoralDegree",
    "Fieldwork",
    "GeneralEducationDevelopment",
    "JourneymanCertificate",
    "LearningProgram",
    "License",
    "Membership",
    "ProfessionalDoctorate",
    "QualityAssuranceCredential",
    "MasterCertificate",
    "MasterDegree",
    "MicroCredential",
    "ResearchDoctorate",
    "SecondarySchoolDiploma",
)
AchievementType = Annotated[str, _Vocabulary("AchievementType", ACHIEVEMENT_TYPES)]
IdentifierType = Annotated[
    str,
    _Vocabulary(
        "IdentifierType",
        (
            "name",
            "sourcedId",
            "systemId",
            "productId",
            "userName",
            "accountId",
            "emailAddress",
            "nationalIdentityNumber",
            "isbn",
            "issn",
            "lisSourcedId",
            "oneRosterSourcedId",
            "sisSourcedId",
            "ltiContextId",
            "ltiDeploymentId",
            "ltiToolId",
            "ltiPlatformId",
            "ltiUserId",
            "identifier",
        ),
    ),
]
AlignmentTargetType = Annotated[
    str,
    _Vocabulary(
        "AlignmentTargetType",
        (
            "ceasn:Competency",
            "ceterms:Credential",
            "CFItem",
            "CFRubric",
            "CFRubricCriterion",
            "CFRubricCriterionLevel",
            "CTDL",
        ),
    ),
]
ResultType = Annotated[
    str,
    _Vocabulary(
        "ResultType",
        (
            "GradePointAverage",
            "LetterGrade",
            "Percent",
            "PerformanceLevel",
            "PredictedScore",
            "RawScore",
            "Result",
            "RubricCriterion",
            "RubricCriterionLevel",
            "RubricScore",
            "ScaledScore",
            "Status",
        ),
    ),
]
ResultStatus = Literal[
    "Completed", "Enrolled", "Failed", "InProgress", "OnHold", "Provisional", "Withdrew"
]


@dataclass(frozen=True)
class _RequiredTypes:
    """Annotation for a ``type`` array that must include one term of each group."""

    groups: tuple[tuple[str, ...], ...]

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> Any:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(self, schema: Any, handler: GetJsonSchemaHandler) -> Any:
        json_schema = handler(schema)
        json_schema["minItems"] = 1
        json_schema["allOf"] = [{"contains": {"enum": list(group)}} for group in self.groups]
        return json_schema

    def _check(self, value: list[str]) -> list[str]:
        for group in self.groups:
            if not any(term in value for term in group):
                wanted = " or ".join(f"'{term}'" for term in group)
                raise PydanticCustomError(
                    "ob_type", "type must include {wanted}", {"wanted": wanted}
                )
        return value


def TypeOf(*required: str | tuple[str, ...]) -> Any:
    """The ``type`` of an OB class: an array holding the class name(s), defaulting to them.

    Used as a ``list[str]`` field's default: the field's validation comes with it.
    """
    groups = tuple((r,) if isinstance(r, str) else r for r in required)
    default = [group[0] for group in groups]
    # typed Any: a typing special form is a valid annotation, though not a ``type``
    annotation: Any = Annotated[
        list[str],
        BeforeValidator(_as_list),
        _RequiredTypes(groups),
        Field(default_factory=lambda: list(default)),
    ]
    return FieldInfo.from_annotation(annotation)


def FixedType(name: str) -> Any:
    """The ``type`` of a class the formal schema types as one string, e.g. ``"Image"``.

    Used as a ``Literal[name]`` field's default: the field's validation comes with it.
    """
    annotation: Any = Annotated[Literal[name], BeforeValidator(_single), Field(default=name)]
    return FieldInfo.from_annotation(annotation)


# ── models ──────────────────────────────────────────────────────────────────


class OBModel(BaseModel):
    """Base of every OB 3.0 class: camelCase JSON names, extension properties kept."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="allow",
    )

    @classmethod
    def from_jsonld(cls, doc: Mapping[str, Any]) -> Self:
        """Parse a JSON document by its JSON names only (a "valid_from" key is an extension)."""
        return cls.model_validate(doc, by_alias=True, by_name=False)

    def to_jsonld(self) -> dict[str, Any]:
        """The JSON document: spec property names, nulls omitted."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class Image(OBModel):
    """An image of a credential, achievement or profile (by URI or data URI)."""

    model_config = ConfigDict(extra="forbid")
    id: str
    type: Literal["Image"] = FixedType("Image")
    caption: str | None = None


class Criteria(OBModel):
    """What a learner must do to earn an achievement."""

    id: str | None = None
    narrative: str | None = None


class Alignment(OBModel):
    """An alignment to a node in an educational framework."""

    type: list[str] = TypeOf("Alignment")
    target_code: str | None = None
    target_description: str | None = None
    target_name: str
    target_framework: str | None = None
    target_type: AlignmentTargetType | None = None
    target_url: str


class IdentifierEntry(OBModel):
    """An additional identifier of a profile or an achievement."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["IdentifierEntry"] = FixedType("IdentifierEntry")
    identifier: str
    identifier_type: IdentifierType


class IdentityObject(OBModel):
    """An identifier of the recipient, in clear or as a salted hash (``sha256$...``)."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["IdentityObject"] = FixedType("IdentityObject")
    hashed: StrictBool
    identity_hash: str
    identity_type: IdentifierType
    salt: str | None = None


class GeoCoordinates(OBModel):
    """A WGS84 position."""

    type: Literal["GeoCoordinates"] = FixedType("GeoCoordinates")
    latitude: Number
    longitude: Number


class Address(OBModel):
    """A postal address."""

    type: list[str] = TypeOf("Address")
    address_country: str | None = None
    address_country_code: str | None = None
    address_region: str | None = None
    address_locality: str | None = None
    street_address: str | None = None
    post_office_box_number: str | None = None
    postal_code: str | None = None
    geo: One[GeoCoordinates] | None = None


class Related(OBModel):
    """A related achievement, e.g. the same one in another language."""

    id: str
    type: list[str] = TypeOf("Related")
    in_language: LanguageCode | None = None
    version: str | None = None


class RubricCriterionLevel(OBModel):
    """A level of a rubric criterion."""

    id: str
    type: list[str] = TypeOf("RubricCriterionLevel")
    alignment: Many[Alignment] | None = None
    description: str | None = None
    level: str | None = None
    name: str
    points: str | None = None


class ResultDescription(OBModel):
    """A result an achievement can have (grade, score, rubric level, status)."""

    id: str
    type: list[str] = TypeOf("ResultDescription")
    alignment: Many[Alignment] | None = None
    allowed_value: Many[str] | None = None
    name: str
    required_level: str | None = None
    required_value: str | None = None
    result_type: ResultType
    rubric_criterion_level: Many[RubricCriterionLevel] | None = None
    value_max: str | None = None
    value_min: str | None = None


class Result(OBModel):
    """A result the recipient achieved, described by a ResultDescription."""

    type: list[str] = TypeOf("Result")
    achieved_level: str | None = None
    alignment: Many[Alignment] | None = None
    result_description: str | None = None
    status: One[ResultStatus] | None = None
    value: str | None = None


class Evidence(OBModel):
    """Evidence of the recipient's achievement."""

    id: str | None = None
    type: list[str] = TypeOf("Evidence")
    narrative: str | None = None
    name: str | None = None
    description: str | None = None
    genre: str | None = None
    audience: str | None = None


class Profile(OBModel):
    """An issuer, creator, endorser or other entity (organisation or person)."""

    id: str
    type: list[str] = TypeOf("Profile")
    name: str | None = None
    url: str | None = None
    phone: str | None = None
    description: str | None = None
    endorsement: Many["EndorsementCredential"] | None = None
    endorsement_jwt: Many[CompactJws] | None = None
    image: One[Image] | None = None
    email: str | None = None
    address: One[Address] | None = None
    other_identifier: Many[IdentifierEntry] | None = None
    official: str | None = None
    parent_org: One["Profile"] | None = None
    family_name: str | None = None
    given_name: str | None = None
    additional_name: str | None = None
    patronymic_name: str | None = None
    honorific_prefix: str | None = None
    honorific_suffix: str | None = None
    family_name_prefix: str | None = None
    date_of_birth: Date | None = None


class Achievement(OBModel):
    """What was accomplished: the badge class of OB 2.0."""

    id: str
    type: list[str] = TypeOf("Achievement")
    alignment: Many[Alignment] | None = None
    achievement_type: AchievementType | None = None
    creator: One[Profile] | None = None
    credits_available: Number | None = None
    criteria: One[Criteria]
    description: str
    endorsement: Many["EndorsementCredential"] | None = None
    endorsement_jwt: Many[CompactJws] | None = None
    field_of_study: str | None = None
    human_code: str | None = None
    image: One[Image] | None = None
    in_language: LanguageCode | None = None
    name: str
    other_identifier: Many[IdentifierEntry] | None = None
    related: Many[Related] | None = None
    result_description: Many[ResultDescription] | None = None
    specialization: str | None = None
    tag: Many[str] | None = None
    version: str | None = None


class AchievementSubject(OBModel):
    """The recipient and the achievement they earned (the credentialSubject)."""

    id: str | None = None
    type: list[str] = TypeOf("AchievementSubject")
    activity_end_date: DateTime | None = None
    activity_start_date: DateTime | None = None
    credits_earned: Number | None = None
    achievement: One[Achievement]
    identifier: Many[IdentityObject] | None = None
    image: One[Image] | None = None
    license_number: str | None = None
    narrative: str | None = None
    result: Many[Result] | None = None
    role: str | None = None
    source: One[Profile] | None = None
    term: str | None = None

    @model_validator(mode="after")
    def _identified(self) -> Self:
        if self.id is None and not self.identifier:
            raise PydanticCustomError(
                "ob_subject_id", "the recipient needs an 'id' or at least one 'identifier'"
            )
        return self


class EndorsementSubject(OBModel):
    """The entity an endorsement is about."""

    id: str
    type: list[str] = TypeOf("EndorsementSubject")
    endorsement_comment: str | None = None


class CredentialSchema(OBModel):
    """A JSON Schema the credential conforms to (``1EdTechJsonSchemaValidator2019``)."""

    id: str
    type: One[str]


class CredentialStatus(OBModel):
    """Any credential status method, e.g. ``1EdTechRevocationList``."""

    id: str
    type: One[str]


class BitstringStatusListEntry(CredentialStatus):
    """A position in a W3C Bitstring Status List (VC DM 2.0 §4.10)."""

    type: Literal["BitstringStatusListEntry"] = FixedType("BitstringStatusListEntry")
    status_purpose: str
    status_list_index: StatusListIndex
    status_list_credential: str
    status_size: Annotated[int, Field(ge=1)] | None = None
    status_message: list[dict[str, Any]] | None = None
    status_reference: str | list[str] | None = None


class RefreshService(OBModel):
    """Where a fresh copy of the credential can be had (``1EdTechCredentialRefresh``)."""

    id: str
    type: One[str]


class TermsOfUse(OBModel):
    """Terms under which the credential was issued."""

    id: str | None = None
    type: One[str]


class Proof(OBModel):
    """An embedded proof; Data Integrity, or a legacy suite such as Ed25519Signature2020."""

    type: One[str]
    created: DateTimeZ | None = None
    cryptosuite: str | None = None
    challenge: str | None = None
    domain: str | None = None
    nonce: str | None = None
    proof_purpose: str | None = None
    proof_value: str | None = None
    verification_method: str | None = None


class DataIntegrityProof(Proof):
    """A W3C Data Integrity proof, e.g. cryptosuite ``eddsa-rdfc-2022``."""

    type: Literal["DataIntegrityProof"] = FixedType("DataIntegrityProof")
    cryptosuite: str


def _status_kind(value: Any) -> str:
    kind = value.get("type") if isinstance(value, Mapping) else getattr(value, "type", None)
    kind = kind[0] if isinstance(kind, list) and len(kind) == 1 else kind
    return _BITSTRING_TAG if kind == "BitstringStatusListEntry" else _OTHER_STATUS_TAG


def _issuer_kind(value: Any) -> str | None:
    if isinstance(value, str):
        return _IRI_TAG
    return _PROFILE_TAG if isinstance(value, Mapping | Profile) else None


# Union tags show up in pydantic error locations; validate_structure drops them.
_BITSTRING_TAG, _OTHER_STATUS_TAG = "<BitstringStatusListEntry>", "<CredentialStatus>"
_IRI_TAG, _PROFILE_TAG = "<IRI>", "<Profile>"
_UNION_TAGS = frozenset({_BITSTRING_TAG, _OTHER_STATUS_TAG, _IRI_TAG, _PROFILE_TAG})

AnyCredentialStatus = Annotated[
    Annotated[BitstringStatusListEntry, Tag(_BITSTRING_TAG)]
    | Annotated[CredentialStatus, Tag(_OTHER_STATUS_TAG)],
    Discriminator(_status_kind),
]
ProfileRef = Annotated[
    Annotated[str, Tag(_IRI_TAG)] | Annotated[Profile, Tag(_PROFILE_TAG)],
    Discriminator(
        _issuer_kind,
        custom_error_type="ob_issuer",
        custom_error_message="must be an IRI or a Profile object",
    ),
]


def _context_problems(
    context: list[Any] | None, valid_from: Any, issuance_date: Any
) -> list[tuple[str, str]]:
    """(property, message) for the @context and date rules of VC 2.0 / VC 1.1."""
    problems = []
    if context is not None:
        if not context or context[0] not in (VC_V2_CONTEXT, VC_V1_CONTEXT):
            message = f"the first @context must be {VC_V2_CONTEXT} (or {VC_V1_CONTEXT} for VC 1.1)"
            problems.append(("@context", message))
        if (
            len(context) < 2
            or not isinstance(context[1], str)
            or not _OB_CONTEXT_RE.fullmatch(context[1])
        ):
            problems.append(("@context", "the second @context must be an Open Badges 3.0 context"))
    if context and context[0] == VC_V1_CONTEXT:
        if issuance_date is None:
            problems.append(("issuanceDate", "issuanceDate is required by VC 1.1"))
    elif valid_from is None:
        problems.append(
            ("validFrom", "validFrom is required by Open Badges 3.0 (VC 2.0 makes it optional)")
        )
    return problems


def _uses_1edtech_terms(node: Any) -> bool:
    if isinstance(node, Mapping):
        kinds = _as_list(node.get("type", []))
        return any(isinstance(k, str) and k.startswith("1EdTech") for k in kinds) or any(
            _uses_1edtech_terms(v) for v in node.values()
        )
    return isinstance(node, list) and any(_uses_1edtech_terms(v) for v in node)


def _emitted_credential_schema(schema: dict[str, Any]) -> None:
    # Always emitted by to_jsonld() (computed @context; validFrom for the VC 2.0 we build),
    # though optional on input.
    schema["required"] = ["@context", *schema.get("required", []), "validFrom"]


def _default_context(document: Mapping[str, Any]) -> list[str]:
    """VC 2.0 + OB 3.0.3, plus the 1EdTech extensions context when a 1EdTech term is used."""
    context = [VC_V2_CONTEXT, OB_CONTEXT]
    if _uses_1edtech_terms(document):
        context.append(OB_EXTENSIONS_CONTEXT)
    return context


class _Credential(OBModel):
    """Properties shared by AchievementCredential and EndorsementCredential."""

    model_config = ConfigDict(json_schema_extra=_emitted_credential_schema)
    _rule_error: ClassVar[str] = "ob_vc_rules"

    context: Annotated[list[str | dict[str, Any]], BeforeValidator(_as_list)] | None = Field(
        default=None, alias="@context"
    )
    id: str
    name: str | None = None
    description: str | None = None
    image: One[Image] | None = None
    awarded_date: DateTimeZ | None = None
    issuer: One[ProfileRef]
    valid_from: DateTimeZ | None = None
    valid_until: DateTimeZ | None = None
    issuance_date: DateTimeZ | None = None  # VC 1.1
    expiration_date: DateTimeZ | None = None  # VC 1.1
    proof: Many[Proof] | None = None
    credential_schema: Many[CredentialSchema] | None = None
    # OB 3.0 has one status; VC DM 2.0 allows several (e.g. revocation and suspension).
    credential_status: One[AnyCredentialStatus] | list[AnyCredentialStatus] | None = None
    refresh_service: One[RefreshService] | None = None
    terms_of_use: Many[TermsOfUse] | None = None

    @model_validator(mode="after")
    def _vc_rules(self) -> Self:
        problems = _context_problems(self.context, self.valid_from, self.issuance_date)
        if problems:
            field, message = problems[0]
            raise PydanticCustomError(self._rule_error, message, {"field": field})
        return self

    @model_serializer(mode="wrap")
    def _with_context(self, handler: SerializerFunctionWrapHandler, info: Any) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        key = "context" if info.by_alias is False else "@context"
        if self.context is None:  # built here: the context follows from the content
            data.pop(key, None)
            data = {key: _default_context(data), **data}
        return data


class EndorsementCredential(_Credential):
    """A third party's endorsement of a profile, an achievement or a credential."""

    type: list[str] = TypeOf("VerifiableCredential", "EndorsementCredential")
    name: str
    credential_subject: One[EndorsementSubject]


class AchievementCredential(_Credential):
    """An awarded achievement: the Open Badge (type ``OpenBadgeCredential``)."""

    type: list[str] = TypeOf(
        "VerifiableCredential", ("OpenBadgeCredential", "AchievementCredential")
    )
    credential_subject: One[AchievementSubject]
    endorsement: Many[EndorsementCredential] | None = None
    endorsement_jwt: Many[CompactJws] | None = None
    evidence: Many[Evidence] | None = None


OpenBadgeCredential = AchievementCredential

for _model in (
    Profile,
    Achievement,
    AchievementSubject,
    EndorsementCredential,
    AchievementCredential,
):
    _model.model_rebuild()


# ── structural validation for verifiers ─────────────────────────────────────


@dataclass(frozen=True)
class StructureIssue:
    """One way a document breaks the OB 3.0 data model; *path* is a JSON Pointer."""

    path: str
    message: str


_MESSAGES = {
    "missing": "required property is missing",
    "extra_forbidden": "property not allowed here",
    "model_type": "must be an object",
    "list_type": "must be an array",
    "string_type": "must be a string",
}


def _pointer(parts: Iterable[Any]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _issue(error: Mapping[str, Any]) -> StructureIssue:
    parts = [p for p in error["loc"] if p not in _UNION_TAGS]
    field = (error.get("ctx") or {}).get("field")
    if field:
        parts.append(field)
    if error["type"] == "literal_error":
        return StructureIssue(_pointer(parts), f"must be {error['ctx']['expected']}")
    return StructureIssue(_pointer(parts), _MESSAGES.get(error["type"], error["msg"]))


def validate_structure(doc: Any) -> list[StructureIssue]:
    """Everything in *doc* that breaks the OB 3.0 model of its credential type.

    Checks an AchievementCredential/OpenBadgeCredential, or an EndorsementCredential
    when its type says so, on VC 2.0 or VC 1.1. Single values where arrays are expected
    (and the reverse) are accepted, as JSON-LD allows. Proofs, dates against the clock
    and status are not checked here. An empty list means structurally valid.
    """
    if not isinstance(doc, Mapping):
        return [StructureIssue("", "a credential must be a JSON object")]
    issues = []
    if "@context" not in doc:
        issues.append(StructureIssue("/@context", _MESSAGES["missing"]))
    context = _as_list(doc["@context"]) if "@context" in doc else None
    for field, message in _context_problems(context, doc.get("validFrom"), doc.get("issuanceDate")):
        issues.append(StructureIssue(_pointer([field]), message))

    is_endorsement = "EndorsementCredential" in _as_list(doc.get("type", []))
    model = EndorsementCredential if is_endorsement else AchievementCredential
    try:
        model.from_jsonld(doc)
    except ValidationError as exc:
        for error in exc.errors():
            # The document-level rules were reported above, with every problem at once.
            if error["loc"] or error["type"] != _Credential._rule_error:
                issues.append(_issue(error))
    return issues
