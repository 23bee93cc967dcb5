"""Write one table as CSV, Markdown and LaTeX side by side."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from trainfree.io import write_text


def _atomic_text(path: Path, text: str) -> None:
    write_text(path, text)


def to_markdown(df: pd.DataFrame, floatfmt: str = ".3f") -> str:
    """A GitHub-flavoured Markdown table (no extra dependency)."""

    def cell(v: object) -> str:
        if isinstance(v, float):
            return "" if pd.isna(v) else format(v, floatfmt)
        return "" if v is None else str(v).replace("|", "\\|")

    head = "| " + " | ".join(map(str, df.columns)) + " |"
    sep = "| " + " | ".join("---" for _ in df.columns) + " |"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, sep, *body]) + "\n"


def to_latex(df: pd.DataFrame, caption: str = "", floatfmt: str = ".3f") -> str:
    """A booktabs LaTeX tabular (no jinja2 needed)."""

    def esc(v: object) -> str:
        if isinstance(v, float):
            return "" if pd.isna(v) else format(v, floatfmt)
        s = "" if v is None else str(v)
        for a, b in (("\\", r"\textbackslash{}"), ("_", r"\_"), ("%", r"\%"), ("&", r"\&"),
                     ("#", r"\#"), ("|", r"\textbar{}"), ("~", r"\textasciitilde{}"), ("^", r"\^{}")):
            s = s.replace(a, b)
        return s

    lines = [r"\begin{table}[t]", r"\centering"]
    if caption:
        lines.append(r"\caption{" + esc(caption) + "}")
    lines += [r"\begin{tabular}{" + "l" * len(df.columns) + "}", r"\toprule",
              " & ".join(esc(c) for c in df.columns) + r" \\", r"\midrule"]
    lines += [" & ".join(esc(v) for v in row) + r" \\" for row in df.itertuples(index=False)]
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"


def write_table(df: pd.DataFrame, csv_path: str | os.PathLike, caption: str = "") -> list[Path]:
    """Write ``df`` to ``X.csv``, ``X.md`` and ``X.tex`` (same stem); returns the paths."""
    csv = Path(csv_path)
    md, tex = csv.with_suffix(".md"), csv.with_suffix(".tex")
    _atomic_text(csv, df.to_csv(index=False))
    _atomic_text(md, (f"**{caption}**\n\n" if caption else "") + to_markdown(df))
    _atomic_text(tex, to_latex(df, caption))
    return [csv, md, tex]
