"""`liveband listen`: serves the kit read-only, refuses paths out of it, stores valid sessions
once, and rejects invalid or oversized ones without writing anything."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import urllib.parse

import pytest

from liveband import cli
from liveband.errors import LiveBandError
from liveband.listening.schema import MAX_RESPONSE_BYTES, validate_response
from liveband.listening.server import RESPONSES_HEADER, load_kit


def request(url: str, method: str = "GET", path: str = "/", body: bytes | None = None,
            headers: dict | None = None) -> tuple[int, dict, bytes]:
    """One raw HTTP request (the path is sent exactly as given, `..` included)."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        reply = conn.getresponse()
        return reply.status, dict(reply.getheaders()), reply.read()
    finally:
        conn.close()


def post(url: str, obj_or_bytes) -> tuple[int, dict]:
    body = obj_or_bytes if isinstance(obj_or_bytes, bytes) else json.dumps(obj_or_bytes).encode()
    status, _, data = request(url, "POST", "/responses", body, {"Content-Type": "application/json"})
    return status, json.loads(data)


@pytest.fixture
def served(kit, kit_folder, kit_server):
    """(base URL, kit dir, responses dir, config, key) of a running server on a tiny kit."""
    config, key = kit
    kit_dir = kit_folder(config)
    _, url = kit_server(kit_dir)
    return url, kit_dir, kit_dir.parent / "responses", config, key


def test_serves_page_and_config(served):
    url, kit_dir, *_ = served
    status, headers, body = request(url, path="/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert body == (kit_dir / "index.html").read_bytes()
    status, headers, body = request(url, path="/config.json")
    assert status == 200 and json.loads(body)["kit_id"] == "k" * 64
    assert headers[RESPONSES_HEADER] == "responses"  # where the page posts when collection_url is null
    status, headers, _ = request(url, path="/audio/hp.wav")
    assert status == 200 and headers["Content-Type"] == "audio/wav"
    assert request(url, path="/audio/missing.wav")[0] == 404


def test_byte_ranges(served):
    """Audio is served in byte ranges too (Safari's media player asks for them)."""
    url, kit_dir, *_ = served
    wav = (kit_dir / "audio" / "hp.wav").read_bytes()
    status, headers, body = request(url, path="/audio/hp.wav", headers={"Range": "bytes=0-3"})
    assert (status, body, headers["Content-Range"]) == (206, b"RIFF", f"bytes 0-3/{len(wav)}")
    status, _, body = request(url, path="/audio/hp.wav", headers={"Range": "bytes=-10"})
    assert status == 206 and body == wav[-10:]
    status, _, body = request(url, path="/audio/hp.wav", headers={"Range": "bytes=40-"})
    assert status == 206 and body == wav[40:]
    assert request(url, path="/audio/hp.wav", headers={"Range": f"bytes={len(wav)}-"})[0] == 416
    assert request(url, path="/audio/hp.wav", headers={"Range": "bytes=0-1,4-5"})[2] == wav


def test_path_traversal_refused(served, tmp_path):
    url, kit_dir, *_ = served
    secret = tmp_path / "listening" / "secret.txt"
    secret.write_text("SECRET")
    os.symlink(secret, kit_dir / "link.txt")
    os.symlink(tmp_path, kit_dir / "up")
    (kit_dir / ".hidden").write_text("SECRET")
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/audio/..%2f..%2fsecret.txt",
                 "/audio/../../secret.txt", "/link.txt", "/up/listening/secret.txt", "/.hidden",
                 "/..%5csecret.txt", "/%00"):
        status, _, body = request(url, path=path)
        assert status == 403, path
        assert b"SECRET" not in body
    assert request(url, path="/audio/./hp.wav")[0] == 200  # `.` is harmless


def test_valid_session_stored(served, session):
    url, _, responses, config, key = served
    obj = session(config, key)
    status, reply = post(url, obj)
    assert status == 201 and reply == {"stored": f"{obj['session_id']}.json"}
    stored = json.loads((responses / reply["stored"]).read_text())
    assert stored == obj and validate_response(stored, config) == []


@pytest.mark.parametrize("edit", [
    lambda o: o["ratings"][0].update(rating=9),
    lambda o: o.update(kit_id="other"),
    lambda o: o.update(session_id="../../escape"),
    lambda o: b"{not json",
])
def test_invalid_session_rejected_nothing_written(served, session, edit):
    url, _, responses, config, key = served
    obj = session(config, key)
    obj = edit(obj) or obj
    status, reply = post(url, obj)
    assert status == 400
    assert isinstance(reply["error"], str) and "\n" not in reply["error"]
    assert not responses.exists() or not any(responses.iterdir())


def test_oversized_session_413(served, session):
    url, _, responses, config, key = served
    obj = session(config, key)
    obj["user_agent"] = "x" * MAX_RESPONSE_BYTES
    status, reply = post(url, obj)
    assert status == 413 and "bytes" in reply["error"]
    assert not responses.exists()


def test_never_overwrites(served, session):
    url, _, responses, config, key = served
    first = session(config, key)
    assert post(url, first)[0] == 201
    assert post(url, first) == (200, {"stored": f"{first['session_id']}.json", "duplicate": True})
    changed = session(config, key)
    changed["ratings"][0]["rating"] = 2
    status, reply = post(url, changed)
    assert status == 409 and first["session_id"] in reply["error"]
    assert json.loads((responses / f"{first['session_id']}.json").read_text()) == first
    assert [p.name for p in responses.iterdir()] == [f"{first['session_id']}.json"]
    other = session(config, key, seed=7)
    assert post(url, other)[0] == 201
    assert len(list(responses.iterdir())) == 2


def test_post_elsewhere_and_without_length(served):
    url, *_ = served
    assert request(url, "POST", "/index.html", b"{}")[0] == 404
    conn_status = request(url, "POST", "/responses", None)[0]  # http.client sends Content-Length: 0
    assert conn_status == 400


def test_bad_kits_refused(tmp_path, kit, kit_folder):
    with pytest.raises(LiveBandError, match="not a folder"):
        load_kit(tmp_path / "nowhere")
    config, _ = kit
    kit_dir = kit_folder(config)
    with pytest.raises(LiveBandError, match="inside the served kit"):
        load_kit(kit_dir, kit_dir / "responses")
    assert load_kit(kit_dir).responses == kit_dir.parent / "responses"  # listening/responses
    (kit_dir / "config.json").write_text(json.dumps({**config, "schema": "other"}))
    with pytest.raises(LiveBandError, match=r"config\.json: config\.schema"):
        load_kit(kit_dir)


def test_cli_listen_reports_bad_kit(tmp_path, capsys):
    assert cli.main(["listen", "--kit", str(tmp_path / "missing"), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --kit") and err.count("\n") == 1


def test_cli_listen_prints_url_and_stops_on_ctrl_c(kit, kit_folder, tmp_path):
    config, _ = kit
    kit_dir = kit_folder(config)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-m", "liveband.cli", "listen", "--kit", str(kit_dir), "--port", "0",
                             "--responses", str(tmp_path / "out")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            # as in a terminal: a test run started in the background inherits SIGINT ignored
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        line = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        assert request(url, path="/index.html")[0] == 200
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=120)  # generous: a loaded machine is slow to tear down
    finally:
        proc.kill()
    assert proc.returncode == 0 and "stopped" in out
