"""The project's layout rules, checked on the source (issue 11; STYLE.md section 9 "Where knowledge lives"):

- task facts live on the registry rows of data/tasks.py: no code elsewhere compares a value with a task's name;
- `common/` is the bottom floor and imports no other part of the project; `xlmr/` imports only `common/` (the model
  knows no task); `retrieval.py` does not import `evaluate.py`; `bench/` does not import `tests/`;
- the entry points import libraries, not each other's helpers (train.py may call evaluate.predict / evaluate_langs).
- `study.py` imports no `xlmr` (run-folder facts come from runs.py); runs.py imports no entry point.

    python -m pytest -q tests/test_layout.py
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from data.tasks import TASKS

ROOT = Path(__file__).resolve().parents[1]
PROJECT = {"common", "config", "data", "xlmr", "evaluate", "retrieval", "train", "correlate", "analysis", "study", "runs",
           "tests", "bench"}


def sources(*parts: str) -> list[Path]:
    """The .py files under ROOT/part (a folder) or ROOT/part.py."""
    out = []
    for part in parts:
        path = ROOT / part
        out += sorted(path.rglob("*.py")) if path.is_dir() else [path.with_suffix(".py")]
    return [p for p in out if p.is_file()]


def imported_modules(path: Path) -> set[str]:
    """Top-level names of every module `path` imports, at any depth (function-level imports included)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def task_name_comparisons(path: Path, names: set[str]) -> list[str]:
    """`x == "xnli"`, `x != "ccg"`, `x in ("tatoeba", ...)`: every comparison with a task's name, as file:line."""
    hits = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Compare):
            continue
        for operand in (node.left, *node.comparators):
            literals = operand.elts if isinstance(operand, (ast.Tuple, ast.List, ast.Set)) else [operand]
            if any(isinstance(c, ast.Constant) and c.value in names for c in literals):
                hits.append(f"{path.relative_to(ROOT)}:{node.lineno}")
                break
    return hits


def project_files() -> list[Path]:
    return sources(*sorted(PROJECT - {"tests"}))


@pytest.mark.slow
def test_no_code_outside_the_registry_branches_on_a_task_name():
    hits = [h for p in project_files() for h in task_name_comparisons(p, set(TASKS))]
    assert hits == [], f"task facts belong on the registry rows of data/tasks.py; found comparisons at {hits}"


def test_the_task_name_check_sees_a_branch():  # the check above can fail
    probe = ROOT / "tests" / "fixtures" / "layout_probe.py"
    assert task_name_comparisons(probe, set(TASKS)) == ["tests/fixtures/layout_probe.py:4",
                                                        "tests/fixtures/layout_probe.py:6"]


@pytest.mark.parametrize("package,allowed", [
    ("common", set()),
    ("xlmr", {"common"}),
])
def test_lower_floors_import_nothing_above_them(package, allowed):
    for path in sources(package):
        above = (imported_modules(path) & PROJECT) - allowed - {package}
        assert not above, f"{path.relative_to(ROOT)} imports {sorted(above)}; {package}/ may import only {allowed}"


@pytest.mark.parametrize("entry,forbidden", [
    ("retrieval", {"evaluate", "train", "correlate", "study"}),
    ("evaluate", {"retrieval", "train", "correlate", "study"}),
    ("train", {"retrieval", "correlate", "study"}),  # train.py calls evaluate.predict: training evaluates
    ("correlate", {"evaluate", "retrieval", "train", "study", "xlmr"}),
    ("study", {"evaluate", "retrieval", "train", "correlate"}),
])
def test_entry_points_import_libraries_not_each_other(entry, forbidden):
    for path in sources(entry):
        assert not imported_modules(path) & forbidden, f"{path.name} imports {imported_modules(path) & forbidden}"


def test_study_py_imports_no_xlmr_at_the_top():
    """Run-folder facts come from runs.py, so importing study.py loads no encoder package (tests/test_runs.py checks
    that it loads no torch). The one exception, inside functions: the GPU-memory plan reads model sizes through
    xlmr.memory (XLMRConfig); moving that below xlmr/ is left open (issue 19 item 4 asks for no xlmr at all)."""
    tree = ast.parse((ROOT / "study.py").read_text(encoding="utf-8"))
    top = {a.name.split(".")[0] for n in tree.body if isinstance(n, ast.Import) for a in n.names}
    top |= {n.module.split(".")[0] for n in tree.body if isinstance(n, ast.ImportFrom) and n.module}
    assert "xlmr" not in top
    inner = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module
             and n.module.startswith("xlmr")}
    assert inner <= {"xlmr.memory", "xlmr.model"}, f"study.py imports {sorted(inner)} of xlmr/"


def test_runs_py_imports_no_entry_point_and_only_lower_floors():
    imported = imported_modules(ROOT / "runs.py") & PROJECT
    assert not imported & ENTRY_POINTS, f"runs.py imports the entry point(s) {sorted(imported & ENTRY_POINTS)}"
    # xlmr only inside load_training_state (its guarded unpickler); study.py imports runs.py without torch
    assert imported <= {"common", "xlmr"}, f"runs.py imports {sorted(imported)}"


def test_benchmarks_do_not_import_the_tests():
    for path in sources("bench"):
        assert "tests" not in imported_modules(path), f"{path.relative_to(ROOT)} imports tests/"


def package_imports(package: str) -> dict[str, set[str]]:
    """module -> the modules of `package` it imports (at any depth, `from package import mod` included)."""
    mods = {p.stem: p for p in sources(package) if p.stem != "__init__"}
    graph = {}
    for name, path in mods.items():
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                deps |= {a.name.split(".")[1] for a in node.names if a.name.startswith(package + ".")}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                if node.module == package:
                    deps |= {a.name for a in node.names if a.name in mods}
                elif node.module.startswith(package + "."):
                    deps.add(node.module.split(".")[1])
        graph[name] = deps & set(mods)
    return graph


def import_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One cycle of the graph as [a, b, ..., a], or [] when it has none (depth-first search)."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = "done"
        return []

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return []


def test_analysis_has_no_import_cycle():
    cycle = import_cycle(package_imports("analysis"))
    assert cycle == [], f"analysis/ imports in a cycle: {' -> '.join(cycle)} (shared facts go in analysis/design.py)"


def test_the_cycle_check_sees_a_cycle():  # the check above can fail
    assert import_cycle({"run": {"report", "design"}, "report": {"design", "run"}, "design": set()}) == \
        ["report", "run", "report"]
    assert import_cycle({"run": {"report"}, "report": {"design"}, "design": set()}) == []


ENTRY_POINTS = {"train", "evaluate", "retrieval", "correlate", "study"}


@pytest.mark.slow
def test_data_imports_neither_config_nor_an_entry_point_nor_torch_at_the_top():
    for path in sources("data"):
        bad = imported_modules(path) & (ENTRY_POINTS | {"config", "analysis", "xlmr"})
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}; data/ sits below config.py and the entry points"
    for module in ("data.check", "data.download", "data.tasks", "data.languages"):  # fast command lines
        import subprocess
        import sys
        code = f"import sys, {module}; print('torch' in sys.modules)"
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert out.stdout.strip() == "False", f"importing {module} imports torch{out.stderr[-500:]}"


# Tables keyed by language that hold a task's or a format's facts, not the language's: MLQA's official per-language
# normalisation (its metric), XTREME's converter's POS precedence (its format), the checksums of XQuAD's files.
NOT_LANGUAGE_FACTS = {"_MLQA_ARTICLES", "POS_PRECEDENCE", "SHA256"}


@pytest.mark.slow
def test_the_language_facts_have_one_home():
    """No per-language table outside data/languages.tsv: a dict literal keyed by two or more language tags in project
    code is a second home of a language fact (NOT_LANGUAGE_FACTS names the exceptions and why)."""
    from data.languages import languages

    tags = set(languages())
    hits = []
    for path in project_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Assign) or not isinstance(node.value, ast.Dict):
                continue
            names = {t.id for t in node.targets if isinstance(t, ast.Name)}
            keys = [k.value for k in node.value.keys if isinstance(k, ast.Constant)]
            if sum(k in tags for k in keys) >= 2 and not names & NOT_LANGUAGE_FACTS:
                hits.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert hits == [], f"per-language facts belong in data/languages.tsv; found tables at {hits}"


def test_the_language_table_check_sees_a_table(tmp_path, monkeypatch):  # the check above can fail
    probe = tmp_path / "probe.py"
    probe.write_text('SCRIPTS = {"de": "Latn", "ru": "Cyrl"}\n', encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "project_files", lambda: [probe])
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    with pytest.raises(AssertionError, match="probe.py:1"):
        test_the_language_facts_have_one_home()


def test_the_readme_layout_table_names_every_part_and_only_parts_that_exist():
    import re
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text[text.index("| part | what |"):text.index("\n\n", text.index("| part | what |"))]
    named = set()
    for line in table.splitlines()[2:]:
        for token in re.findall(r"`([^`]+)`", line.split("|")[1]):
            named.add(token.split()[0].rstrip("/").removesuffix(".py"))
    on_disk = {p.stem for p in ROOT.glob("*.py")} | {p.name for p in ROOT.iterdir()
                                                      if p.is_dir() and (p / "__init__.py").exists() and p.name != "tests"}
    assert on_disk <= named, f"parts missing from the README's layout table: {sorted(on_disk - named)}"
    assert named - {"configs"} <= on_disk, f"the README's layout table names parts that do not exist: {sorted(named - on_disk - {'configs'})}"
