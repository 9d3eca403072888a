"""Writing one table as CSV, Markdown and LaTeX side by side (atomically)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from liveband.utils.atomic import atomic_path, write_text


def write_table(df: pd.DataFrame, stem: str | Path, caption: str = "") -> None:
    """``stem``.csv, ``stem``.md and ``stem``.tex; the Markdown starts with the caption."""
    stem = Path(stem)
    with atomic_path(stem.with_suffix(".csv")) as tmp:
        df.to_csv(tmp, index=False)
    md = (f"{caption}\n\n" if caption else "") + df.to_markdown(index=False) + "\n"
    write_text(stem.with_suffix(".md"), md)
    latex = df.to_latex(index=False, escape=True, caption=caption or None, na_rep="--")
    write_text(stem.with_suffix(".tex"), latex)
