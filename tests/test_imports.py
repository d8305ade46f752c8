"""Imports are at the top of a module; one inside a function says why on its line
(``# lazy: ...``: an optional or heavy dependency, or a process that has it), so the
import graph the tools draw is the real one. The CLI is the one exception: its
docstring says why each command imports its own modules."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "runner" / "sipscen"
EXEMPT = {PACKAGE / "cli.py"}


def function_level_imports(path: Path):
    lines = path.read_text().split("\n")
    seen = set()
    for node in ast.walk(ast.parse("\n".join(lines))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for sub in ast.walk(node):
                if isinstance(sub, (ast.Import, ast.ImportFrom)) and sub.lineno not in seen:
                    seen.add(sub.lineno)
                    yield sub.lineno, lines[sub.lineno - 1]


def test_every_import_inside_a_function_says_why():
    unexplained = [f"{path.relative_to(PACKAGE.parent)}:{n}: {line.strip()}"
                   for path in sorted(PACKAGE.rglob("*.py")) if path not in EXEMPT
                   for n, line in function_level_imports(path)
                   if "# lazy:" not in line and "# optional" not in line
                   and "# a dependency" not in line]
    assert unexplained == [], "\n".join(unexplained)


def test_the_rule_sees_an_unexplained_one(tmp_path):
    """Negative control: the scan finds an import inside a function without a note."""
    sample = tmp_path / "m.py"
    sample.write_text("def f():\n    import json\n    return json\n\n"
                      "def g():\n    import numpy  # lazy: heavy\n")
    assert [n for n, line in function_level_imports(sample) if "# lazy:" not in line] == [2]


HEAVY = ("jsonschema", "sipscen.scenario", "sipscen.engine.runner", "sipscen.scaffold.build", "rich")
LOADED = ("import sys, {module}; print(' '.join(sorted(m for m in sys.modules "
          "if m.startswith({heavy!r}))))")


def _loaded_by(module: str) -> str:
    code = LOADED.format(module=module, heavy=HEAVY)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env={"PYTHONPATH": str(PACKAGE.parent)}).stdout.strip()


def test_the_cli_starts_without_the_scenario_validator():
    """Every command's parser is declared at each start: `sipscen analyze` must not pay
    for the scenario builder and jsonschema (0.15 CPU s of a 1.3 s analysis), nor for
    rich before something is printed through it (0.03 s)."""
    assert _loaded_by("sipscen.cli") == ""


def test_the_scaffold_command_does_load_them():
    """Negative control: the module the CLI no longer imports at start does."""
    assert "jsonschema" in _loaded_by("sipscen.scaffold.command").split()
