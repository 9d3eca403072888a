"""The metric backends params select: each real one with its checkpoint, or a named substitute."""

from __future__ import annotations

from liveband.metrics.beats import make_beat_tracker
from liveband.metrics.cocola import CocolaLocalScorer, make_adherence_scorer
from liveband.metrics.fad import make_embedder

COCOLA_LOCAL_CHECKPOINT = "artifacts/metrics/cocola_local.pt"


def embedders(params) -> list:
    fad = params.metrics.fad
    checkpoints = {"vggish": fad.vggish_checkpoint, "clap": fad.clap_checkpoint}
    return [make_embedder(name, checkpoints.get(name)) for name in fad.embedders]


def beat_tracker(params):
    beats = params.metrics.beats
    return make_beat_tracker(beats.tracker, beats.beat_this_checkpoint)


def adherence_scorer(params):
    cocola = params.metrics.cocola
    if cocola.backend == "cocola-local":
        return CocolaLocalScorer.from_checkpoint(COCOLA_LOCAL_CHECKPOINT)
    return make_adherence_scorer("cocola", cocola.checkpoint)
