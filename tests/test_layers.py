"""The package's layers, read from the source: every import of every module (including imports
inside functions and importlib.import_module calls with a literal name), checked against

    theory -> {result, _generated} -> model -> {meanfield, finite_d} -> {plots, checks} -> api -> cli

(an arrow points from what is imported to what imports it). Only the CLI imports the symbolic
layer ``cfg_distortion.theory``, and the API (``cd.theory``, ``cd.equations``) does so only
inside functions; there are no import cycles between modules.
"""
import ast
from pathlib import Path

import pytest
from conftest import REPO

ROOTS = {"cfg_distortion": REPO / "numerics", "cfg_distortion.theory": REPO / "theory"}
# layer of cfg_distortion.<first component>; the package itself (__init__) is the API
LAYERS = {"theory": 0, "_generated": 1, "result": 1, "io": 1, "model": 2, "meanfield": 3, "finite_d": 3,
          "plots": 4, "checks": 4, "api": 5, "": 5, "cli": 6}


def modules() -> dict[str, Path]:
    out = {}
    for package, root in ROOTS.items():
        for path in root.rglob("*.py"):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            name = ".".join([package, *parts])
            if package == "cfg_distortion" and name.startswith("cfg_distortion.theory"):
                continue
            out[name] = path
    return out


MODULES = modules()


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    """Full names imported by a ``from X import a, b`` (a submodule when one exists)."""
    if node.level:
        base = module.split(".")
        base = base[: len(base) - node.level + (1 if is_package else 0)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    names = []
    for alias in node.names:
        full = f"{target}.{alias.name}"
        names.append(full if full in MODULES else target)
    return names


def imports(module: str) -> list[tuple[str, bool]]:
    """(imported module, at module level?) for every import in ``module`` inside this project."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(), str(path))
    top = set(id(n) for n in tree.body)
    for n in tree.body:  # module-level try/if blocks count as module level
        if isinstance(n, (ast.Try, ast.If)):
            top |= {id(x) for x in ast.walk(n)}
    out = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = _resolve(module, path.name == "__init__.py", node)
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "import_module" and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            names = [node.args[0].value]
        for name in names:
            if name.startswith("cfg_distortion"):
                while name not in MODULES and "." in name:
                    name = name.rsplit(".", 1)[0]
                out.append((name, id(node) in top))
    return out


def layer(module: str) -> int:
    if module.startswith("cfg_distortion.theory"):
        return LAYERS["theory"]
    first = module.split(".")[1] if "." in module else ""
    assert first in LAYERS, f"{module}: add cfg_distortion.{first} to LAYERS in tests/test_layers.py"
    return LAYERS[first]


@pytest.fixture(scope="module")
def edges():
    """{module: imports(module)} (parsed once per run, by the worker that runs these tests, not at collection)."""
    return {m: imports(m) for m in MODULES}


def test_the_walk_sees_the_known_imports(edges):
    """Guards the walker itself: a module-level, a function-level and a relative import."""
    assert ("cfg_distortion.meanfield.flow", True) in edges["cfg_distortion.meanfield.dmf"]
    assert ("cfg_distortion.theory.equations", False) in edges["cfg_distortion.cli.equations"]
    assert ("cfg_distortion.theory.symbols", True) in edges["cfg_distortion.theory.process"]


def test_no_back_edges(edges):
    bad = [f"{m} imports {dep}" for m, deps in edges.items() for dep, _ in deps
           if layer(dep) > layer(m)]
    assert not bad, "imports against the layer order:\n" + "\n".join(sorted(set(bad)))


def test_only_the_cli_imports_theory_at_run_time(edges):
    bad = []
    for m, deps in edges.items():
        if m.startswith("cfg_distortion.theory") or m.startswith("cfg_distortion.cli"):
            continue
        for dep, at_top in deps:
            if dep.startswith("cfg_distortion.theory"):
                lazy_api = m in ("cfg_distortion", "cfg_distortion.api") and not at_top
                if not lazy_api:
                    bad.append(f"{m} imports {dep}" + (" at module level" if at_top else ""))
    assert not bad, "\n".join(sorted(set(bad)))


def test_no_import_cycles(edges):
    graph = {m: {d for d, _ in deps if d != m} for m, deps in edges.items()}
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def strongconnect(v):  # Tarjan
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in graph:
        if v not in index:
            strongconnect(v)
    assert not cycles, f"import cycles: {cycles}"


@pytest.mark.parametrize("package", ["model", "meanfield", "finite_d", "plots", "checks", "cli"])
def test_subpackages_by_role_exist(package):
    assert f"cfg_distortion.{package}" in MODULES
    assert (REPO / "numerics" / package / "__init__.py").read_text().strip()


def _text_files():
    for base in ("numerics", "theory", "tests", "derivations", "docs", "benchmarks", ".ci"):
        root = (REPO / base).resolve()
        for path in sorted((REPO / base).rglob("*")):
            if (path.suffix in (".py", ".md", ".txt", ".toml", ".cfg", "") and path.is_file()
                    and path.resolve().is_relative_to(root)):
                yield path
    for name in ("README.md", "CHANGELOG.md", "pyproject.toml"):
        yield REPO / name


def test_no_reference_to_files_outside_the_repository():
    """The repository stands alone: no theory note or shared folder outside it is cited."""
    needles = ("THEORY" + ".md", "../" + "shared", "/work/" + "shared", "shared" + "/seed")
    bad = [f"{p.relative_to(REPO)}: {n}" for p in _text_files() for n in needles if n in p.read_text(errors="replace")]
    assert not bad, "\n".join(bad)


def test_the_theory_note_exists_and_is_cited():
    note = REPO / "docs" / "theory.md"
    text = note.read_text()
    for section in ("## Model", "## Notation", "## Derivation path", "## Claims and what backs each"):
        assert section in text, section
    citing = [REPO / "README.md", REPO / "numerics" / "__init__.py", REPO / "theory" / "__init__.py",
              REPO / "theory" / "symbols.py", *(REPO / "derivations").glob("*.md"),
              *(REPO / "numerics" / p / "__init__.py" for p in ("model", "meanfield", "finite_d", "plots", "checks",
                                                              "cli"))]
    assert [p.name for p in citing if "docs/theory.md" not in p.read_text()] == []
    # every test the note names exists
    import re

    for path, name in re.findall(r"`(tests/test_\w+\.py)::(test_\w+)", text):
        assert f"def {name}(" in (REPO / path).read_text(), f"{path}::{name}"


def test_no_generated_function_is_looked_up_by_a_built_name():
    """Callers use the generated lookup tables (DRIFTS, KAPPA_DRIFTS, CAPTURE_DRIFTS, ...), never
    getattr of a name assembled from strings, which a renamed generated function would break at run time."""
    built = []
    for name, path in MODULES.items():
        if name.endswith("_generated"):
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"
                    and len(node.args) >= 2 and isinstance(node.args[1], ast.JoinedStr)
                    and isinstance(node.args[0], ast.Name) and node.args[0].id in ("G", "_generated")):
                built.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert built == []

