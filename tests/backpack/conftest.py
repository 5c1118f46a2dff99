"""The issuing-ready world (tests.support.world) as a fixture."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from tests.support.world import World, make_world


@pytest.fixture
def world(session: Session, master_key: str) -> World:
    return make_world(session, master_key)
