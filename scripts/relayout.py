"""Rewrite imports from the old flat module paths to the package layout (issue 12, "Layout").

Run it from the repository root, with no arguments for every Python file git knows of
(tracked or untracked, not ignored), or with the files/folders to rewrite:

    python scripts/relayout.py            # the whole tree
    python scripts/relayout.py tests/x.py # some files
    python scripts/relayout.py --check    # list what would change, change nothing (exit 1 if any)

then let ruff sort the imports it touched: `ruff check --fix --select I . && ruff format .`
(or `make format`).

It is idempotent: code already on the new paths is left alone, so it can run again after a
branch written against the old layout is merged. What it rewrites:

* `from OLD import name` -> the module that defines `name` now; a sub-package's public surface
  (its `__init__`'s `__all__`) is preferred when the importing file is outside that package.
* `from PKG import old_module [as x]` -> `from NEW_PARENT import new_module as old_module`, or
  the same line unchanged when `old_module` became a package whose `__all__` holds every
  attribute the file reads from it (and the file never passes the module itself around, as
  `monkeypatch.setattr(module, ...)` does: such patches must hit the defining submodule).
* `import OLD [as x]` -> `import NEW [as x]`.
* dotted references `OLD.attr` in code, strings and comments (`"badges.fetching.socket"`,
  `tests.badges.conftest.make_world`) -> `NEW.attr`, attr's defining module.

It moves no files: a new file a merged branch adds at an old place (say `badges/x.py` or
`tests/badges/test_x.py`) is `git mv`-ed by hand into its sub-package.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Old module -> the module its contents live in now.
MODULES: dict[str, str] = {
    # badges: four sub-domains as packages
    "badges.verify_report": "badges.report",
    "badges.bitstring": "badges.status.bitstring",
    "badges.status": "badges.status.lists",
    "badges.issuing": "badges.issuing.service",
    "badges.issuers": "badges.issuing.issuers",
    "badges.bulk": "badges.issuing.bulk",
    "badges.verifying": "badges.verifying.service",
    "badges.verify_input": "badges.verifying.input",
    "badges.verify_proofs": "badges.verifying.proofs",
    "badges.verify_status": "badges.verifying.status",
    "badges.resolving": "badges.verifying.resolving",
    "badges.fetching": "badges.verifying.fetching",
    "badges.proven_skills": "badges.verifying.proven_skills",
    "badges.sharing": "badges.sharing.page",
    "badges.images": "badges.sharing.images",
    "badges.delivery": "badges.sharing.delivery",
    "badges.mail": "badges.sharing.mail",
    "badges.europass": "badges.europass.export",
    "badges.edc_render": "badges.europass.render",
    "badges.jades": "badges.proofs.jades",
    "badges.verify_budget": "badges.verifying.budget",
    # the CLI: a package, helpers apart from the command modules
    "skillshub.cli": "skillshub.cli.common",
    "skillshub.cli_badges": "skillshub.cli.badges",
    "skillshub.cli_catalogue": "skillshub.cli.catalogue",
    "skillshub.cli_europass": "skillshub.cli.europass",
    "skillshub.cli_learner": "skillshub.cli.learner",
    # tests: shared helpers in tests/support, tests mirroring the badges packages
    "tests.badges.own": "tests.support.own",
    "tests.badges.pinning": "tests.support.pinning",
    "tests.badges.elm_shacl": "tests.support.elm_shacl",
    "tests.badges.test_jades": "tests.badges.proofs.test_jades",
    "tests.badges.test_bitstring": "tests.badges.status.test_bitstring",
    "tests.badges.test_status": "tests.badges.status.test_status",
    "tests.badges.test_status_concurrency": "tests.badges.status.test_status_concurrency",
    "tests.badges.test_issuing": "tests.badges.issuing.test_issuing",
    "tests.badges.test_unstorable_input": "tests.badges.issuing.test_unstorable_input",
    "tests.badges.test_write_concurrency": "tests.badges.issuing.test_write_concurrency",
    "tests.badges.test_verify_bounds": "tests.badges.verifying.test_verify_bounds",
    "tests.badges.test_hostile_text": "tests.badges.issuing.test_hostile_text",
    "tests.badges.test_svg_allow_list": "tests.badges.sharing.test_svg_allow_list",
    "tests.csrf": "tests.support.csrf",
    "tests.badges.test_fetching": "tests.badges.verifying.test_fetching",
    "tests.badges.test_verifying": "tests.badges.verifying.test_verifying",
    "tests.badges.test_verifying_fixtures": "tests.badges.verifying.test_verifying_fixtures",
    "tests.badges.test_europass_verify": "tests.badges.verifying.test_europass_verify",
    "tests.badges.test_badge_images": "tests.badges.sharing.test_badge_images",
    "tests.badges.test_delivery": "tests.badges.sharing.test_delivery",
    "tests.badges.test_learner": "tests.badges.sharing.test_learner",
    "tests.badges.test_learner_browser": "tests.badges.sharing.test_learner_browser",
    "tests.badges.test_learner_sessions": "tests.badges.sharing.test_learner_sessions",
    "tests.badges.test_edc_render": "tests.badges.europass.test_edc_render",
    "tests.badges.test_europass_export": "tests.badges.europass.test_europass_export",
    "tests.badges.test_europass_mapping": "tests.badges.europass.test_europass_mapping",
}

# Names that left their old module for another one than MODULES says (or whose module stays).
_EDC = ("EdcReport", "is_edc", "verify_edc", "verification_report", "_check_validity")
_FOUNDATION = (
    *("init", "serve", "demo", "org_app", "token_app", "org_create", "org_list"),
    *("token_create", "token_list", "token_revoke"),
)
NAMES: dict[str, dict[str, str]] = {
    "badges.europass": {
        **dict.fromkeys(_EDC, "badges.verifying.edc"),
        **dict.fromkeys(("_label", "_text"), "badges.verifying.edc"),
    },
    "skillshub.cli": {
        **dict.fromkeys(_FOUNDATION, "skillshub.cli.foundation"),
        "verify_command": "skillshub.cli.badges",
    },
    "tests.conftest": {
        **dict.fromkeys(
            ("REPO", "REFERENCE", "OB3", "ELM", "reference"), "tests.support.reference"
        ),
        **dict.fromkeys(
            ("POSTGRES_ADMIN_URL", "create_postgres_database", "drop_postgres_database"),
            "skillshub.devsupport",
        ),
    },
    "tests.badges.conftest": dict.fromkeys(
        ("World", "make_world", "BATTERY_SKILL"), "tests.support.world"
    ),
    "tests.catalogue.conftest": dict.fromkeys(
        ("provider_token", "bearer", "course_payload", "micro_credential_payload"),
        "tests.support.catalogue",
    ),
}

OLD = set(MODULES) | set(NAMES)
SKIP_DIRS = {"node_modules", ".venv", ".git", "__pycache__"}


def destination(old: str, name: str) -> str:
    """The module that defines `name` (once in module `old`) now."""
    return NAMES.get(old, {}).get(name) or MODULES.get(old, old)


def parent(module: str) -> str:
    return module.rpartition(".")[0]


def module_file(module: str) -> Path | None:
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def is_package(module: str) -> bool:
    return ROOT.joinpath(*module.split("."), "__init__.py").is_file()


@cache
def exports(package: str) -> frozenset[str]:
    """A package's public surface: the names in its `__init__`'s `__all__`."""
    init = ROOT.joinpath(*package.split("."), "__init__.py")
    if not init.is_file():
        return frozenset()
    for node in ast.parse(init.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
                if node.value is None:  # `__all__: list[str]` names nothing
                    return frozenset()
                try:
                    return frozenset(ast.literal_eval(node.value))
                except ValueError:
                    return frozenset()
    return frozenset()


def is_submodule(module: str) -> bool:
    return module_file(module) is not None


def inside(file_module: str, package: str) -> bool:
    return file_module == package or file_module.startswith(package + ".")


def module_of(path: Path) -> str:
    parts = list(path.resolve().relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def target_for_name(old: str, name: str, file_module: str) -> str:
    """Where `from old import name` should import `name` from now."""
    if is_package(old) and is_submodule(f"{old}.{name}"):
        return old  # already new: a submodule of the package the old module became
    if is_package(old) and not inside(file_module, old) and name in exports(old):
        return old  # the package's public surface
    dest = destination(old, name)
    package = parent(dest)
    if package and not inside(file_module, package) and name in exports(package):
        return package
    return dest


def attribute_uses(tree: ast.AST, local: str) -> tuple[set[str], bool]:
    """The attributes a file reads from the name `local`, and whether it uses it bare."""
    parents: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    attrs: set[str] = set()
    bare = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == local:
            up = parents.get(node)
            if isinstance(up, ast.Attribute) and up.value is node:
                attrs.add(up.attr)
            else:
                bare = True
    return attrs, bare


def alias_text(name: str, asname: str | None) -> str:
    return name if not asname or asname == name else f"{name} as {asname}"


def rewrite_import_from(node: ast.ImportFrom, tree: ast.AST, file_module: str) -> list[str] | None:
    """The statements replacing `node` (as `from X import ...` texts), or None to keep it."""
    if node.level or not node.module:
        return None
    groups: dict[str, list[str]] = {}
    changed = False
    for alias in node.names:
        name, asname = alias.name, alias.asname
        old_module = f"{node.module}.{name}"
        if node.module in OLD and name != "*":
            where = target_for_name(node.module, name, file_module)
            text = alias_text(name, asname)
        elif old_module in MODULES:
            # `from PKG import old_module`: a module imported by its name
            local = asname or name
            attrs, bare = attribute_uses(tree, local)
            new = MODULES[old_module]
            homes = {destination(old_module, a) for a in attrs}
            if len(homes) == 1 and homes != {new} and not bare:
                # every attribute read moved elsewhere together: import that module
                [home] = homes
                where, text = parent(home), alias_text(home.rpartition(".")[2], local)
            elif (
                is_package(old_module)
                and not inside(file_module, old_module)
                and not bare
                and attrs <= exports(old_module)
            ):
                where, text = node.module, alias_text(name, asname)
            else:
                moved = {a for a in attrs if destination(old_module, a) != new}
                if moved:
                    print(
                        f"warning: {file_module}: {local}.{', '.join(sorted(moved))} now live "
                        f"outside {new}; check by hand",
                        file=sys.stderr,
                    )
                where, text = parent(new), alias_text(new.rpartition(".")[2], local)
        else:
            where, text = node.module, alias_text(name, asname)
        changed |= (where, text) != (node.module, alias_text(name, asname))
        groups.setdefault(where, []).append(text)
    if not changed:
        return None
    return [f"from {where} import {', '.join(names)}" for where, names in groups.items()]


def rewrite_import(node: ast.Import) -> list[str] | None:
    names = []
    changed = False
    for alias in node.names:
        new = alias.name
        if alias.name in MODULES and not is_package(alias.name):
            new = MODULES[alias.name]
            changed = True
        names.append(alias_text(new, alias.asname))
    return [f"import {', '.join(names)}"] if changed else None


def _dotted_pattern() -> re.Pattern[str]:
    olds = sorted(OLD, key=len, reverse=True)
    return re.compile(
        r"(?<![\w.])(" + "|".join(re.escape(o) for o in olds) + r")(?:\.([A-Za-z_]\w*))?(?![\w])"
    )


DOTTED = _dotted_pattern()


def rewrite_dotted(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        old, attr = match.group(1), match.group(2)
        if attr is None:
            # a bare module path: only one that is no longer a module
            if is_package(old) or old not in MODULES or module_file(old):
                return match.group(0)
            return MODULES[old]
        if is_submodule(f"{old}.{attr}"):
            return match.group(0)  # already the new path
        if old not in MODULES and attr not in NAMES.get(old, {}):
            return match.group(0)
        return f"{destination(old, attr)}.{attr}"

    return DOTTED.sub(replace, text)


def rewrite_source(source: str, file_module: str) -> str:
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    replacements: list[tuple[int, int, str]] = []  # (first line, last line, new text), 0-based
    import_lines: set[int] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        first, last = node.lineno - 1, (node.end_lineno or node.lineno) - 1
        import_lines.update(range(first, last + 1))
        new = (
            rewrite_import_from(node, tree, file_module)
            if isinstance(node, ast.ImportFrom)
            else rewrite_import(node)
        )
        if new is None:
            continue
        head = lines[first][: node.col_offset]
        if head.strip():
            continue  # `x; from y import z` on one line: left for a person
        tail = lines[last][node.end_col_offset or 0 :]
        rest = tail.rstrip("\r\n")
        newline = tail[len(rest) :] or "\n"
        # comments anywhere in the statement (a noqa after `from x import (`) go on each line
        comments = [line.partition("#")[2].strip() for line in lines[first : last + 1]]
        comment = "  # " + "; ".join(c for c in comments if c) if any(comments) else ""
        texts = [head + statement + comment + newline for statement in new]
        replacements.append((first, last, "".join(texts)))
    for index, line in enumerate(lines):
        if index not in import_lines:
            lines[index] = rewrite_dotted(line)
        elif "#" in line:
            code, _, comment = line.partition("#")
            lines[index] = code + "#" + rewrite_dotted(comment)
    for first, last, text in sorted(replacements, reverse=True):
        lines[first : last + 1] = [text]
    return "".join(lines)


def python_files(arguments: list[str]) -> list[Path]:
    if arguments:
        found: list[Path] = []
        for argument in arguments:
            path = Path(argument)
            found.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    else:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        found = [ROOT / name for name in dict.fromkeys(listed)]  # unmerged: once per stage
    myself = Path(__file__).resolve()  # its mapping names the old paths on purpose
    return [
        p.resolve()
        for p in found
        if p.is_file() and not SKIP_DIRS & set(p.parts) and p.resolve() != myself
    ]


def main(arguments: list[str]) -> int:
    check = "--check" in arguments
    paths = python_files([a for a in arguments if a != "--check"])
    changed = []
    for path in paths:
        source = path.read_text(encoding="utf-8")
        try:
            new = rewrite_source(source, module_of(path))
        except SyntaxError as exc:
            print(f"skipped {path} (resolve merge conflicts first?): {exc}", file=sys.stderr)
            continue
        if new != source:
            changed.append(path)
            if not check:
                path.write_text(new, encoding="utf-8")
    verb = "would rewrite" if check else "rewrote"
    for path in changed:
        print(f"{verb} {path.relative_to(ROOT)}")
    print(f"{verb} {len(changed)} of {len(paths)} files")
    return 1 if check and changed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
