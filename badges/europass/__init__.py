"""Europass: an award as a sealed European Digital Credential (`export`), its page (`render`);
checking one is the verifier's (`badges.verifying.edc`), re-exported here."""

from badges.europass.export import (
    SEALED_MEDIA_TYPE,
    UPLOADABLE_MEDIA_TYPE,
    EuropassExport,
    EuropassIncomplete,
    TimestampUnavailable,
    europass_refusal,
    export_europass,
)
from badges.verifying.edc import EdcReport, is_edc, verification_report, verify_edc

__all__ = [
    "SEALED_MEDIA_TYPE",
    "UPLOADABLE_MEDIA_TYPE",
    "EdcReport",
    "EuropassExport",
    "EuropassIncomplete",
    "TimestampUnavailable",
    "europass_refusal",
    "export_europass",
    "is_edc",
    "verification_report",
    "verify_edc",
]
