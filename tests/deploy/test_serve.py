"""deploy/serve.sh: sticky sessions through HAProxy, uploads refused cleanly, XSRF on, and every
process it started stopped by Ctrl-C or SIGTERM."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import tomllib
import uuid
from http.cookies import SimpleCookie
from pathlib import Path

import pytest

from bench.wsclient import Session

from .proxy import ROOT, SERVE, Served, needs_haproxy, run_async

MAX_UPLOAD_MB = 128


def set_cookies(headers) -> dict[str, str]:
    jar = SimpleCookie()
    for value in headers.get_all("Set-Cookie") or ():
        jar.load(value)
    return {name: morsel.value for name, morsel in jar.items()}


def alive(pid: int) -> bool:
    """True while ``pid`` is a running (not zombie) process."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@needs_haproxy
def test_new_visitors_are_spread_over_the_replicas_and_each_stays_on_its_own(proxy):
    first = {}
    for _ in range(6):
        status, headers, body = proxy.get("/")
        assert status == 200 and b"<html" in body.lower()
        replica = headers["X-Normviz-Replica"]
        assert set_cookies(headers)["SRV"] == replica  # the sticky cookie names the replica that answered
        first.setdefault(replica, 0)
        first[replica] += 1
    assert set(first) == {"r1", "r2"}, first
    for name in ("r1", "r2"):
        for path in ("/", "/_stcore/health", "/_stcore/host-config"):
            status, headers, _ = proxy.get(path, cookies={"SRV": name})
            assert status == 200 and headers["X-Normviz-Replica"] == name
            assert "SRV" not in set_cookies(headers)  # already stuck: not set again


@needs_haproxy
def test_a_cookie_naming_no_replica_gets_a_working_page(proxy):
    status, headers, _ = proxy.get("/", cookies={"SRV": "r9"})
    assert status == 200 and set_cookies(headers)["SRV"] in {"r1", "r2"}


def multipart(name: str, data: bytes) -> tuple[str, bytes]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{name}"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return f"multipart/form-data; boundary={boundary}", body


def put(proxy: Served, path: str, headers: dict, body: bytes | None = None, length: int | None = None):
    """PUT through the proxy; with ``length`` instead of ``body``, send that many zero bytes in chunks
    (stopping if the server answers early). Returns (status, body text)."""
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=60)
    conn.putrequest("PUT", path)
    size = len(body) if body is not None else length
    for key, value in {**headers, "Content-Length": str(size)}.items():
        conn.putheader(key, value)
    conn.endheaders()
    try:
        if body is not None:
            conn.send(body)
        else:
            chunk = bytes(2**20)
            for _ in range(size // len(chunk)):
                conn.send(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass  # refused before the body was read: the answer is waiting
    response = conn.getresponse()
    text = response.read().decode(errors="replace")
    conn.close()
    return response.status, text


@needs_haproxy
def test_uploads_need_the_xsrf_token_a_live_session_and_at_most_max_upload_size(proxy):
    kind, body = multipart("tiny.png", b"\x89PNG not really")

    async def scenario():
        live = await Session.open(proxy.url)
        try:
            # as the browser does, read the health check for the XSRF cookie (on the session's replica)
            _, headers, _ = proxy.get("/_stcore/health", cookies=live.cookies)
            cookies = {**live.cookies, **set_cookies(headers)}
            assert set(cookies) == {"SRV", "_streamlit_xsrf"}
            token = cookies["_streamlit_xsrf"]
            jar = "; ".join(f"{k}={v}" for k, v in cookies.items())
            good = {"Cookie": jar, "X-Xsrftoken": token, "Content-Type": kind}
            path = f"/_stcore/upload_file/{live.session_id}/{uuid.uuid4().hex}"
            results = {
                "ok": put(proxy, path, good, body),
                "no token": put(proxy, path, {"Cookie": jar, "Content-Type": kind}, body),
                "wrong token": put(proxy, path, {**good, "X-Xsrftoken": token + "x"}, body),
                "unknown session": put(proxy, f"/_stcore/upload_file/{uuid.uuid4()}/f1", good, body),
                "too large": put(proxy, path, good, length=(MAX_UPLOAD_MB + 1) * 2**20),
            }
            after = await live.rerun()  # the session still works after the refusals
            return results, after
        finally:
            await live.close()

    results, after = run_async(scenario())
    assert results["ok"][0] in (200, 204), results["ok"]
    assert results["no token"][0] == 403, results["no token"]
    assert results["wrong token"][0] == 403, results["wrong token"]
    assert results["unknown session"][0] == 400 and "Invalid session_id" in results["unknown session"][1]
    assert results["too large"][0] == 413, results["too large"]
    assert after.errors == []


def test_the_config_keeps_xsrf_protection_and_the_upload_cap():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"].get("enableXsrfProtection", True) is True
    assert config["server"]["maxUploadSize"] == MAX_UPLOAD_MB
    from normviz.inputs import MAX_UPLOAD_MB as app_cap

    assert app_cap == MAX_UPLOAD_MB


@needs_haproxy
@pytest.mark.parametrize("sig, replicas", [(signal.SIGTERM, 2), (signal.SIGINT, 1)], ids=["SIGTERM", "Ctrl-C"])
def test_a_signal_stops_every_process_serve_sh_started(sig, replicas):
    served = Served(replicas)
    haproxy_pid = int(served.wait_for("haproxy pid", 5).split("haproxy pid ")[1].split(";")[0])
    pids = [*served.pids(), haproxy_pid]
    ports = [port for _, port in served.replicas.values()] + [served.port]
    rundir = served.rundir
    assert len(pids) == replicas + 1 and all(alive(pid) for pid in pids)
    assert rundir is not None and rundir.is_dir()
    assert served.stop(sig, timeout=30) == 0
    assert [pid for pid in pids if alive(pid)] == [], served.output()
    assert [port for port in ports if listening(port)] == []
    assert not rundir.exists(), "the temporary config and logs are removed"


def run_serve(*args: str, env: dict) -> subprocess.CompletedProcess:
    environ = {**os.environ, "PYTHON": sys.executable, **env}
    return subprocess.run(
        ["bash", str(SERVE), *args], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60
    )


def test_without_haproxy_serve_sh_says_how_to_get_it():
    result = run_serve("--replicas", "2", env={"HAPROXY": "/nonexistent/haproxy"})
    assert result.returncode == 1
    assert "haproxy is not installed" in result.stderr and "apt-get install haproxy" in result.stderr


def test_bad_arguments_and_a_busy_port_are_explained():
    env = {"HAPROXY": "/bin/true"}
    result = run_serve("--replicas", "zero", env=env)
    assert result.returncode == 2 and "--replicas must be a whole number from 1 to 64; got 'zero'" in result.stderr
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_serve("--port", str(port), "--address", "127.0.0.1", env=env)
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr and "choose another --port" in result.stderr
    result = run_serve("--replicas", "1", env={**env, "NORMVIZ_MEMORY_MB": "lots"})
    assert result.returncode == 2
    assert "NORMVIZ_MEMORY_MB='lots' is not a memory budget; set it to a positive number" in result.stderr
