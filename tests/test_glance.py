"""The results-at-a-glance table: rows built from hand-made final tables, and the README copy."""

import subprocess
import sys

import pandas as pd
from conftest import ROOT

from trainfree.analysis.glance import glance, to_markdown
from trainfree.workflow_config import default_run_studies


def _write(tmp_path, name, rows):
    p = tmp_path / f"{name}.csv"
    pd.DataFrame(rows).to_csv(p, index=False)
    return p


def test_rows_from_tables(tmp_path):
    pvo = _write(tmp_path, "pvo", [
        {"metric": "naswot", "ground_truth": "cifar10-valid test acc @200ep (seed mean)", "n": 250, "n_nan": 1,
         "ours_kendall": 0.5612, "ours_lo": 0.51, "ours_hi": 0.60, "ours_kendall_nan_last": 0.57,
         "paper_kendall": 0.574, "paper_source": "NASWOT", "difference": -0.004},
        {"metric": "activation_units", "ground_truth": "cifar10-valid test acc @200ep (seed mean)", "n": 250,
         "n_nan": 0, "ours_kendall": 0.4, "ours_lo": 0.3, "ours_hi": 0.5, "ours_kendall_nan_last": 0.4,
         "paper_kendall": None, "paper_source": "not published", "difference": None}])
    abl = _write(tmp_path, "abl", [
        {"rule": "naswot (WOT)", "param": None, "kendall": 0.55, "ratio_vs_wot": 1.0, "n": 125, "ground_truth": "g",
         "delta_vs_wot": None, "delta_lo": None, "delta_hi": None},
        {"rule": "das_linear", "param": 1.1, "kendall": 0.56, "ratio_vs_wot": 1.018, "n": 125, "ground_truth": "g",
         "delta_vs_wot": 0.01, "delta_lo": -0.02, "delta_hi": 0.04},
        {"rule": "das_rank", "param": 1.0, "kendall": 0.54, "ratio_vs_wot": 0.98, "n": 125, "ground_truth": "g",
         "delta_vs_wot": -0.01, "delta_lo": -0.03, "delta_hi": 0.01}])
    bon = _write(tmp_path, "bon", [
        {"scores": "published", "metric": "nwot", "n": 100, "n_drawn": 100, "n_pool": 9445, "dataset": "cifar10",
         "ours": "92.80 ± 0.90", "naswot_published": 92.81},
        {"scores": "ours", "metric": "naswot", "n": 10, "n_drawn": 10, "n_pool": 100, "dataset": "cifar10",
         "ours": "91.00 ± 1.00", "naswot_published": None},
        {"scores": "ours", "metric": "naswot", "n": 100, "n_drawn": 60, "n_pool": 60, "dataset": "cifar10",
         "ours": "92.16 ± 0.00", "naswot_published": None}])
    t = glance({"paper_vs_ours": pvo, "das_ablation": abl, "search_best_of_n": bon,
                "fast_training": tmp_path / "missing.csv"},
               {"paper_vs_ours": "default_nb201", "das_ablation": "default_nb201", "search_best_of_n": "s"})
    # one NASWOT row (the atom has no published tau), the best rule, one search row (N = 100 capped
    # at a pool of 60 draws every arch: the report gives it no published number)
    assert len(t) == 3
    r = t.iloc[0]
    assert r.published.startswith("0.574") and r.ours == "+0.561 [+0.510, +0.600]" and r.n == 250
    assert r.study == "default_nb201"
    assert t.iloc[1].claim.startswith("DAS rule vs WOT, held-out half (das_linear")
    assert t.iloc[1].ours == "1.02×, Δτ +0.010 [-0.020, +0.040]"
    assert t.iloc[2].published == "92.81 (NASWOT)" and t.iloc[2].ours == "92.80 ± 0.90" and t.iloc[2].n == 9445
    md = to_markdown(t)
    assert md.splitlines()[0] == "| claim | published | ours | n | ground truth | study |"
    assert md.count("\n") == len(t) + 2


def test_readme_tool_writes_and_checks(tmp_path):
    (tmp_path / "default_run").mkdir()
    (tmp_path / "default_run" / "glance.md").write_text("| a |\n|---|\n| 1 |\n")
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- glance -->\nold\n<!-- /glance -->\nend\n")
    tool = [sys.executable, str(ROOT / "tools" / "readme_glance.py"), "--results", str(tmp_path),
            "--readme", str(readme)]
    assert subprocess.run([*tool, "--check"], capture_output=True).returncode == 1
    assert subprocess.run(tool, capture_output=True).returncode == 0
    assert readme.read_text() == "intro\n<!-- glance -->\n| a |\n|---|\n| 1 |\n<!-- /glance -->\nend\n"
    assert subprocess.run([*tool, "--check"], capture_output=True).returncode == 0


def test_default_run_studies_and_choices(tmp_path):
    import pytest

    from trainfree.errors import TrainfreeError

    cfg = ROOT / "config" / "config.yaml"
    everything = default_run_studies(cfg)
    assert everything == ("nb201", "fast", "search", "hnas", "dtb", "darts_search")
    assert all((ROOT / "config" / "default" / f"{s}.yaml").is_file() for s in everything)
    assert default_run_studies(cfg, "[nb201, search]") == ("nb201", "search")
    assert default_run_studies(cfg, ["dtb"]) == ("dtb",)
    with pytest.raises(TrainfreeError, match="choose among nb201, fast"):
        default_run_studies(cfg, ["nb999"])


def test_readme_table_is_what_the_code_renders_from_the_default_run():
    """README's results at a glance = the glance the current code renders from the default run's
    final tables (snapshot of the measured run in tests/expected/default_run/, refreshed with
    `python tools/readme_glance.py --snapshot` after a run)."""
    import json

    from trainfree.analysis.glance import GLANCE_TABLES

    snap = ROOT / "tests" / "expected" / "default_run"
    studies = json.loads((snap / "studies.json").read_text())
    assert set(studies) == set(GLANCE_TABLES)
    table = glance({t: snap / f"{t}.csv" for t in GLANCE_TABLES}, studies)
    readme = (ROOT / "README.md").read_text()
    block = readme.split("<!-- glance -->", 1)[1].split("<!-- /glance -->", 1)[0]
    assert block.strip() == to_markdown(table).strip()
    # the numbers the README quotes beside the papers' are there
    naswot = table[table.claim == "NASWOT Kendall τ, NB201"]
    assert list(naswot.published.str[:5]) == ["0.574", "0.611", "0.549"]


def test_readme_score_model_example_runs_and_prints_what_the_readme_says():
    import re

    text = (ROOT / "README.md").read_text()
    section = text.split("## Score your own model", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    printed = r.stdout.splitlines()
    assert printed[1] == "False"
    quoted = re.search(r"prints `(\{.*?\})`", section)[1]
    for name, value in re.findall(r"'(\w+)': ([0-9.]+)", quoted):
        ours = re.search(rf"'{name}': ([0-9.e+-]+)", printed[0])[1]
        assert ours.startswith(value), (name, ours, value)
