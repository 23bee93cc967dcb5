"""Stage ``glance``: the default run's results-at-a-glance table (Markdown + CSV)."""

from __future__ import annotations

import pandas as pd

from trainfree.analysis.glance import glance as glance_table
from trainfree.analysis.glance import to_markdown
from trainfree.io import write_csv, write_text


def glance(tables: dict[str, str], studies: dict[str, str], out_md: str, out_csv: str) -> pd.DataFrame:
    """Every published number beside ours, from the default run's final tables."""
    table = glance_table(tables, studies)
    write_csv(table, out_csv)
    write_text(out_md, to_markdown(table))
    return table
