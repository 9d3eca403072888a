"""The systems the companion page plays: the generated rows of Table 1 (LiveBand and SMG at the
default scale; no ablations, no seed replicas). Light on imports: the Snakefile reads it too."""

from __future__ import annotations

from liveband.errors import LiveBandError
from liveband.reports.benchmark_tables import TABLE1_ROWS

REFERENCE = "ground_truth"  # the real stem's metric values come from this system's scores


def headline_systems(evaluation) -> dict[str, tuple[str, str]]:
    """``{name: (kind, checkpoint)}`` from params ``evaluation``, in Table 1's row order."""
    systems = evaluation.at_scale("default")
    names = [s for _, s, _, _ in TABLE1_ROWS if s in systems and systems[s].kind in ("liveband", "smg")]
    if not names:
        raise LiveBandError("evaluation.systems: no LiveBand or SMG system of Table 1 to play")
    return {n: (systems[n].kind, systems[n].checkpoint) for n in names}
