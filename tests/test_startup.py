"""Start-up: ``trainfree --help`` and ``trainfree metrics`` load neither torch nor pandas,
and the metric listing read from the source is the registry's."""

import json
import shutil
import subprocess
import sys

import pytest

from trainfree import metric_table

# runs the CLI in a fresh interpreter and prints the heavy modules it loaded
_PROBE = """
import json, sys
from trainfree.cli import main
try:
    main({argv!r})
except SystemExit:
    pass
heavy = ("torch", "pandas", "numpy", "snakemake", "scipy", "matplotlib")
print("LOADED " + json.dumps(sorted(m for m in heavy if m in sys.modules)))
"""


def _loaded(argv: list[str]) -> tuple[list[str], str]:
    r = subprocess.run([sys.executable, "-c", _PROBE.format(argv=argv)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    line = [ln for ln in r.stdout.splitlines() if ln.startswith("LOADED ")][-1]
    return json.loads(line[len("LOADED "):]), r.stdout


@pytest.mark.parametrize("argv", [["--help"], ["metrics"], ["metrics", "--format", "json"]])
def test_help_and_metrics_import_no_torch(argv):
    loaded, out = _loaded(argv)
    assert loaded == [], f"trainfree {' '.join(argv)} imported {loaded}"
    assert "timing" in out or "naswot" in out


def test_static_listing_is_the_registry():
    assert metric_table.static_rows() == metric_table.registry_rows()


def test_metrics_json_is_the_registry(capsys):
    from trainfree.cli import main
    from trainfree.metrics import get_metric, list_metrics

    assert main(["metrics", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["metric"] for r in rows] == list_metrics()
    for r in rows:
        m = get_metric(r["metric"])
        assert r["higher_is_better"] == m.higher_is_better
        assert r["passes"] == ",".join(m.passes)
        assert r["doc"] == m.doc.splitlines()[0]


def test_a_registration_it_cannot_read_falls_back_to_the_registry(tmp_path, monkeypatch):
    folder = tmp_path / "metrics"
    shutil.copytree(metric_table.METRICS_DIR, folder)
    with open(folder / "cost.py", "a") as f:  # a registration by call, not by a literal decorator
        f.write("\n\ndef _extra(ctx):\n    return 0.0\n\n\nregister_metric('extra_metric')(_extra)\n")
    monkeypatch.setattr(metric_table, "METRICS_DIR", folder)
    with pytest.raises(metric_table._NotStatic):
        metric_table.static_rows()
    assert metric_table.metric_rows() == metric_table.registry_rows()


def test_timing_registers_from_the_light_module():
    import argparse

    from trainfree import timing
    from trainfree.cli import timing as cli_timing

    ap = argparse.ArgumentParser()
    cli_timing.register(ap.add_subparsers())
    args = ap.parse_args(["timing", "--archs", "2"])
    assert args.func is not timing.handler and args.metrics == ",".join(timing.DEFAULT_SUITE)


def test_lazy_dataset_names_stay_in_the_import_closure(tmp_path):
    """``from trainfree.data import scoring_batch`` runs the dataset module: a rule's code hash
    must cover it although the package loads it on first use."""
    from trainfree.closure import closure

    script = tmp_path / "probe.py"
    script.write_text("from trainfree.data import scoring_batch\n")
    assert "trainfree/data/datasets.py" in closure(script)
