"""The benchmark's quick mode runs end to end and reports every figure (printed, not asserted)."""

import json
import subprocess
import sys

import pytest

from kmnist.bench import format_report
from tests.conftest import ROOT


@pytest.mark.real_data
def test_quick_benchmark_reports_all_six_figures(data_dir, tmp_path, capsys):
    out = tmp_path / "bench.json"
    result = subprocess.run([sys.executable, "-m", "kmnist", "bench", "--quick", "--data", str(data_dir),
                             "--json", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["quick"] is True
    for run in ("classic", "default"):
        assert 0.1 < report["comparison"][run]["accuracy"] <= 1
        assert report["comparison"][run]["seconds"] > 0
    assert report["overhead"]["ratio"] > 0 and report["latency"]["runs"] == 200
    assert report["loading"]["images"] == 70_000 and report["comparison"]["peak_memory_mb"] > 0
    assert format_report(report) in result.stdout
    with capsys.disabled():
        print("\n" + format_report(report))
