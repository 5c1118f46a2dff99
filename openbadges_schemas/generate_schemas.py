"""Generate the project's JSON Schemas from the OB 3.0 models.

    python -m openbadges_schemas.generate_schemas

writes ``openbadges_schemas/jsonschema/*.json``; a test fails when they are stale.
The schemas describe the documents the models emit (the formal shape: arrays where
the 1EdTech formal schema has arrays, no nulls), not the liberal input they parse.
"""

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import core_schema

from openbadges_schemas.ob3 import AchievementCredential, EndorsementCredential, Profile

SCHEMA_DIR = Path(__file__).parent / "jsonschema"
MODELS: dict[str, type[BaseModel]] = {
    "achievementcredential.json": AchievementCredential,
    "endorsementcredential.json": EndorsementCredential,
    "profile.json": Profile,
}


class _EmittedShape(GenerateJsonSchema):
    """The shape to_jsonld() emits: optional properties absent (never null), defaults present."""

    def nullable_schema(self, schema: core_schema.NullableSchema) -> Any:
        return self.generate_inner(schema["schema"])

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> Any:
        if schema.get("default", ...) is None:
            return self.generate_inner(schema["schema"])
        return super().default_schema(schema)

    def tagged_union_schema(self, schema: core_schema.TaggedUnionSchema) -> Any:
        # The models pick a branch by a discriminator function the schema cannot state;
        # as branches overlap (a BitstringStatusListEntry is also a CredentialStatus),
        # "oneOf" would reject valid documents.
        json_schema = super().tagged_union_schema(schema)
        json_schema["anyOf"] = json_schema.pop("oneOf")
        return json_schema

    def field_is_required(self, field: Any, total: bool) -> bool:
        # A field with a real default (a type name, a type list) is always emitted.
        schema = field["schema"]
        if schema["type"] == "default":
            return "default_factory" in schema or schema.get("default") is not None
        return super().field_is_required(field, total)

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema(by_alias=True, schema_generator=_EmittedShape)
    return {"$schema": _EmittedShape.schema_dialect, **schema}


def render() -> dict[str, str]:
    """File name -> file text of every generated schema."""
    return {
        name: json.dumps(json_schema(model), indent=2, ensure_ascii=False) + "\n"
        for name, model in MODELS.items()
    }


def main() -> None:
    SCHEMA_DIR.mkdir(exist_ok=True)
    for name, text in render().items():
        (SCHEMA_DIR / name).write_text(text, encoding="utf-8")
        print(f"wrote {SCHEMA_DIR / name}")


if __name__ == "__main__":
    main()
