"""Console roles and the one check every console service makes before it acts."""

from __future__ import annotations

from enum import StrEnum

from catalogue.errors import Forbidden


class Role(StrEnum):
    """A member's role in an organisation. Ordered: owner > issuer > viewer, so
    `role >= Role.issuer` reads "may issue" (str's own ordering is alphabetical, not this)."""

    viewer = "viewer"  # reads everything of the organisation
    issuer = "issuer"  # catalogue, issuing, revoking
    owner = "owner"  # members, tokens, issuer identity, seals, and all of the above

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def __ge__(self, other: object) -> bool:
        return self.rank >= _rank(other)

    def __gt__(self, other: object) -> bool:
        return self.rank > _rank(other)

    def __le__(self, other: object) -> bool:
        return self.rank <= _rank(other)

    def __lt__(self, other: object) -> bool:
        return self.rank < _rank(other)


_RANKS = {Role.viewer: 0, Role.issuer: 1, Role.owner: 2}


def _rank(other: object) -> int:
    if not isinstance(other, Role):
        # A plain string compared with a role is a bug: "owner" < "viewer" alphabetically.
        raise TypeError(f"a Role compares with a Role only, not {type(other).__name__}")
    return other.rank


class NotAMember(Forbidden):
    """The user has no role in the organisation (or it does not exist: the same answer)."""

    code = "not_a_member"


class RoleTooLow(Forbidden):
    code = "role_required"
