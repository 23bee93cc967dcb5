"""Download machinery against a real HTTP server on 127.0.0.1 (ephemeral port)."""

from __future__ import annotations

import hashlib
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from trainfree.data.fetch import ASSETS, Asset, fetch, get_asset, register_asset, verify_file
from trainfree.errors import TrainfreeError

PAYLOAD = bytes(range(256)) * 400  # 102,400 bytes
SHA = hashlib.sha256(PAYLOAD).hexdigest()
MD5 = hashlib.md5(PAYLOAD).hexdigest()


class _Server:
    """Serves PAYLOAD under several behaviours; records the Range header of each request."""

    def __init__(self) -> None:
        self.ranges: list[str | None] = []
        self.truncate_first = 1  # /flaky truncates this many responses
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server API)
                outer.ranges.append(self.headers.get("Range"))
                path = self.path
                if path not in ("/good", "/flaky", "/short", "/wrong"):
                    self.send_error(404, "Not Found")
                    return
                body = PAYLOAD
                if path == "/wrong":
                    body = bytes(len(PAYLOAD))  # right size, wrong bytes
                start = 0
                rng = self.headers.get("Range")
                if rng and rng.startswith("bytes="):
                    start = int(rng[6:].split("-")[0])
                    if start >= len(body):
                        self.send_response(416)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                rest = body[start:]
                self.send_header("Content-Length", str(len(rest)))
                self.end_headers()
                cut = path == "/short" or (path == "/flaky" and outer.truncate_first > 0)
                if cut:
                    outer.truncate_first -= 1
                    self.wfile.write(rest[: len(rest) // 3])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.wfile.write(rest)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture()
def server():
    s = _Server()
    s.thread.start()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()


def _asset(url: str, name: str = "fixture-blob", **kw: object) -> Asset:
    fields = dict(name=name, filename="blob.bin", urls=(url,), size=len(PAYLOAD), sha256=SHA,
                  md5=MD5, description="test fixture")
    fields.update(kw)
    return Asset(**fields)


def test_good_download(server, tmp_path):
    out = fetch(_asset(server.url("/good")), tmp_path, backoff_s=0)
    assert out == tmp_path / "blob.bin"
    assert out.read_bytes() == PAYLOAD
    assert not (tmp_path / "blob.bin.part").exists()


def test_truncated_response_resumes(server, tmp_path):
    out = fetch(_asset(server.url("/flaky")), tmp_path, retries=3, backoff_s=0)
    assert out.read_bytes() == PAYLOAD
    assert server.ranges[0] is None and server.ranges[1] == f"bytes={len(PAYLOAD) // 3}-"


def test_always_truncated_fails_and_keeps_part(server, tmp_path):
    with pytest.raises(TrainfreeError) as e:
        fetch(_asset(server.url("/short")), tmp_path, retries=2, backoff_s=0)
    msg = str(e.value)
    assert "\n" not in msg and "blob.bin" in msg and SHA in msg and str(tmp_path / "blob.bin") in msg
    assert not (tmp_path / "blob.bin").exists()
    assert (tmp_path / "blob.bin.part").exists()  # incomplete bytes kept only for resuming


def test_wrong_checksum_is_deleted(server, tmp_path):
    with pytest.raises(TrainfreeError, match="failed verification") as e:
        fetch(_asset(server.url("/wrong")), tmp_path, backoff_s=0)
    assert SHA in str(e.value)
    assert not (tmp_path / "blob.bin").exists() and not (tmp_path / "blob.bin.part").exists()


def test_md5_only_asset_is_verified(server, tmp_path):
    ok = fetch(_asset(server.url("/good"), sha256=None), tmp_path, backoff_s=0)
    assert ok.read_bytes() == PAYLOAD
    bad = _asset(server.url("/good"), name="fixture-md5", filename="other.bin", sha256=None, md5="0" * 32)
    with pytest.raises(TrainfreeError, match="md5 0{32}"):
        fetch(bad, tmp_path, backoff_s=0)
    assert not (tmp_path / "other.bin").exists()


def test_http_404(server, tmp_path):
    with pytest.raises(TrainfreeError, match="HTTP 404"):
        fetch(_asset(server.url("/missing")), tmp_path, retries=3, backoff_s=0)
    assert len(server.ranges) == 1  # a 404 is not retried


def test_resume_partial(server, tmp_path):
    (tmp_path / "blob.bin.part").write_bytes(PAYLOAD[:5000])
    out = fetch(_asset(server.url("/good")), tmp_path, backoff_s=0)
    assert out.read_bytes() == PAYLOAD
    assert server.ranges == ["bytes=5000-"]


def test_resume_of_corrupt_partial_restarts(server, tmp_path):
    (tmp_path / "blob.bin.part").write_bytes(b"\xff" * 5000)  # wrong bytes: fails the checksum
    out = fetch(_asset(server.url("/good")), tmp_path, backoff_s=0)
    assert out.read_bytes() == PAYLOAD
    assert server.ranges == ["bytes=5000-", None]


def test_preplaced_file_accepted_without_network(tmp_path):
    (tmp_path / "blob.bin").write_bytes(PAYLOAD)
    out = fetch(_asset("http://127.0.0.1:9/never-contacted"), tmp_path, retries=1, backoff_s=0)
    assert out == tmp_path / "blob.bin"


def test_preplaced_bad_file_is_moved_aside(tmp_path):
    (tmp_path / "blob.bin").write_bytes(PAYLOAD[:-1] + b"x")
    with pytest.raises(TrainfreeError, match="rejected"):
        fetch(_asset(_refused_url()), tmp_path, retries=1, backoff_s=0)
    assert not (tmp_path / "blob.bin").exists()
    assert (tmp_path / "blob.bin.rejected").exists()


def _refused_url() -> str:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there any more: connection refused
    return f"http://127.0.0.1:{port}/blob.bin"


def test_offline_message(tmp_path):
    root = tmp_path / "data"
    with pytest.raises(TrainfreeError) as e:
        fetch(_asset(_refused_url()), root, retries=2, backoff_s=0)
    msg = str(e.value)
    assert "\n" not in msg
    assert "no connection" in msg and "blob.bin" in msg and f"sha256 {SHA}" in msg
    assert f"at {root / 'blob.bin'}" in msg
    assert not (root / "blob.bin").exists()


def test_url_override(server, tmp_path):
    out = fetch(_asset(_refused_url()), tmp_path, url_override=server.url("/good"), backoff_s=0)
    assert out.read_bytes() == PAYLOAD


def test_register_asset_and_fetch_by_name(server, tmp_path):
    a = register_asset(_asset(server.url("/good"), name="fixture-registered"), replace=True)
    try:
        assert get_asset("fixture-registered") is a
        assert fetch("fixture-registered", tmp_path, backoff_s=0).read_bytes() == PAYLOAD
        with pytest.raises(TrainfreeError, match="already registered"):
            register_asset(_asset(server.url("/other"), name="fixture-registered"))
    finally:
        ASSETS.unregister("fixture-registered")


def test_user_placed_benchmark_message(tmp_path):
    with pytest.raises(TrainfreeError) as e:
        fetch("nb201-v1_1", tmp_path / "empty")
    msg = str(e.value)
    assert "NAS-Bench-201-v1_1-096897.pth" in msg and "no public stable URL" in msg and "hash suffix 096897" in msg
    assert str(tmp_path / "empty" / "NAS-Bench-201-v1_1-096897.pth") in msg
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "NAS-Bench-201-v1_1-096897.pth").write_bytes(b"placeholder")
    assert fetch("nb201-v1_1", tmp_path / "empty").name == "NAS-Bench-201-v1_1-096897.pth"


def test_folder_asset_and_archive(tmp_path):
    import tarfile

    with pytest.raises(TrainfreeError, match="meta.pickle.pbz2"):
        fetch("nats-tss", tmp_path)
    src = tmp_path / "src" / "NATS-tss-v1_0-3ffb9-simple"
    src.mkdir(parents=True)
    (src / "meta.pickle.pbz2").write_bytes(b"x")
    with tarfile.open(tmp_path / "NATS-tss-v1_0-3ffb9-simple.tar", "w") as tar:
        tar.add(src, arcname="NATS-tss-v1_0-3ffb9-simple")
    out = fetch("nats-tss", tmp_path)
    assert (out / "meta.pickle.pbz2").is_file()


def test_real_assets_table():
    c10 = get_asset("cifar10")
    assert c10.md5 == "c58f30108f718f92721af3b95e74349a" and c10.size == 170498071
    assert get_asset("cifar100").md5 == "eb9058c3a382ffc7106e4002c42a8d85"
    for name in ("nb201-v1_1", "nb201-v1_0", "nats-tss", "imagenet16-120"):
        a = get_asset(name)
        assert a.urls == () and a.sha256 is None and a.how_to_get


def test_verify_file_reports(tmp_path):
    p = tmp_path / "x.bin"
    p.write_bytes(PAYLOAD[:10])
    assert "size 10 bytes" in verify_file(_asset("http://x"), p)
    assert verify_file(_asset("http://x"), tmp_path / "nope") == "file missing"
    p.write_bytes(PAYLOAD)
    assert verify_file(_asset("http://x"), Path(p)) is None


def test_cli_fetch_offline_message(tmp_path, capsys):
    import argparse

    from trainfree.cli.benchmarks import register

    parser = argparse.ArgumentParser(prog="trainfree")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["fetch", "nb201-v1_1", "--root", str(tmp_path / "empty")])
    assert args.func(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "NAS-Bench-201-v1_1-096897.pth" in err
    args = parser.parse_args(["fetch", "cifar10", "--root", str(tmp_path), "--url", _refused_url(),
                              "--retries", "1"])
    assert args.func(args) == 2
    err = capsys.readouterr().err
    assert "no connection" in err and "md5 c58f30108f718f92721af3b95e74349a" in err
    assert "sha256 6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce" in err


def test_swap_asset_pinned_and_verified(server, tmp_path):
    """SWAP's DARTS CSV is not bundled (no licence stated): it is fetched from a commit-pinned URL
    and kept only when its size and SHA-256 match; other bytes never get its name."""
    a = get_asset("swap-darts")
    assert re.search(r"/pym1024/SWAP/[0-9a-f]{40}/datasets/DARTS_archs_CIFAR10\.csv$", a.urls[0])
    assert a.size == 423_509 and re.fullmatch(r"[0-9a-f]{64}", a.sha256)
    with pytest.raises(TrainfreeError) as e:
        fetch("swap-darts", tmp_path, url_override=server.url("/good"), retries=1, backoff_s=0)
    assert str(e.value).count("\n") == 0 and a.sha256 in str(e.value)
    assert not (tmp_path / a.filename).exists()
