"""The console's navigation: each page module registers its entries when it is imported.

`path` is either a console path ("/console/sessions") or an organisation's page with `{slug}`
("/console/orgs/{slug}/recipients"), shown for the organisation being looked at (the one in
the URL, else the user's first) and only to members whose role there is `needs` or higher.
Entries are shown by `order`, then label.
"""

from __future__ import annotations

from dataclasses import dataclass

from accounts.roles import Role


@dataclass(frozen=True)
class NavItem:
    label: str
    path: str
    needs: Role = Role.viewer
    order: int = 100
    operators_only: bool = False  # a hub page (accounts.operators): shown to operators only

    @property
    def per_organisation(self) -> bool:
        return "{slug}" in self.path


@dataclass(frozen=True)
class NavLink:
    label: str
    href: str
    current: bool


_ITEMS: dict[str, NavItem] = {}


def register(
    label: str,
    path: str,
    *,
    needs: Role = Role.viewer,
    order: int = 100,
    operators_only: bool = False,
) -> None:
    """Add an entry (registering the same path again replaces it: modules may be reloaded)."""
    _ITEMS[path] = NavItem(label, path, needs, order, operators_only)


def items() -> list[NavItem]:
    return sorted(_ITEMS.values(), key=lambda item: (item.order, item.label))


def links(
    current_path: str, slug: str | None, role: Role | None, *, operator: bool = False
) -> list[NavLink]:
    """The entries this user sees on the page at `current_path`."""
    found = []
    for item in items():
        if item.operators_only and not operator:
            continue
        if item.per_organisation:
            if slug is None or role is None or role < item.needs:
                continue
            href = item.path.replace("{slug}", slug)
        else:
            href = item.path
        current = current_path == href or (
            href != "/console" and current_path.startswith(href + "/")
        )
        found.append(NavLink(item.label, href, current))
    return found
