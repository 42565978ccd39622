"""The code passes the project's lint rules (ruff.toml)."""

from __future__ import annotations

import ast
import subprocess
import sys

from conftest import ROOT


def test_ruff_finds_nothing():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "dashboard", "pages", "tests",
                             "data", "benchmarks"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# Issue 13's structure rules: modules small enough to read, each one placed in the design.
MODULES = sorted(p for p in (ROOT / "dashboard").rglob("*.py") if p.name != "__init__.py")


def test_no_module_is_over_400_lines():
    long = {str(p.relative_to(ROOT)): n for p in MODULES
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400}
    assert long == {}


def test_docs_architecture_names_every_module_in_its_package():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = []
    for path in MODULES:
        package = path.parent.relative_to(ROOT / "dashboard").as_posix()
        named = (f"`{path.name}`", f"`{path.stem}`", f"{package}/{path.name}",
                 f"{package}/{path.stem}")
        if not any(name in text for name in named):
            missing.append(str(path.relative_to(ROOT)))
    assert missing == []


def test_every_icon_given_to_streamlit_is_a_material_one():
    # An emoji icon ("⚠️") makes Streamlit import its emoji catalogue to check it: 70-85 ms of
    # CPU the first time a process draws such a page (Outcomes' first draw went past its
    # bare queries plus 300 ms for it), where a Material icon's name is checked in 2 ms.
    other_icons = []
    for path in sorted([*(ROOT / "pages").glob("*.py"), *(ROOT / "dashboard").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                other_icons += [f"{path.relative_to(ROOT)}:{node.lineno} {word.value.value!r}"
                                for word in node.keywords
                                if word.arg in ("icon", "page_icon", "avatar")
                                and isinstance(word.value, ast.Constant)
                                and isinstance(word.value.value, str)
                                and not word.value.value.startswith(":material/")]
    assert other_icons == []
