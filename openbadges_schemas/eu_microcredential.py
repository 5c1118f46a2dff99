"""Our JSON Schema for the EU micro-credential elements in an OB 3.0 credential (issue 18).

The credential names it in `credentialSchema` next to 1EdTech's; like theirs it is checked
from the pinned copy, never fetched. The JSON-LD context is pinned with the others
(`loader.EU_MICROCREDENTIAL_V1`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft201909Validator

from openbadges_schemas.loader import EU_MICROCREDENTIAL_V1

SCHEMA_URL = f"{EU_MICROCREDENTIAL_V1}/schema.json"
_FILE = "eu-microcredential-v1.schema.json"
# Paths under which the app serves the pinned bytes: the URLs' paths.
CONTEXT_PATH = "/ns/eu-microcredential/v1"
SCHEMA_PATH = f"{CONTEXT_PATH}/schema.json"


def schema_bytes() -> bytes:
    return resources.files("openbadges_schemas").joinpath(_FILE).read_bytes()


@cache
def schema() -> Mapping[str, Any]:
    document: Mapping[str, Any] = json.loads(schema_bytes())
    return document


def problems(credential: Mapping[str, Any]) -> list[str]:
    """What the credential gets wrong against our schema (empty: it conforms)."""
    validator = Draft201909Validator(schema())
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '/'}: {error.message}"
        for error in validator.iter_errors(credential)
    ]
