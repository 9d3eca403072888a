"""The pre-registered claims: one per ordering or statement of the paper's sections 6.1-6.3.

A claim names a metric ROLE, not a column: at render time the role's name prefixes select
our columns (``FAD-*``/``KAD-*``, ``BA F1 *``, ``COCOLA-local *``), one result row each.
Systems are keys of ``evaluation.systems``; ``b=None`` means "against 0" (drift only).
Families (for Holm) follow the paper's tables: Table 1 first segment, Table 1 drift,
Table 2 (sink), Table 3 (gradient penalty). The paper's own numbers come from
``liveband.reports.paper_values`` through the table's row mapping.

Kinds: ``better`` / ``worse`` (A is better / worse than B, or its drift than 0) and
``not_worse`` (the paper's "matches", "near-zero or favourable": A is not worse than B).
"""

from __future__ import annotations

from dataclasses import dataclass

ALL_ROLES = ("distance", "beat", "adherence")
COHERENCE_ROLES = ("beat", "adherence")
KINDS = ("better", "worse", "not_worse")
QUANTITIES = ("first", "drift")
TABLES = ("table1", "table2", "table3")


@dataclass(frozen=True)
class Role:
    prefixes: tuple[str, ...]  # our column names starting with one of these belong to the role
    lower_is_better: bool
    label: str


ROLES = {
    "distance": Role(("FAD-", "KAD-"), True, "audio distance to real stems (FAD/KAD)"),
    "beat": Role(("BA F1 ",), False, "beat alignment"),
    "adherence": Role(("COCOLA-local ", "COCOLA "), False, "adherence to the mix (COCOLA)"),
}

SYSTEM_LABELS = {
    "ground_truth": "ground truth", "codec": "the codec (real stems through the autoencoder)",
    "smg_tau0": "SMG tau 0", "smg_tau1": "SMG tau 1", "gan_tau0": "LiveBand tau 0",
    "gan_tau01": "LiveBand tau 0.1", "gan_tau1": "LiveBand tau 1", "gan_bidirectional": "LiveBand bidirectional",
    "gan_abl_sink": "LiveBand with sink / AdaGP (ablation)", "gan_abl_nosink": "LiveBand without sink (ablation)",
    "gan_abl_gp_small": "fixed GP, small weight", "gan_abl_gp_tuned": "fixed GP, tuned weight",
}


@dataclass(frozen=True)
class Claim:
    id: str
    family: str  # Holm family
    statement: str  # what is tested, in words
    role: str  # key of ROLES
    a: str  # system
    b: str | None  # system, or None: A's drift against 0
    quantity: str  # "first" (first 10 s segment) or "drift" (second minus first segment)
    kind: str  # "better", "worse" or "not_worse" (A relative to B, or to 0)
    table: str  # the paper table holding the numbers: table1 | table2 | table3
    source: str  # the paper's words it rests on (section)

    def __post_init__(self):
        if self.role not in ROLES or self.kind not in KINDS or self.quantity not in QUANTITIES \
                or self.table not in TABLES or (self.b is None and self.quantity != "drift"):
            raise ValueError(f"claim {self.id}: invalid definition")


F1, F1D, F2, F3 = ("Table 1 first segment (6.3)", "Table 1 drift (6.3)", "Table 2 sink ablation (6.1)",
                   "Table 3 gradient penalty (6.2)")
VERB = {  # (first segment, drift against 0, drift against B)
    "better": ("beats", "improves over time", "drifts more favourably than"),
    "worse": ("is worse than", "gets worse over time", "drifts less favourably than"),
    "not_worse": ("is not worse than", "does not get worse over time", "drifts no worse than"),
}


def statement(a: str, b: str | None, role: str, quantity: str, kind: str) -> str:
    """The claim in words, e.g. "LiveBand tau 0.1 beats SMG tau 0 on beat alignment"."""
    first, alone, paired = VERB[kind]
    label = lambda s: SYSTEM_LABELS.get(s, s)  # noqa: E731
    if quantity == "first":
        core = f"{label(a)} {first} {label(b)}"
    else:
        core = f"{label(a)} {alone}" if b is None else f"{label(a)} {paired} {label(b)}"
    return f"{core} on {ROLES[role].label}"


def _claims(prefix: str, family: str, pairs, roles, quantity: str, kind: str, table: str,
            source: str) -> list[Claim]:
    return [Claim(f"{prefix}:{a}-{b or 0}:{role}", family, statement(a, b, role, quantity, kind), role, a, b,
                  quantity, kind, table, source)
            for a, b in pairs for role in roles]


CLAIMS: tuple[Claim, ...] = tuple(
    _claims("T1.bidirectional", F1, [("gan_bidirectional", "gan_tau0")], ["distance"], "first", "better",
            "table1", "6.3: the bidirectional upper bound achieves the strongest overall results")
    + _claims("T1.tau0-matches-bidirectional", F1, [("gan_tau0", "gan_bidirectional")], COHERENCE_ROLES,
              "first", "not_worse", "table1",
              "6.3: at tau 0 LiveBand already matches the bidirectional upper bound in BA and COCOLA")
    + _claims("T1.causal-vs-smg", F1, [("gan_tau0", "smg_tau0"), ("gan_tau01", "smg_tau0"), ("gan_tau1", "smg_tau1")],
              ALL_ROLES, "first", "better", "table1",
              "6.3: among causal models LiveBand outperforms SMG across all metrics and anticipation settings")
    + _claims("T1.tau1-vs-smg0", F1, [("gan_tau1", "smg_tau0")], ALL_ROLES, "first", "better", "table1",
              "6.3: at tau 1 s LiveBand still outperforms SMG at the synchronous setting across all metrics")
    + _claims("T1.quality-gap", F1, [("ground_truth", "gan_tau0"), ("ground_truth", "gan_tau01"),
                                     ("ground_truth", "gan_tau1")], ["distance"], "first", "better", "table1",
              "6.3: FAD captures a substantial gap in audio quality compared to ground truth")
    + _claims("T1.matches-ground-truth", F1, [("gan_tau0", "ground_truth"), ("gan_tau01", "ground_truth")],
              COHERENCE_ROLES, "first", "not_worse", "table1",
              "6.3: several LiveBand configurations match or slightly exceed ground truth on BA and COCOLA")
    + _claims("T1D.smg-worsens", F1D, [("smg_tau0", None), ("smg_tau1", None)], ALL_ROLES, "drift", "worse",
              "table1", "6.3: SMG results in metrics that worsen over time")
    + _claims("T1D.liveband-stable", F1D, [("gan_tau0", None), ("gan_tau01", None), ("gan_tau1", None)],
              ALL_ROLES, "drift", "not_worse", "table1",
              "6.3: LiveBand exhibits near-zero or favourable drift across all causal settings and most metrics")
    + _claims("T1D.liveband-vs-smg", F1D, [("gan_tau0", "smg_tau0"), ("gan_tau01", "smg_tau0"),
                                           ("gan_tau1", "smg_tau1")], ALL_ROLES, "drift", "better", "table1",
              "6.3: LiveBand does not accumulate local errors, contrary to teacher-forced models")
    + _claims("T1D.vs-codec", F1D, [("gan_tau01", "codec")], ALL_ROLES, "drift", "not_worse", "table1",
              "control added here: the main model drifts no more than real stems through the autoencoder")
    + _claims("T2.favourable", F2, [("gan_abl_sink", None), ("gan_abl_nosink", None)], ALL_ROLES, "drift",
              "better", "table2", "6.1: both variants remain stable over 20 s with favourable drift across all metrics")
    + _claims("T2.sink", F2, [("gan_abl_sink", "gan_abl_nosink")], COHERENCE_ROLES, "drift", "better", "table2",
              "6.1: the sink-enabled model is consistently but only slightly better on coherence measures")
    + _claims("T3.adagp-vs-small", F3, [("gan_abl_sink", "gan_abl_gp_small")], ALL_ROLES, "first", "better",
              "table3", "6.2: AdaGP clearly outperforms the under-regularised fixed-GP setting")
    + _claims("T3.adagp-matches-tuned", F3, [("gan_abl_sink", "gan_abl_gp_tuned")], ALL_ROLES, "first",
              "not_worse", "table3", "6.2: AdaGP matches the best manually tuned fixed-weight setting")
)
