import io
import json
from contextlib import redirect_stderr, redirect_stdout

import pandas as pd
from conftest import benchdata

from trainfree.cli import main
from trainfree.spaces import nb201

ARCH = nb201.EXAMPLE


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def test_metrics_listing_sorted_with_direction():
    code, out, _ = run("metrics", "--format", "json")
    rows = json.loads(out)
    names = [r["metric"] for r in rows]
    assert code == 0 and names == sorted(names)
    assert {"naswot", "activation_units", "distinguishing_ability", "params", "flops"} <= set(names)
    assert all(r["higher_is_better"] for r in rows if r["metric"] == "naswot")


def test_score_params_needs_no_data():
    code, out, _ = run("score", "--arch", ARCH, "--metrics", "params")
    df = pd.read_csv(io.StringIO(out))
    assert code == 0 and list(df.columns[:4]) == ["arch_id", "metric", "value", "seconds"]
    assert df.value.iloc[0] == 0.802426  # benchmark params_m of this arch (NB201 index 1)


def test_score_naswot_on_real_cifar_npz():
    npz = benchdata("images/cifar10_partial_5506.npz")
    code, out, _ = run("score", "--arch", ARCH, "--arch", nb201.sample(1, 0)[0], "--metrics",
                       "naswot,activation_units", "--dataset", "cifar10", "--data-root", str(npz),
                       "--batch-size", "16", "--C", "8", "--N", "1", "--format", "json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 4
    assert {r["metric"] for r in rows} == {"naswot", "activation_units"}


def test_bad_input_one_line_errors(tmp_path):
    cases = [
        (("score", "--arch", ARCH, "--metrics", "nope"), "unknown metric 'nope'"),
        (("score", "--arch", "|bad~0|", "--metrics", "params"), "malformed NB201 arch"),
        (("score", "--arch", ARCH, "--metrics", "naswot", "--dataset", "npz", "--data-root",
          str(tmp_path / "missing.npz")), "does not exist"),
        (("score", "--arch", ARCH, "--metrics", "naswot", "--dataset", "cifar10", "--data-root",
          str(tmp_path / "nowhere")), "does not exist"),
    ]
    for argv, needle in cases:
        code, out, err = run(*argv)
        assert code == 2 and out == ""
        assert err.startswith("error: ") and needle in err and err.count("\n") == 1, err
