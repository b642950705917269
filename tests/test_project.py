"""House rules that keep the project honest: CI runs the README's command, pages stay thin, no data."""

import ast
import re
import subprocess

from tests.conftest import ROOT


def readme_commands():
    return re.findall(r"```bash\n(.+?)\n```", (ROOT / "README.md").read_text(), re.S)


def test_ci_runs_the_readme_test_command_word_for_word():
    test_command = next(c for c in readme_commands() if "pytest" in c)
    assert test_command in (ROOT / ".ci" / "run").read_text()
    assert any("streamlit run app.py" in c for c in readme_commands())


def test_every_module_starts_with_a_docstring_and_kmnist_never_imports_streamlit():
    for path in [ROOT / "app.py", *(ROOT / "kmnist").glob("*.py"), *(ROOT / "pages").glob("*.py")]:
        tree = ast.parse(path.read_text())
        assert ast.get_docstring(tree), f"{path.name} needs a one-line module docstring"
        if path.parent.name == "kmnist" and path.name != "ui.py":
            imported = set()
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    imported |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom):
                    imported.add((node.module or "").split(".")[0])
            assert "streamlit" not in imported, f"kmnist/{path.name} must not import streamlit"


def test_no_dataset_files_are_tracked():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    data_like = [f for f in tracked if re.search(r"\.(npz|npy|gz|ubyte)$", f)]
    assert data_like == []
