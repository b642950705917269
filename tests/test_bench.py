"""The benchmark's quick mode runs end to end and reports every figure, each in a plausible range."""

import json
import subprocess
import sys

import pytest

from kmnist.commands.bench import QUICK, format_report
from kmnist.network.recipes import QUICK_RUN
from tests.conftest import ROOT


def check_plausible(report: dict) -> None:
    """Every figure is present and in a range a working benchmark can give (not the goals: those are
    for the benchmark to print; these catch a part that silently measured nothing or nonsense)."""
    plan = QUICK
    comparison = report["comparison"]
    for run, epochs in (("classic", plan.classic_epochs), ("default", plan.default_epochs),
                        ("filed", plan.default_epochs), ("quick", QUICK_RUN["epochs"])):
        figures = comparison[run]
        assert 0.3 < figures["accuracy"] <= 1, f"{run}: 10 classes, a few epochs: well above chance"
        assert 0.5 < figures["macro_auc"] <= 1
        assert 1 <= figures["epochs"] <= epochs
        assert 0.5 < figures["seconds"] < 900
        assert 50 < figures["images_per_second"] < 1_000_000
        assert list(figures["time_to"]) == ["90%", "95%"]
        reached = [s for s in figures["time_to"].values() if s is not None]
        assert all(0 < s <= figures["seconds"] for s in reached) and reached == sorted(reached)
    assert 100 < comparison["peak_memory_mb"] < 24_000  # TensorFlow alone takes a few hundred MB
    overhead = report["overhead"]
    assert 0 < overhead["bare_seconds"] < 300 and 0 < overhead["streamed_seconds"] < 300
    assert len(overhead["ratios"]) == plan.overhead_repeats
    assert overhead["ratio"] == pytest.approx(sorted(overhead["ratios"])[len(overhead["ratios"]) // 2])
    assert 0.2 < overhead["ratio"] < 5
    latency = report["latency"]
    assert latency["runs"] == plan.latency_runs and 0 < latency["p50_ms"] <= latency["p95_ms"] < 2_000
    loading = report["loading"]
    assert loading["images"] == sum(plan.loading_sizes) == 70_000 and 0 < loading["seconds"] < 60
    assert "CPU cores" in report["machine"] and "official" in report["data"].lower()
    assert 0 < report["bench_seconds"] < 900


def test_the_plausibility_check_rejects_a_benchmark_that_measured_nothing():
    report = {"comparison": {run: {"accuracy": 0.1, "macro_auc": 0.5, "epochs": 1, "seconds": 0.0,
                                   "images_per_second": 0.0, "time_to": {"90%": None, "95%": None}}
                             for run in ("classic", "default", "filed", "quick")}}
    with pytest.raises(AssertionError):
        check_plausible(report | {"comparison": report["comparison"] | {"peak_memory_mb": 0}})


@pytest.mark.real_data
def test_quick_benchmark_reports_all_six_figures(data_dir, tmp_path, capsys):
    out = tmp_path / "bench.json"
    result = subprocess.run([sys.executable, "-m", "kmnist", "bench", "--quick", "--data", str(data_dir),
                             "--json", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["quick"] is True
    check_plausible(report)
    assert format_report(report) in result.stdout
    # the default's time goal is stated against the default it replaced, trained in the same run
    runs = report["comparison"]
    ratio = runs["default"]["seconds"] / runs["filed"]["seconds"]
    assert f"that one: {ratio:.2f}x it" in format_report(report)
    with capsys.disabled():
        print("\n" + format_report(report))
