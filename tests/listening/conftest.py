"""Tiny kit configs and sessions built inline for the listening tests (schema and stats)."""

from __future__ import annotations

import uuid

import pytest

from liveband.listening.schema import CONDITIONS, KIT_SCHEMA, RESPONSE_SCHEMA, TESTS


def make_config(n_items: int = 3, items_per_test: int = 2) -> tuple[dict, dict]:
    """A kit config of ``n_items`` items per test, 4 stimuli each, and its key
    ``{token: (test, item, condition)}``. Tokens are readable but carry no condition name."""
    key, tests = {}, []
    for t, (test, dims) in enumerate(TESTS.items()):
        items = []
        for i in range(n_items):
            stimuli = [f"{t}{i}{c}aa" for c in range(len(CONDITIONS))]
            for s, cond in zip(stimuli, CONDITIONS):
                key[s] = (test, f"it{t}{i}", cond)
            items.append({"item": f"it{t}{i}", "stimuli": stimuli})
        tests.append({"id": test, "instructions": "x",
                      "dimensions": [{"id": d, "question": "?"} for d in dims],
                      "training": [{"stimulus": f"tr{t}"}], "items": items})
    config = {"schema": KIT_SCHEMA, "kit_id": "k" * 64, "scale": [1, 5],
              "scale_labels": ["bad", "poor", "fair", "good", "excellent"], "items_per_test": items_per_test,
              "tests": tests,
              "attention": {"instructed": {"stimulus": "instr", "dimension": "quality", "expected": 1,
                                           "text": "answer 1"}, "repeat": True},
              "headphone_check": {"stimulus": "hp", "question": "?", "options": ["a", "b"], "answer": 1},
              "collection_url": None}
    return config, key


def make_session(config: dict, key: dict, scores: dict | None = None, seed: int = 0) -> dict:
    """A complete, passing session: rates the first ``items_per_test`` items of each test with
    ``scores[condition]`` (default gt 5, liveband 4, smg 3, anchor 1) on both dimensions, the
    first item again as the repeat, and the instructed item as asked."""
    scores = scores or {"ground_truth": 5, "liveband": 4, "smg": 3, "anchor": 1}
    ratings, order = [], 0

    def rate(test, item, stim, dim, value, kind):
        nonlocal order
        ratings.append({"test": test, "item": item, "stimulus": stim, "dimension": dim, "rating": value,
                        "played_to_end": True, "kind": kind, "order": order, "seconds_listened": 10.0})
        order += 1

    for t in config["tests"]:
        dims = [d["id"] for d in t["dimensions"]]
        for k, it in enumerate(t["items"][:config["items_per_test"]]):
            for kind in ("item", "repeat") if k == 0 else ("item",):
                for s in it["stimuli"]:
                    for d in dims:
                        rate(t["id"], it["item"], s, d, scores[key[s][2]], kind)
    instructed = config["attention"]["instructed"]
    rate("quality", "", instructed["stimulus"], instructed["dimension"], instructed["expected"], "instructed")
    return {"schema": RESPONSE_SCHEMA, "kit_id": config["kit_id"],
            "session_id": str(uuid.UUID(int=seed + 1, version=4)), "participant_seed": seed,
            "started": "2025-01-01T10:00:00Z", "finished": "2025-01-01T10:30:00Z", "complete": True,
            "user_agent": "test", "headphone_check": {"answer": 1, "passed": True}, "ratings": ratings}


@pytest.fixture
def kit():
    return make_config()


@pytest.fixture
def session():
    """``session(config, key, scores=None, seed=0)``: a complete, passing response."""
    return make_session


def all_tokens(config: dict) -> list[str]:
    """Every audio token a kit config names (items, training, instructed, headphone check)."""
    tokens = [s for t in config["tests"] for it in t["items"] for s in it["stimuli"]]
    tokens += [x["stimulus"] for t in config["tests"] for x in t["training"]]
    tokens.append(config["attention"]["instructed"]["stimulus"])
    tokens.append(config["headphone_check"]["stimulus"])
    return tokens


def write_kit_folder(root, config: dict, seconds: float = 0.25):
    """A servable kit folder as stage listening_kit lays it out: the page, config.json,
    audio/<token>.wav (short 16-bit tones) and manifest.json."""
    import hashlib
    import json
    from pathlib import Path

    import numpy as np
    import soundfile as sf

    from liveband.listening.page_files import copy_page

    root = Path(root)
    (root / "audio").mkdir(parents=True)
    copy_page(root)
    (root / "config.json").write_text(json.dumps(config, indent=2))
    sr = 22050
    t = np.arange(int(sr * seconds)) / sr
    for i, token in enumerate(all_tokens(config)):
        tone = 0.2 * np.sin(2 * np.pi * (220 + 20 * i) * t) * np.minimum(1, 50 * np.minimum(t, t[::-1]))
        sf.write(root / "audio" / f"{token}.wav", tone.astype(np.float32), sr, subtype="PCM_16")
    files = sorted(p for p in root.rglob("*") if p.is_file())
    manifest = {"files": {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                          for p in files}}
    (root / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return root


@pytest.fixture
def kit_folder(tmp_path):
    """``kit_folder(config) -> Path``: the served kit folder at tmp_path/listening/kit."""
    return lambda config: write_kit_folder(tmp_path / "listening" / "kit", config)


@pytest.fixture
def kit_server():
    """``kit_server(kit_dir, responses=None) -> (server, base_url)``: `liveband listen` on a free
    loopback port in a thread, stopped after the test."""
    import threading

    from liveband.listening.server import KitServer, load_kit

    started = []

    def start(kit_dir, responses=None):
        server = KitServer(load_kit(kit_dir, responses), "127.0.0.1", 0, quiet=True)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        started.append((server, thread))
        return server, server.url

    yield start
    for server, thread in started:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
