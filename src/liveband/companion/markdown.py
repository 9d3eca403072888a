"""The results' Markdown tables (pipe tables with a caption paragraph, as the tables stages write
them) rendered as HTML: paragraphs stay paragraphs, each table becomes a <table>; the paper's
columns and the claims' verdicts get classes the page styles."""

from __future__ import annotations

import html
from pathlib import Path

from liveband.errors import LiveBandError

VERDICTS = ("reproduced", "contradicted", "inconclusive")


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def parse(text: str, source: str) -> list[tuple[str, object]]:
    """``[("p", text) | ("table", (header, rows))]`` in file order."""
    blocks: list[tuple[str, object]] = []
    para: list[str] = []
    table: list[str] = []

    def flush():
        if para:
            blocks.append(("p", " ".join(para)))
            para.clear()
        if table:
            header, rule, *rows = table
            if not set(rule.replace("|", "").strip()) <= set(":- "):
                raise LiveBandError(f"{source}: a table lacks its |---| rule under the header")
            cells = [_cells(r) for r in rows]
            head = _cells(header)
            if any(len(c) != len(head) for c in cells):
                raise LiveBandError(f"{source}: a table row has another number of cells than its header")
            blocks.append(("table", (head, cells)))
            table.clear()

    for line in text.splitlines():
        if line.lstrip().startswith("|"):
            if para:
                flush()
            table.append(line)
        elif line.strip():
            if table:
                flush()
            para.append(line.strip().lstrip("#").strip())
        else:
            flush()
    flush()
    return blocks


def table_rows(path: str | Path) -> tuple[list[str], list[list[str]]]:
    """The first table of a Markdown file: (header, rows)."""
    path = Path(path)
    tables = [b for kind, b in parse(read(path), str(path)) if kind == "table"]
    if not tables:
        raise LiveBandError(f"{path}: no table")
    return tables[0]


def read(path: str | Path) -> str:
    path = Path(path)
    if not path.exists():
        raise LiveBandError(f"{path}: missing (run the stage that writes it first)")
    return path.read_text(encoding="utf-8")


def verdict_class(cell: str) -> str:
    word = cell.split(" ", 1)[0].lower()
    return f"verdict {word}" if word in VERDICTS else ""


def render(path: str | Path, table_id: str | None = None) -> str:
    """The file's paragraphs and tables as HTML (the first table gets ``id=table_id``)."""
    path = Path(path)
    out = []
    for kind, block in parse(read(path), str(path)):
        if kind == "p":
            out.append(f'<p class="caption">{html.escape(block)}</p>')
            continue
        head, rows = block
        ident = f' id="{table_id}"' if table_id and not any("<table id=" in o for o in out) else ""
        verdict = head.index("Verdict") if "Verdict" in head else None
        ths = "".join(f'<th{_cls("paper" if "(paper)" in h else "")}>{html.escape(h)}</th>' for h in head)
        trs = []
        for row in rows:
            tds = []
            for j, cell in enumerate(row):
                cls = verdict_class(cell) if j == verdict else ("paper" if "(paper)" in head[j] else "")
                tds.append(f"<td{_cls(cls)}>{html.escape(cell)}</td>")
            trs.append("<tr>" + "".join(tds) + "</tr>")
        out.append(f'<div class="scroll"><table{ident}><thead><tr>{ths}</tr></thead>'
                   f'<tbody>{"".join(trs)}</tbody></table></div>')
    return "\n".join(out)


def _cls(name: str) -> str:
    return f' class="{name}"' if name else ""
