"""The layout of ``core/`` as a contract: one package per step of the PoC journey, imports that
run one way (a step uses the steps before it and the shared ground, never a later step), a
warehouse that imports no step, and no Streamlit anywhere in ``core``.

Imports are read from the source with ``ast``, including the ones inside functions (a lazy
import is still a dependency)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "core"

# The journey, in order; shared ground is below every step.
STEPS = ("data", "planning", "forecast", "backtest", "money", "handoff", "pilot", "decision", "reports")
SHARED = ("warehouse", "columns", "errors", "fmt", "periods", "text", "plotting", "i18n", "jobs", "paper")
# The one import allowed to run up: ``fmt.model_name`` looks a model's name up in the registry
# (lazily, so importing ``fmt`` stays cheap); the names belong to the forecasters themselves.
ALLOWED_UPWARD = {("core.fmt", "core.forecast.registry")}


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every ``core…`` module ``path`` imports, with ``from core.x import y`` read as ``core.x.y``
    when ``y`` is a module."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                if (ROOT / Path(*candidate.split("."))).with_suffix(".py").exists() \
                        or (ROOT / Path(*candidate.split("."))).is_dir():
                    found.add(candidate)
    return found


def _layer(module: str) -> int:
    """0 for shared ground, 1… for the steps in journey order."""
    top = module.split(".")[1] if module.count(".") else ""
    if top in SHARED or module == "core":
        return 0
    return STEPS.index(top) + 1


MODULES = sorted(CORE.rglob("*.py"))


def test_core_is_one_package_per_step_and_a_small_shared_ground():
    packages = {p.name for p in CORE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages == set(STEPS) | {"warehouse", "i18n", "jobs", "paper"}
    top_modules = {p.stem for p in CORE.glob("*.py")} - {"__init__"}
    assert top_modules == set(SHARED) - {"warehouse", "i18n", "jobs", "paper"}
    for step in STEPS:
        assert (CORE / step / "__init__.py").read_text(encoding="utf-8").startswith('"""'), step


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_run_down_the_journey(path):
    module = _module(path)
    upward = sorted(
        target for target in _imports(path)
        if target.startswith("core.") and _layer(target) > _layer(module)
        and (module, target) not in ALLOWED_UPWARD
    )
    assert not upward, f"{module} imports later steps: {upward}"


def test_the_warehouse_imports_no_step():
    for path in sorted((CORE / "warehouse").glob("*.py")):
        steps = sorted(t for t in _imports(path) if t.startswith("core.") and _layer(t) > 0)
        assert not steps, f"{_module(path)} imports {steps}"


def test_core_never_imports_streamlit():
    for path in MODULES:
        assert not any(t == "streamlit" or t.startswith("streamlit.") for t in _imports(path)), path


def test_the_check_sees_an_upward_import(tmp_path):
    """The check itself can fail: a warehouse module that imports the decision step is caught."""
    fake = tmp_path / "core" / "warehouse" / "bad.py"
    fake.parent.mkdir(parents=True)
    fake.write_text("def f():\n    from core.decision.verdict import Decision\n", encoding="utf-8")
    assert "core.decision.verdict" in _imports(fake)
    assert _layer("core.decision.verdict") > _layer("core.warehouse.bad")
