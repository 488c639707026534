"""The uv workspace: one namespace package across members, each declaring what it imports.

A member that imports a package without declaring it works only because another member happens
to bring it along (and breaks when installed alone, as each service image is); a member that
declares a package it never imports carries it for nothing.
"""

import ast
import importlib.metadata
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

RUNTIME_ONLY: dict[str, dict[str, str]] = {
    "etawatch-scraper": {"cssselect": "lxml.cssselect needs it and does not declare it"},
    "etawatch-demo": {"python-multipart": "FastAPI reads the login form with it"},
}
"""Declared, never imported by name: the library that uses them at run time does not declare
them itself."""

_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?")
_EXTRA_MARKER = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement(text: str) -> tuple[str, set[str]]:
    """``"psycopg[binary,pool]>=3.2"`` -> ``("psycopg", {"binary", "pool"})``."""
    match = _REQUIREMENT.match(text)
    assert match, f"unreadable requirement {text!r}"
    extras = {e.strip() for e in (match.group(2) or "").split(",") if e.strip()}
    return normalise(match.group(1)), extras


@dataclass(frozen=True)
class Member:
    folder: Path
    name: str
    dependencies: tuple[str, ...]

    @property
    def packages(self) -> list[Path]:
        return sorted(p for p in (self.folder / "src" / "etawatch").iterdir() if p.is_dir())


def members() -> list[Member]:
    root = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    folders = [ROOT]
    for pattern in root["tool"]["uv"]["workspace"]["members"]:
        folders += sorted(p for p in ROOT.glob(pattern) if (p / "pyproject.toml").exists())
    found = []
    for folder in folders:
        project = tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))["project"]
        found.append(Member(folder, project["name"], tuple(project.get("dependencies", []))))
    return found


MEMBERS = members()
MEMBER_OF_PACKAGE = {
    package.name: member.name
    for member in MEMBERS
    for package in member.packages
    if not package.name.startswith("__")
}


def imported_modules(member: Member) -> set[str]:
    """Every absolute import of the member's code, type-checking ones included."""
    modules: set[str] = set()
    for package in member.packages:
        for path in package.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    modules.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules.add(node.module)
    return modules


def imported_distributions(member: Member) -> set[str]:
    providers = importlib.metadata.packages_distributions()
    found: set[str] = set()
    for module in imported_modules(member):
        top, _, rest = module.partition(".")
        if top == "etawatch":
            found.add(MEMBER_OF_PACKAGE[rest.partition(".")[0]])
        elif top not in sys.stdlib_module_names:
            assert top in providers, f"{member.name} imports {top}: no installed package has it"
            found.update(normalise(d) for d in providers[top])
    found.discard(member.name)
    return found


def provided(name: str, extras: set[str]) -> set[str]:
    """The distribution and those its requested extras bring in."""
    names = {name}
    if not extras or name in MEMBER_OF_PACKAGE.values():
        return names
    for line in importlib.metadata.requires(name) or []:
        marker = _EXTRA_MARKER.search(line)
        if marker and marker.group(1) in extras:
            names.add(requirement(line)[0])
    return names


@pytest.mark.parametrize("member", MEMBERS, ids=lambda m: m.name)
def test_member_declares_what_it_imports_and_only_that(member: Member) -> None:
    declared = [requirement(text) for text in member.dependencies]
    available = set().union(*(provided(name, extras) for name, extras in declared))
    imported = imported_distributions(member)
    undeclared = sorted(imported - available)
    assert undeclared == [], f"imported but not declared: {undeclared}"
    runtime_only = set(RUNTIME_ONLY.get(member.name, {}))
    unused = sorted({name for name, _ in declared} - imported - runtime_only)
    assert unused == [], f"declared but never imported: {unused}"


@pytest.mark.parametrize("member", MEMBERS, ids=lambda m: m.name)
def test_one_namespace_package_without_an_init(member: Member) -> None:
    assert member.packages, f"{member.name} has no package under src/etawatch/"
    assert not (member.folder / "src" / "etawatch" / "__init__.py").exists()
    for package in member.packages:
        assert (package / "__init__.py").exists(), package
