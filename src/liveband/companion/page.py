"""``results/index.html``: one self-contained page (inline style, no script, no remote address),
every link relative to results/, so it opens from file:// and from any static host."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from liveband.companion import markdown
from liveband.companion.clips import Clip
from liveband.errors import LiveBandError
from liveband.evaluation.test_set import EvalExample

META_COLUMNS = ("example", "segment", "track", "inst_class", "mix_tracking_failed")
TABLES = (  # (file stem under results/, heading, required)
    ("table1", "Table 1: streaming accompaniment, first segment and drift", True),
    ("table2", "Table 2: attention-sink ablation (drift)", True),
    ("table3", "Table 3: gradient-penalty ablation (AdaGP)", True),
    ("table4", "Table 4: listening test", False),
    ("table5", "Table 5: streaming latency", False),
)
FIGURES = (  # (file name or glob under results/figures/, caption: what to look for)
    ("gan_abl_gp_*.png", "GAN training, {name} (fixed gradient penalty, Table 3): gp_weight stays flat; compare "
                         "how far the advantage (the discriminator's real-minus-fake margin) runs away with AdaGP's."),
    ("gan_*.png", "GAN training, {name}: the losses should level off rather than diverge; with AdaGP the "
                  "advantage (the discriminator's real-minus-fake margin) should hover at the dashed target "
                  "while gp_weight adapts."),
    ("autoencoder_curves.png", "Autoencoder training: the reconstruction losses (STFT, L1) should fall and flatten."),
    ("drift.png", "Drift: second minus first segment per streaming system, with 95% intervals; bars in red "
                  "got worse over time, bars whose interval covers 0 did not measurably drift."),
    ("latency.png", "Latency: the distribution of per-frame compute time against the frame period; a system "
                    "runs in real time when its curve reaches 1 left of the period line."),
    ("metric_validation.png", "Metric validation: black is the clean real stem; a metric earns trust only if "
                              "every degradation (green = check passed, red = failed) scores worse than clean."),
    ("listening.png", "Listening test: mean ratings per condition with intervals (or the power simulation "
                      "when no responses were collected); the real stem should rate highest, the anchor lowest."),
)
STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:1em 2em;color:#222}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
.caption{font-size:.85em;color:#444}.scroll{overflow-x:auto}
table{border-collapse:collapse;font-size:.8em;margin:.5em 0}
th,td{border:1px solid #ddd;padding:.25em .45em;vertical-align:top;text-align:left}
th{background:#f3f3f3}th.paper,td.paper{background:#f2f6fb}
td.verdict{font-weight:600}td.reproduced{background:#d8f0d8}td.contradicted{background:#f6d2d2}
td.inconclusive{background:#f3ecd0}
figure{margin:.3em 0}figure img{display:block;width:360px;height:72px;margin-top:2px}
audio{width:360px;height:32px}
.metrics{font-size:.8em;margin:0;display:grid;grid-template-columns:auto auto;gap:0 .6em;min-width:19em}
.metrics dt{color:#555}.metrics dd{margin:0;text-align:right}
.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(480px,1fr));gap:1em}
.figures figure{margin:0}.figures img{width:auto;height:auto;max-width:100%}figcaption{font-size:.85em}
nav a{margin-right:1em}
"""


@dataclass(frozen=True)
class ExampleView:
    example: EvalExample
    drums_in_mix: bool
    clips: list[Clip]
    metrics: dict[str, dict[str, float]]   # version key -> metric -> first-segment value


def first_segment_metrics(path: str | Path, ids: list[int]) -> dict[int, dict[str, float]]:
    """``{example: {metric: value}}`` of a system's examples CSV, first segment."""
    path = Path(path)
    if not path.exists():
        raise LiveBandError(f"{path}: missing (stage evaluate writes it)")
    df = pd.read_csv(path)
    if "example" not in df.columns or "segment" not in df.columns:
        raise LiveBandError(f"{path}: lacks the example and segment columns")
    df = df[(df.segment == 0) & df.example.isin(ids)]
    cols = [c for c in df.columns if c not in META_COLUMNS]
    return {int(r["example"]): {c: float(r[c]) for c in cols} for _, r in df.iterrows()}


def _e(text) -> str:
    return html.escape(str(text))


def _links(stem: str, results: Path) -> str:
    found = [f'<a href="{stem}{ext}">{stem}{ext}</a>' for ext in (".md", ".csv", ".tex")
             if (results / f"{stem}{ext}").exists()]
    return f'<p class="caption">Files: {", ".join(found)}</p>' if found else ""


def _tables(results: Path) -> str:
    out = []
    for stem, heading, required in TABLES:
        if not (results / f"{stem}.md").exists() and not required:
            continue
        out.append(f'<h3 id="{stem}">{_e(heading)}</h3>{markdown.render(results / f"{stem}.md")}{_links(stem, results)}')
    return "\n".join(out)


def _environment(results: Path) -> str:
    env = json.loads(markdown.read(results / "environment.json"))
    tables = env.get("tables", {})
    head = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in tables.items())
    stages = env.get("stages", {})
    cols = ["cpu", "cores", "torch", "torch_threads", "cuda", "git_commit"]
    rows = "".join("<tr><td>" + _e(name) + "</td>" + "".join(f"<td>{_e(str(s.get(c, ''))[:12])}</td>" for c in cols)
                   + "</tr>" for name, s in stages.items())
    stage_table = (f'<div class="scroll"><table><thead><tr><th>stage</th>{"".join(f"<th>{c}</th>" for c in cols)}'
                   f"</tr></thead><tbody>{rows}</tbody></table></div>") if stages else ""
    return (f"<table><tbody>{head}</tbody></table><p class=caption>Each stage's own environment:</p>{stage_table}"
            '<p class="caption">File: <a href="environment.json">environment.json</a></p>')


def _figures(results: Path) -> str:
    out, seen = [], set()
    for pattern, caption in FIGURES:  # the first pattern a file matches gives its caption
        for path in sorted(set((results / "figures").glob(pattern)) - seen):
            seen.add(path)
            name = path.stem.removeprefix("gan_")
            out.append(f'<figure><img src="figures/{_e(path.name)}" alt="{_e(path.stem)}">'
                       f"<figcaption>{_e(caption.format(name=name))}</figcaption></figure>")
    return '<div class="figures">' + "\n".join(out) + "</div>"


def _audio(src: str) -> str:
    png = src.removesuffix(".ogg") + ".png"
    return (f'<figure><audio controls preload="metadata" src="{_e(src)}"></audio>'
            f'<img src="{_e(png)}" alt="spectrogram of {_e(src)}" width="360" height="72"></figure>')


def _metrics(values: dict[str, float] | None) -> str:
    if not values:
        return ""
    return '<dl class="metrics">' + "".join(f"<dt>{_e(k)}</dt><dd>{v:.3g}</dd>" for k, v in values.items()) + "</dl>"


def _example(view: ExampleView, folder: str) -> str:
    ex = view.example
    title = (f"Example {ex.example}: {ex.track}, target {ex.target_stem} ({ex.inst_class}), mix of "
             f"{len(ex.mix_stems)} stems {'with' if view.drums_in_mix else 'without'} drums")
    rows = []
    for clip in view.clips:
        mixed = _audio(f"{folder}/{clip.mixed}") if clip.mixed else ""
        rows.append(f"<tr><th>{_e(clip.version.label)}</th><td>{_audio(f'{folder}/{clip.alone}')}</td>"
                    f"<td>{mixed}</td><td>{_metrics(view.metrics.get(clip.version.key))}</td></tr>")
    return (f'<section class="example" id="ex{ex.example}"><h3>{_e(title)}</h3><div class="scroll"><table class="clips">'
            "<thead><tr><th>Version</th><th>Alone</th><th>Over the mix</th><th>Metrics, first segment</th></tr></thead>"
            f'<tbody>{"".join(rows)}</tbody></table></div></section>')


def build(results: Path, views: list[ExampleView], folder: str, intro: str, extended: list[str]) -> str:
    """The page's HTML. ``folder``: the audio folder relative to ``results``; ``extended``:
    extra result files (relative to ``results``) to link when present."""
    claims = markdown.render(results / "claims.md", table_id="claims")
    ext = "".join(f'<li><a href="{_e(p)}">{_e(p)}</a></li>' for p in extended)
    sections = [
        ("claims", "Claims of the paper, tested", claims + _links("claims", results)),
        ("tables", "Tables beside the paper's values", _tables(results)),
        ("validation", "Metric validation", markdown.render(results / "metric_validation.md")
         + _links("metric_validation", results)),
        ("examples", "Audio examples", intro + "\n".join(_example(v, folder) for v in views)),
        ("figures", "Figures", _figures(results)),
        ("environment", "Environment", _environment(results)),
        ("files", "Files and how to regenerate them",
         '<ul><li><a href="README.md">results/README.md</a>: what each table is and how it was made</li>'
         '<li><a href="../README.md">README.md</a> and <a href="../docs/PIPELINE.md">docs/PIPELINE.md</a>: '
         "set-up and the pipeline (every file here is rebuilt by <code>make pipeline</code>; this page by "
         "the stage <code>companion</code>)</li>"
         f'<li><a href="{_e(folder)}/selection.csv">{_e(folder)}/selection.csv</a>: the examples played above</li>'
         f"{ext}</ul>"),
    ]
    nav = "".join(f'<a href="#{k}">{_e(t)}</a>' for k, t, _ in sections)
    body = "\n".join(f'<section id="{k}"><h2>{_e(t)}</h2>\n{b}</section>' for k, t, b in sections)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">'
            f"<title>LiveBand reproduction: results and audio examples</title><style>{STYLE}</style></head>"
            f"<body><h1>LiveBand reproduction: results and audio examples</h1><nav>{nav}</nav>\n{body}\n"
            "</body></html>\n")
