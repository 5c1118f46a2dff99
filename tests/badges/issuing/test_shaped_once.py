"""A batch's credentials skip the OB 3.0 model round trip after the first of each shape
(`IssueContext.credential`): the document is still the models' own, key order included."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from badges.issuing import service as issuing
from tests.support.world import World

# Values a class list may hold, hostile ones included (quotes, escapes, astral, U+2028).
_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=["Cs", "Cc"]) | st.sampled_from('"\\\u2028😀{}'),
    min_size=1,
    max_size=40,
).filter(str.strip)
_RECIPIENTS = st.builds(
    issuing.Recipient,
    name=_TEXT,
    email=st.sampled_from(["ada@example.org", "zoe@example.de"]),
    did=st.none() | st.just("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"),
    grade=st.none() | st.sampled_from(["B", "A+", "87%", "passed with merit", '"7"']),
    evidence_url=st.none() | st.sampled_from(["https://e.example/x?a=1&b=%22", "http://e.example"]),
    evidence_narrative=st.none() | _TEXT,
)
_ENDORSEMENT = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "id": "urn:uuid:6a9c5b1e-4d5f-4a43-9d22-7f3f3e0d1c11",
    "type": ["VerifiableCredential", "EndorsementCredential"],
}


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(recipients=st.lists(_RECIPIENTS, min_size=1, max_size=4), endorsed=st.booleans())
@example(  # every kind of grade: each its own result type in the shared achievement
    recipients=[
        issuing.Recipient("A", "ada@example.org", grade=grade)
        for grade in ("B", "87%", "passed", None)
    ],
    endorsed=True,
)
def test_reused_shapes_give_the_models_document(
    world: World, session: Session, recipients: list[issuing.Recipient], endorsed: bool
) -> None:
    context = issuing.issue_context(
        session,
        world.master_key,
        issuer=world.issuer,
        micro_credential=world.mc,
        base_url="http://testserver",
    )
    context.carry([_ENDORSEMENT] if endorsed else [])
    valid_from = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
    entries = [
        {
            "id": f"http://testserver/status/{purpose}/1#{index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": purpose,
            "statusListIndex": str(index),
            "statusListCredential": f"http://testserver/status/{purpose}/1",
        }
        for index, purpose in enumerate(("revocation", "suspension"))
    ]
    for number, recipient in enumerate([*recipients, *recipients]):  # each shape twice
        parts: dict[str, Any] = {
            "credential_uuid": f"00000000-0000-4000-8000-{number:012d}",
            "recipient": issuing.check_recipient(recipient),
            "salt": f"{number:032x}",
            "valid_from": valid_from,
            "status_entries": entries,
        }
        made = context.credential(session, **parts)
        modelled = issuing.build_credential(
            session,
            issuer=world.issuer,
            org=context.org,
            mc=world.mc,
            urls=context.urls,
            endorsements=context.endorsements,
            **parts,
        )
        assert json.dumps(made, ensure_ascii=False) == json.dumps(modelled, ensure_ascii=False)
    # The direct assembly was taken (every shape seen agreed with the models).
    assert context.shaped and all(shared is not None for shared in context.shaped.values())
