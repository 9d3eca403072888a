"""Where the listening-test page lives in the package: the static files a kit folder serves.

The page (index.html, app.js, style.css) is self-contained: no CDN, no build step. Stage
`listening_kit` copies these files into the kit folder beside config.json and audio/.
"""

from __future__ import annotations

import shutil
from pathlib import Path

PAGE_DIR = Path(__file__).resolve().parent / "page"
PAGE_FILES = ("index.html", "app.js", "style.css")


def copy_page(kit_dir: str | Path) -> list[Path]:
    """Copy the page files into ``kit_dir`` (a folder being built, e.g. an atomic_dir temp)."""
    out = []
    for name in PAGE_FILES:
        target = Path(kit_dir) / name
        shutil.copyfile(PAGE_DIR / name, target)
        out.append(target)
    return out
