"""Code hashes from the import closure (``trainfree.closure``): each rule's ``params.code`` is
the hash of its script and every package module the script imports, directly or not.

Unit tests on the closure itself, then a finished tiny study (the study and a two-arch DTB,
one run shared by the module) in a package copy (``PYTHONPATH``): a comment appended to a
module some rules import plans those rules in ``snakemake -n``; one appended to a module no
rule imports plans nothing.
"""

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, run_snakemake

from trainfree.closure import closure, code_hash

SCRIPTS = ROOT / "workflow" / "scripts"


# ---------------------------------------------------------------- the closure


def test_analysis_script_closure_includes_the_module_of_wide_scores():
    mods = closure(SCRIPTS / "correlations.py")
    # defined with the data contracts, re-exported by analysis.tidy
    assert {"trainfree/contracts.py", "trainfree/analysis/tidy.py", "trainfree/pipeline/analysis.py"} <= set(mods)
    # parent packages run on import
    assert {"trainfree/__init__.py", "trainfree/analysis/__init__.py"} <= set(mods)


def test_dtb_train_script_closure_includes_seeding():
    assert "trainfree/seeding.py" in closure(SCRIPTS / "dtb_train.py")


def test_ground_truth_closure_includes_the_spaces():
    assert "trainfree/spaces/nb201.py" in closure(SCRIPTS / "ground_truth.py")


def test_dynamic_imports_of_metric_families_are_followed():
    # the registry loads its families with importlib.import_module(f"trainfree.metrics.{family}")
    mods = closure(SCRIPTS / "score_shard.py")
    assert {"trainfree/metrics/activation.py", "trainfree/metrics/zico.py"} <= set(mods)


def test_function_level_and_submodule_imports_are_followed(tmp_path):
    script = tmp_path / "probe.py"
    script.write_text("import os\n\n\ndef f():\n    from trainfree import seeding\n    return seeding\n")
    assert closure(script) == ["trainfree/__init__.py", "trainfree/errors.py", "trainfree/seeding.py"]
    other = tmp_path / "other.py"  # (closures are cached per file and process)
    other.write_text("import numpy\n")
    assert closure(other) == []


def test_module_names_and_files_give_the_same_closure():
    by_name = closure("trainfree.analysis.suitezero")
    assert by_name == closure(ROOT / "src" / "trainfree" / "analysis" / "suitezero.py")
    assert "trainfree/analysis/suitezero.py" in by_name and "trainfree/metrics/activation.py" in by_name
    with pytest.raises(ValueError):
        closure("trainfree.no_such_module")


def _copy_package(root: Path) -> Path:
    pkg = root / "pkg"
    shutil.copytree(ROOT / "src" / "trainfree", pkg / "trainfree", ignore=shutil.ignore_patterns("__pycache__"))
    return pkg


def _in_copy(pkg: Path, code: str) -> str:
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "PYTHONPATH": str(pkg)})
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_relative_imports_and_hash_in_a_package_copy(tmp_path):
    """Relative imports inside the package are followed; the hash moves with a module of the
    closure and not with another one; computing it imports no torch."""
    pkg = _copy_package(tmp_path)
    (pkg / "trainfree" / "analysis" / "probe.py").write_text(
        "def f():\n    from . import tidy\n    from ..seeding import derive_seed\n    return tidy, derive_seed\n")
    probe = ("import sys; from trainfree.closure import closure, code_hash; "
             "print(closure('trainfree.analysis.probe')); print(code_hash('trainfree.analysis.probe')); "
             "print('torch' in sys.modules)")
    mods, before, torch_loaded = _in_copy(pkg, probe).splitlines()
    assert "'trainfree/analysis/tidy.py'" in mods and "'trainfree/seeding.py'" in mods
    assert torch_loaded == "False"
    with open(pkg / "trainfree" / "timing.py", "a") as f:
        f.write("\n# changed\n")
    assert _in_copy(pkg, probe).splitlines()[1] == before
    with open(pkg / "trainfree" / "analysis" / "tidy.py", "a") as f:
        f.write("\n# changed\n")
    assert _in_copy(pkg, probe).splitlines()[1] != before


def test_script_hash_covers_the_script_itself(tmp_path):
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    a.write_text("from trainfree import seeding\n")
    b.write_text("from trainfree import seeding  # the same imports\n")
    assert closure(a) == closure(b) and code_hash(a) != code_hash(b)
    assert re.fullmatch(r"[0-9a-f]{12}", code_hash(a))


def test_no_rule_lists_its_modules_by_hand():
    rules = "\n".join(p.read_text() for p in (ROOT / "workflow" / "rules").glob("*.smk"))
    assert "code_version(" not in rules and "package_hash" not in rules
    assert len(re.findall(r"^\s+code=script_code\(", rules, re.M)) >= 20


# ---------------------------------------------------------------- reruns of a finished study

#: the study (4 NB201 archs, 1 training epoch, no fast-training steps) and a 2-arch DTB on digits
STUDY = {
    "study": "closure",
    "outputs": ["study", "dtb"],
    "model": {"C": 4, "N": 1},
    "sample": {"n": 4, "seed": 0},
    "scoring": {"batch_size": 16, "fast_steps": [], "metrics": ["naswot", "params"]},
    "training": {"epochs": 1, "max_train": 64, "max_test": 32},
    "analysis": {"n_boot": 5},
    "dtb": {"n": 2, "model": {"C": 4, "N": 1}, "epochs": 1, "batch_size": 32, "valid_size": 64, "max_train": 64,
            "max_test": 32, "checkpoint_epochs": [0, 1], "augment": False},
}
SCATTER = ("--set-scatter", "score=1", "train=1")


def _run(work: Path, pkg: Path, *extra: str) -> subprocess.CompletedProcess:
    return run_snakemake(work, STUDY, *SCATTER, *extra, env={**os.environ, "PYTHONPATH": str(pkg)}, timeout=900)


def _planned(work: Path, pkg: Path) -> dict[str, int]:
    """Jobs a dry run would execute: {rule: count} from Snakemake's job-stats table."""
    r = _run(work, pkg, "-n", "--cores", "1")
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    if "Nothing to be done" in r.stdout + r.stderr:
        return {}
    stats = (r.stdout + r.stderr).split("Job stats:", 1)[1]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)\s*$", stats, re.M) if m[1] != "total"}


def _planned_after_edit(work: Path, module: Path, pkg: Path) -> dict[str, int]:
    original = module.read_text()
    try:
        module.write_text(original + "\n# changed\n")
        return _planned(work, pkg)
    finally:
        module.write_text(original)


def _defining(pkg: Path, function: str) -> Path:
    """The package module that defines ``function``."""
    found = [p for p in sorted((pkg / "trainfree").rglob("*.py"))
             if any(isinstance(n, ast.FunctionDef) and n.name == function for n in ast.walk(ast.parse(p.read_text())))]
    assert len(found) == 1, found
    return found[0]


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """(workdir, package copy) of the finished study."""
    root = tmp_path_factory.mktemp("closure")
    pkg = _copy_package(root)
    work = root / "run"
    work.mkdir()
    r = _run(work, pkg, "--cores", "2", "-q")
    assert r.returncode == 0, r.stderr[-3000:]
    assert _planned(work, pkg) == {}
    return work, pkg


#: rules whose scripts import none of the edited modules below and whose inputs stay
UNTOUCHED = {"sample", "scoring_batch"}


@pytest.mark.slow
def test_editing_the_module_of_wide_scores_reruns_the_rules_that_import_it(study):
    work, pkg = study
    planned = _planned_after_edit(work, _defining(pkg, "wide_scores"), pkg)
    # wide_scores is defined with the data contracts, the ground floor every stage imports
    assert {"correlations", "figure", "score_shard", "dtb_table", "dtb_figure", "dtb_train", "train_shard",
            "ground_truth", "sample"} <= set(planned), planned
    # analysis.tidy, which re-exports it, only the tables and figures import
    planned = _planned_after_edit(work, pkg / "trainfree" / "analysis" / "tidy.py", pkg)
    assert {"correlations", "figure"} <= set(planned), planned
    assert not (UNTOUCHED | {"score_shard", "dtb_table", "dtb_train", "train_shard", "gather_states",
                             "ground_truth"}) & set(planned), planned
    assert _planned(work, pkg) == {}


@pytest.mark.slow
def test_editing_seeding_reruns_every_rule_that_seeds(study):
    work, pkg = study
    planned = _planned_after_edit(work, pkg / "trainfree" / "seeding.py", pkg)
    assert {"dtb_sample", "dtb_train", "dtb_score_shard", "score_shard", "train_shard"} <= set(planned), planned
    assert not UNTOUCHED & set(planned), planned


@pytest.mark.slow
def test_editing_a_module_no_rule_imports_reruns_nothing(study):
    work, pkg = study
    module = pkg / "trainfree" / "timing.py"  # the timing CLI: no workflow script imports it
    assert not any("trainfree/timing.py" in closure(s) for s in SCRIPTS.glob("*.py"))
    assert _planned_after_edit(work, module, pkg) == {}


def test_lazy_package_attribute_is_not_followed():
    """The root's ``__getattr__`` (``trainfree.score_model``, PEP 562) imports the scoring module
    only when read: a module that imports ``trainfree.seeding`` does not depend on the metrics."""
    from trainfree.closure import closure

    assert closure(ROOT / "src" / "trainfree" / "seeding.py") == ["trainfree/__init__.py", "trainfree/seeding.py"]
