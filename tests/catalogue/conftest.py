"""Catalogue fixtures: the demo catalogue."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from catalogue.demo import load_demo_catalogue


@pytest.fixture
def demo(session: Session) -> dict[str, int]:
    summary = load_demo_catalogue(session)
    session.commit()
    return summary
