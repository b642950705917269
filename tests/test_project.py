"""House rules that keep the project honest: CI runs the README's command, pages stay thin, no data."""

import ast
import re
import subprocess

from kmnist.ui.sketch_pad import vendor
from tests.conftest import ROOT


def readme_commands():
    return re.findall(r"```bash\n(.+?)\n```", (ROOT / "README.md").read_text(), re.S)


def test_the_readme_s_commands_run_in_the_environment_its_set_up_makes():
    """The set-up installs into .venv and activates nothing: a bare `python -m kmnist` finds no keras."""
    blocks = re.findall(r"```[a-z]*\n(.+?)\n```", (ROOT / "README.md").read_text(), re.S)
    bare = [line for block in blocks for line in block.splitlines()
            if re.search(r"(^|&& )python3? -m (kmnist|pytest|streamlit)", line)]
    assert not bare, bare


def test_ci_runs_the_readme_test_command_word_for_word():
    test_command = next(c for c in readme_commands() if "pytest" in c)
    assert test_command in (ROOT / ".ci" / "run").read_text()
    assert any("streamlit run app.py" in c for c in readme_commands())


def imported_packages(tree: ast.Module) -> set[str]:
    """The top-level packages a module imports, wherever in it (inside functions too)."""
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    return imported


def test_every_module_starts_with_a_docstring():
    for path in [ROOT / "app.py", *(ROOT / "kmnist").rglob("*.py"), *(ROOT / "pages").glob("*.py")]:
        assert ast.get_docstring(ast.parse(path.read_text())), f"{path} needs a one-line module docstring"


def test_only_kmnist_ui_imports_streamlit():
    ui = ROOT / "kmnist" / "ui"
    outside = [path for path in (ROOT / "kmnist").rglob("*.py") if ui not in path.parents]
    assert len(outside) > 15  # the whole package is checked, not an empty glob
    for path in outside:
        assert "streamlit" not in imported_packages(ast.parse(path.read_text())), \
            f"{path.relative_to(ROOT)} imports streamlit: move the Streamlit code into kmnist/ui/"
    assert "streamlit" in imported_packages(ast.parse((ui / "resources.py").read_text()))


def test_the_streamlit_import_check_catches_an_offender():
    offender = ast.parse("def f():\n    from streamlit.runtime import x\n")
    assert "streamlit" in imported_packages(offender)


def test_no_dataset_files_are_tracked():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    vendored = {f"kmnist/ui/sketch_pad/assets/{entry['file']}" for entry in vendor.manifest()["files"]}
    data_like = [f for f in tracked if re.search(r"\.(npz|npy|gz|ubyte)$", f) and f not in vendored]
    assert data_like == []


def test_the_project_ships_its_server_settings_and_the_browser_tests_use_them():
    import tomllib

    settings = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert settings["server"]["fileWatcherType"] == "none"  # .venv sits inside the project (README set-up)
    fixtures = (ROOT / "tests" / "browser" / "conftest.py").read_text()
    assert "fileWatcherType" not in fixtures and '"run", "app.py"' in fixtures


def test_the_layers_hold():
    """pages → kmnist.ui → the core, and the core's own order, as pyproject.toml declares (import-linter)."""
    linter = ROOT / ".venv" / "bin" / "lint-imports"
    command = [str(linter)] if linter.exists() else ["lint-imports"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_no_import_is_deferred_into_a_function_to_dodge_a_cycle():
    """Our own modules are imported at the top of a module: the layers make every cycle impossible, so
    no function needs to import kmnist late. The command line is the one exception, and not for cycles:
    it loads TensorFlow only for the commands that need it, so `--help` and bad arguments answer at once."""
    late = []
    commands = ROOT / "kmnist" / "commands"
    for path in [*(ROOT / "kmnist").rglob("*.py"), *(ROOT / "pages").glob("*.py")]:
        if commands in path.parents:
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for inner in ast.walk(node):
                    if isinstance(inner, ast.ImportFrom) and (inner.module or "").startswith("kmnist"):
                        late.append(f"{path.relative_to(ROOT)}:{inner.lineno} {inner.module}")
    assert not late, "imports of kmnist inside functions: " + ", ".join(late)


def test_no_module_or_page_is_over_400_lines():
    long = [f"{path.relative_to(ROOT)} ({n})" for path in [*(ROOT / "kmnist").rglob("*.py"),
                                                           *(ROOT / "pages").glob("*.py"), ROOT / "app.py"]
            if (n := len(path.read_text().splitlines())) > 400]
    assert not long, "split these by job: " + ", ".join(long)
