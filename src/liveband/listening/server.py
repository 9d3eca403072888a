"""`liveband listen`: serve a listening-test kit folder read-only and collect responses.

Standard library only. GET/HEAD serve files inside the kit folder (no `..`, no hidden names,
no symlink leading out of the folder). POST /responses takes one session's JSON (<= 1 MB),
checks it with the shared validator (liveband.listening.schema) against the kit's config.json
and stores it atomically as <responses>/<session_id>.json. A stored session is never replaced:
the same session_id with other content gets 409; the identical body again (a retry) gets 200.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from liveband.errors import LiveBandError
from liveband.utils.atomic import write_json

RESPONSES_PATH = "/responses"
# Sent with config.json: tells the page where this server collects responses when the
# kit's collection_url is null (a plain static host sends no such header).
RESPONSES_HEADER = "X-Listening-Responses"
DRAIN_LIMIT = 16_000_000  # an oversized body up to this size is read and dropped (clean 413)
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8", ".json": "application/json", ".wav": "audio/wav",
    ".ogg": "audio/ogg", ".opus": "audio/ogg", ".mp3": "audio/mpeg", ".flac": "audio/flac",
    ".png": "image/png", ".txt": "text/plain; charset=utf-8",
}


@dataclass
class Kit:
    """A kit folder being served: its resolved root, parsed config and responses folder."""

    root: Path
    config: dict
    responses: Path
    lock: threading.Lock = field(default_factory=threading.Lock)  # one writer at a time


def load_kit(kit_dir: str | Path, responses_dir: str | Path | None = None) -> Kit:
    """Check the kit folder and its config.json; responses default to <kit>/../responses."""
    from liveband.listening import schema

    root = Path(kit_dir).resolve()
    if not root.is_dir():
        raise LiveBandError(f"--kit {kit_dir}: not a folder")
    for name in ("index.html", "config.json"):
        if not (root / name).is_file():
            raise LiveBandError(f"--kit {kit_dir}: no {name} (build the kit with stage listening_kit)")
    try:
        config = json.loads((root / "config.json").read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LiveBandError(f"{root / 'config.json'}: not JSON ({exc})") from exc
    errors = schema.validate_config(config)
    if errors:
        raise LiveBandError(f"{root / 'config.json'}: {errors[0]}")
    responses = Path(responses_dir) if responses_dir is not None else Path(kit_dir).absolute().parent / "responses"
    if responses.resolve().is_relative_to(root):
        raise LiveBandError(f"--responses {responses}: inside the served kit folder (responses would be public)")
    return Kit(root=root, config=config, responses=responses)


class KitServer(ThreadingHTTPServer):
    daemon_threads = True  # Ctrl-C never waits for a stalled client

    def __init__(self, kit: Kit, host: str, port: int, quiet: bool = False):
        self.kit = kit
        self.quiet = quiet
        super().__init__((host, port), KitHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{f'[{host}]' if ':' in host else host}:{port}/"


class KitHandler(BaseHTTPRequestHandler):
    server: KitServer
    server_version = "liveband-listen"
    sys_version = ""

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (base-class signature)
        if not self.server.quiet:
            super().log_message(format, *args)

    # ---- GET / HEAD: files of the kit folder -------------------------------------------
    def do_GET(self) -> None:
        self._serve_file(head=False)

    def do_HEAD(self) -> None:
        self._serve_file(head=True)

    def _serve_file(self, head: bool) -> None:
        status, target = resolve_in_kit(self.server.kit.root, self.path)
        if target is None:
            self._send_json(status, {"error": "refused" if status == 403 else "not found"}, head=head)
            return
        data = target.read_bytes()
        span = byte_range(self.headers.get("Range"), len(data))
        if span == "unsatisfiable":
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{len(data)}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200 if span is None else 206)
        if span is not None:  # Safari plays media only from servers that answer byte ranges
            self.send_header("Content-Range", f"bytes {span[0]}-{span[1] - 1}/{len(data)}")
            data = data[span[0]:span[1]]
        self.send_header("Content-Type", CONTENT_TYPES.get(target.suffix.lower(), "application/octet-stream"))
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        if target == self.server.kit.root / "config.json":
            self.send_header(RESPONSES_HEADER, RESPONSES_PATH.lstrip("/"))
        self.end_headers()
        if not head:
            self.wfile.write(data)

    # ---- POST /responses -----------------------------------------------------------------
    def do_POST(self) -> None:
        if urllib.parse.urlsplit(self.path).path.rstrip("/") != RESPONSES_PATH:
            self._send_json(404, {"error": f"POST goes to {RESPONSES_PATH}"})
            return
        status, reply = self._receive()
        self._send_json(status, reply)

    def _receive(self) -> tuple[int, dict]:
        from liveband.listening import schema

        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            return 411, {"error": "Content-Length: required"}
        if length < 0:
            return 400, {"error": "Content-Length: negative"}
        if length > schema.MAX_RESPONSE_BYTES:
            self._drain(length)
            return 413, {"error": f"body: {length} bytes > {schema.MAX_RESPONSE_BYTES}"}
        body = self.rfile.read(length)
        try:
            obj = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return 400, {"error": "body: not JSON"}
        errors = schema.validate_response(obj, self.server.kit.config, size=len(body))
        if errors:
            more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
            return 400, {"error": f"{errors[0]}{more}"}
        return store_response(self.server.kit, obj)

    def _drain(self, length: int) -> None:
        """Read and drop an oversized body (so the client reads our 413), up to a limit."""
        if length > DRAIN_LIMIT:
            self.close_connection = True
            return
        while length > 0:
            chunk = self.rfile.read(min(length, 65536))
            if not chunk:
                break
            length -= len(chunk)

    def _send_json(self, status: int, obj: dict, head: bool = False) -> None:
        data = (json.dumps(obj) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        if status >= 400:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if not head:
            self.wfile.write(data)


def resolve_in_kit(root: Path, request_path: str) -> tuple[int, Path | None]:
    """(200, file) for a request path naming a file inside ``root``; (403 | 404, None) else.

    Refused (403): `..` or hidden segments (after %-decoding), NUL or backslash, and any path
    whose real location (symlinks followed) is outside ``root``. A folder serves its index.html.
    """
    path = urllib.parse.unquote(urllib.parse.urlsplit(request_path).path)
    if "\x00" in path or "\\" in path:
        return 403, None
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if any(p == ".." or p.startswith(".") for p in parts):
        return 403, None
    target = root.joinpath(*parts)
    try:
        real = target.resolve(strict=True)
    except (FileNotFoundError, NotADirectoryError, RuntimeError):
        return 404, None
    if not real.is_relative_to(root):
        return 403, None
    if real.is_dir():
        real = (real / "index.html").resolve()
        if not real.is_relative_to(root):
            return 403, None
    return (200, real) if real.is_file() else (404, None)


def byte_range(header: str | None, size: int) -> tuple[int, int] | str | None:
    """[start, stop) of a single `Range: bytes=a-b` / `a-` / `-n` header; None to send the whole
    file (no header, or a form this server does not split, e.g. several ranges); "unsatisfiable"."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, _, last = header[len("bytes="):].strip().partition("-")
    try:
        if first == "":
            start, stop = max(0, size - int(last)), size
        else:
            start, stop = int(first), (min(int(last) + 1, size) if last else size)
    except ValueError:
        return None
    if start >= size or start >= stop:
        return "unsatisfiable"
    return start, stop


def store_response(kit: Kit, obj: dict) -> tuple[int, dict]:
    """Write a validated session to <responses>/<session_id>.json; never replace another one."""
    name = f"{obj['session_id']}.json"  # a validated lowercase UUID4: a safe file name
    target = kit.responses / name
    with kit.lock:
        if target.exists():
            try:
                same = json.loads(target.read_text(encoding="utf-8")) == obj
            except (OSError, UnicodeDecodeError, json.JSONDecodeError):
                same = False
            if same:
                return 200, {"stored": name, "duplicate": True}
            return 409, {"error": f"session {obj['session_id']}: already stored with other content"}
        write_json(target, obj)
    return 201, {"stored": name}


def serve(kit_dir: str | Path, port: int, host: str = "127.0.0.1", responses_dir: str | Path | None = None,
          quiet: bool = False) -> int:
    """Serve until Ctrl-C; print the URL first. Returns the exit code."""
    kit = load_kit(kit_dir, responses_dir)
    try:
        server = KitServer(kit, host, port, quiet=quiet)
    except OSError as exc:
        raise LiveBandError(f"--host {host} --port {port}: cannot listen ({exc.strerror or exc})") from exc
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"note: listening on {host}: reachable from other machines", flush=True)
    print(f"listening test: {server.url}  (kit {kit.root}; responses -> {kit.responses}; Ctrl-C stops)",
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped", flush=True)
    finally:
        server.server_close()
    return 0
