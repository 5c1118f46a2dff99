"""An issuing-ready world: a provider with an issuer, a token, a course and a micro-credential.

Built by `skillshub.demo.make_world`, which the benchmarks use too."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from skillshub.demo import World, make_world

__all__ = ["World", "make_world"]


@pytest.fixture
def world(session: Session, master_key: str) -> World:
    return make_world(session, master_key)
