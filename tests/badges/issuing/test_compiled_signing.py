"""Every credential we issue is signed through a compiled template (badges.proofs.compiled),
and its proof is the one the pyld path gives, byte for byte."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlmodel import Session

from badges.issuing import service as issuing
from badges.proofs import canonicalize as pyld_path
from badges.proofs import compiled, eddsa_rdfc_2022
from badges.proofs.data_integrity import without_proof
from badges.securing import issuer_signer
from catalogue.base import pk
from openbadges_schemas.loader import default_loader
from tests.support.present import present
from tests.support.world import World

RECIPIENTS = [
    issuing.Recipient("Ada Lovelace", "ada@example.org"),
    issuing.Recipient(
        'Zoë "Z" O\'Brien \\ 😀 \U0001d518',
        "zoe@example.org",
        grade="B+",
        evidence_url="https://portfolio.example.org/zoe?a=1&b=%22",
        evidence_narrative='Built a "battery"\n\twith tabs\r\nand \\backslashes\\ {0} _:c14n0',
        did="did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
    ),
    issuing.Recipient("Ω " + "long name " * 25, "long@example.org", grade="87%"),
]


def _resign_with_pyld(world: World, session: Session, credential: dict[str, Any]) -> Any:
    signer = issuer_signer(session, world.master_key, pk(world.issuer), "ldp")
    proof = credential["proof"][0]
    return eddsa_rdfc_2022.create_proof(
        without_proof(credential), signer=signer, created=proof["created"], shapes="off"
    )["proof"]


@pytest.mark.parametrize("recipient", RECIPIENTS, ids=["plain", "hostile", "long"])
def test_issued_credential_proof_is_the_pyld_paths(
    world: World, session: Session, recipient: issuing.Recipient, monkeypatch: pytest.MonkeyPatch
) -> None:
    pyld_runs: list[object] = []
    real = pyld_path.canonicalize

    def counting(*args: Any, **kwargs: Any) -> str:
        pyld_runs.append(args)
        return real(*args, **kwargs)

    for round_ in range(2):  # the first compiles the shape, the second is filled from it
        pyld_runs.clear()
        monkeypatch.setattr(pyld_path, "canonicalize", counting)
        record = issuing.issue(
            session,
            world.master_key,
            issuer=world.issuer,
            micro_credential=world.mc,
            recipient=recipient,
            base_url="http://testserver",
        )
        monkeypatch.setattr(pyld_path, "canonicalize", real)
        if round_ == 1:
            assert pyld_runs == []  # credential and proof options both filled from templates
        credential = json.loads(record.signed)
        assert credential["proof"] == [_resign_with_pyld(world, session, credential)]
    document = without_proof(credential)
    shape = compiled.shape_of(document)
    assert shape is not None
    template = present(compiled.templates_of(default_loader())).find(shape[0])
    assert isinstance(template, compiled.Template)
    filled = template.fill(shape[1])
    assert filled is not None
    assert filled == pyld_path.canonicalize(document, memoize_contexts=False)
