"""One name per workflow step: every rule of ``workflow/rules/<stage>.smk`` runs its own script
``workflow/scripts/<rule>.py``, which calls ``trainfree.pipeline.<stage>.<rule>``; each rule file
reads only names defined in itself or in the files included before it."""

import ast
import re

from conftest import ROOT

RULES = ROOT / "workflow" / "rules"
SCRIPTS = ROOT / "workflow" / "scripts"
RULE = re.compile(r"^[ ]*rule (\w+):\n(.*?)(?=^[ ]*rule \w+:|\Z)", re.M | re.S)
SCRIPT = re.compile(r'^\s*script:\s*\n\s*"(?:\.\./)?scripts/(\w+)\.py"', re.M)


def _rules() -> dict[str, tuple[str, str]]:
    """rule -> (stage, script name) over the study's rule files and the default run's file."""
    out = {}
    files = [*sorted(RULES.glob("*.smk")), ROOT / "workflow" / "default_run.smk"]
    for smk in files:
        stage = "glance" if smk.stem == "default_run" else smk.stem
        for m in RULE.finditer(smk.read_text()):
            script = SCRIPT.search(m[2])
            assert script, f"rule {m[1]} in {smk.name} runs no script"
            out[m[1]] = (stage, script[1])
    return out


def _called(script: str) -> set[tuple[str, str]]:
    """(module, name) of every ``from trainfree.pipeline.<m> import <name>`` in the script."""
    tree = ast.parse((SCRIPTS / f"{script}.py").read_text())
    return {(n.module, a.name) for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
            and (n.module or "").startswith("trainfree.pipeline.") for a in n.names}


def test_rule_script_and_stage_function_share_one_name():
    rules = _rules()
    assert len(rules) >= 30, sorted(rules)
    bad = [f"{rule} ({stage}.smk) runs scripts/{script}.py" for rule, (stage, script) in rules.items()
           if script != rule]
    assert not bad, "\n".join(bad)
    for rule, (stage, _) in rules.items():
        stage_calls = {name for module, name in _called(rule) if module != "trainfree.pipeline.common"}
        assert ("trainfree.pipeline." + stage, rule) in _called(rule) and stage_calls == {rule}, (
            f"scripts/{rule}.py should call trainfree.pipeline.{stage}.{rule} and no other stage function; "
            f"it imports {sorted(_called(rule))}")


def test_every_script_serves_exactly_one_rule():
    used = [script for _, script in _rules().values()]
    assert len(used) == len(set(used))
    assert {p.stem for p in SCRIPTS.glob("*.py")} == set(used)


def test_no_rule_file_reads_a_name_defined_in_a_later_file():
    order = re.findall(r'^include: "rules/(\w+)\.smk"', (ROOT / "workflow" / "study.smk").read_text(), re.M)
    assert order[0] == "common" and order[-1] == "report", order
    # the code of each file, comments left out
    texts = {name: re.sub(r"(^|\s)#.*$", "", (RULES / f"{name}.smk").read_text(), flags=re.M) for name in order}
    defined = {name: set(re.findall(r"^(?:def )?([A-Za-z_]\w*)\s*(?:=|\()", text, re.M)) - {"rule", "include"}
               for name, text in texts.items()}
    bad = []
    for i, name in enumerate(order):
        later = set().union(*(defined[n] for n in order[i + 1:])) - defined[name]
        bad += [f"{name}.smk reads {v}" for v in sorted(later) if re.search(rf"\b{v}\b", texts[name])]
    assert not bad, "\n".join(bad)
