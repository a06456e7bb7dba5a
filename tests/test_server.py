"""``mapapp serve`` on a shared team server: idle and half-sent connections lock no one out.

Waitress reads requests in its event loop, so an idle or half-sent connection
holds a connection slot, not a thread; with waitress's default limit of 100,
a hundred such sockets left every new reader waiting in the kernel's queue.
These tests hold more than that open against a real ``python -m mapapp serve``
and check that a new client is still answered, that a stuck connection is
closed after ``MAPAPP_CHANNEL_TIMEOUT``, and that the server settings are
checked.  How fast, and under a crowd, is ``benchmarks/load.py``'s job.
"""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from helpers import assert_one_line_failure, free_port, isolated_env, run_mapapp, start_mapapp

from mapapp.errors import ConfigError
from mapapp.settings import load_settings
from mapapp.web import server

HALF_A_REQUEST = b"GET /api/stats HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: appl"


@contextmanager
def mapapp_serving(tmp_path: Path, **settings: str) -> Iterator[int]:
    """A real ``python -m mapapp serve`` on a free loopback port; yields the port."""
    port = free_port()
    env = isolated_env(MAPAPP_CACHE_DIR=str(tmp_path / "cache"), **settings)
    process = start_mapapp(
        "serve", "--store", str(tmp_path / "s.gpkg"), "--port", str(port), env=env
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"mapapp serve did not start: {process.communicate()}")
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def stats(port: int, timeout: float) -> dict:
    """GET /api/stats on a new connection; the JSON body (raises if it does not answer)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", "/api/stats")
        response = conn.getresponse()
        assert response.status == 200
        return json.loads(response.read())
    finally:
        conn.close()


def test_a_new_client_is_answered_past_150_idle_and_half_sent_connections(tmp_path):
    with mapapp_serving(tmp_path) as port, ExitStack() as held:
        assert stats(port, timeout=30)["articles"] == 0  # the app is warm
        for i in range(150):  # more than waitress's old default limit of 100
            sock = held.enter_context(socket.create_connection(("127.0.0.1", port), timeout=5))
            if i % 3 == 0:
                sock.sendall(HALF_A_REQUEST)
        assert stats(port, timeout=10)["articles"] == 0


def test_a_half_sent_request_is_closed_after_the_channel_timeout(tmp_path):
    with mapapp_serving(tmp_path, MAPAPP_CHANNEL_TIMEOUT="2") as port:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=15) as stuck,
            socket.create_connection(("127.0.0.1", port), timeout=15) as idle,
        ):
            start = time.monotonic()
            stuck.sendall(HALF_A_REQUEST)
            assert stuck.recv(1024) == b""  # closed by the server, nothing answered
            assert idle.recv(1024) == b""
            waited = time.monotonic() - start
        assert 1.5 <= waited < 10, waited
        assert stats(port, timeout=10)["articles"] == 0  # and it still serves


def test_keep_alive_connections_in_use_are_not_cut(tmp_path):
    with mapapp_serving(tmp_path, MAPAPP_CHANNEL_TIMEOUT="2") as port:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for _ in range(4):  # 4 s in all, one request a second on one connection
            conn.request("GET", "/api/stats")
            response = conn.getresponse()
            assert response.status == 200 and not response.will_close
            response.read()
            time.sleep(1)
        sock = conn.sock
        conn.request("GET", "/api/stats")
        assert conn.getresponse().read() and conn.sock is sock  # still the same connection
        conn.close()


def test_serve_hands_waitress_the_settings_and_says_so(tmp_path, monkeypatch, capsys):
    import waitress

    from mapapp.web import create_app

    env = {"MAPAPP_THREADS": "5", "MAPAPP_CONNECTION_LIMIT": "300", "MAPAPP_CHANNEL_TIMEOUT": "9"}
    app = create_app(load_settings({"STORE": str(tmp_path / "s.gpkg")}, environ=env))
    calls = []
    monkeypatch.setattr(waitress, "serve", lambda *a, **kw: calls.append(kw))
    server.serve(app, "127.0.0.1", 5000)
    (options,) = calls
    assert (options["threads"], options["connection_limit"], options["channel_timeout"]) == (
        5,
        300,
        9,
    )
    out = capsys.readouterr().out
    assert "5 threads, up to 300 connections, idle ones closed after 9 s" in out


def test_the_waitress_options_keep_slots_for_idle_clients(monkeypatch):
    monkeypatch.setattr(server, "open_file_limit", lambda wanted: wanted)
    options = server.plan_server(load_settings(environ={}), 16 * 1024).waitress_options()
    assert options["connection_limit"] == 1000 and options["channel_timeout"] == 15
    assert options["connection_limit"] > 10 * options["threads"]
    assert options["asyncore_use_poll"] is True  # select() cannot watch descriptor 1024
    assert options["cleanup_interval"] <= options["channel_timeout"]
    assert options["channel_request_lookahead"] == 0
    assert options["max_request_body_size"] == 16 * 1024


@pytest.mark.parametrize(
    ("setting", "cpus", "threads"), [(0, 1, 4), (0, 2, 4), (0, 4, 8), (0, 64, 12), (6, 64, 6)]
)
def test_thread_count_follows_the_cores_within_bounds(setting, cpus, threads):
    assert server.thread_count(setting, cpus) == threads


def test_the_connection_limit_is_fitted_to_the_open_file_limit(monkeypatch, capsys):
    monkeypatch.setattr(server, "open_file_limit", lambda wanted: 164)
    plan = server.plan_server(load_settings(environ={}), 16 * 1024)
    assert plan.connection_limit == (164 - server.SPARE_FDS) // server.FDS_PER_CONNECTION
    assert "fits 50 connections, not MAPAPP_CONNECTION_LIMIT=1000" in capsys.readouterr().err


def test_open_file_limit_is_raised_toward_the_hard_limit():
    resource = pytest.importorskip("resource")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        got = server.open_file_limit(soft + 1 if hard == resource.RLIM_INFINITY else hard)
        assert got == resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= soft
        assert server.open_file_limit(1) == 1  # already enough: nothing is lowered
        assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] == got
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [("THREADS", "8", 8), ("CONNECTION_LIMIT", "2000", 2000), ("CHANNEL_TIMEOUT", "30", 30)],
)
def test_server_settings_from_the_environment(name, raw, expected):
    assert getattr(load_settings(environ={f"MAPAPP_{name}": raw}), name.lower()) == expected


@pytest.mark.parametrize(
    ("name", "raw", "words"),
    [
        ("THREADS", "-1", "MAPAPP_THREADS expects a whole number of 0 or more, got '-1'"),
        ("CONNECTION_LIMIT", "0", "MAPAPP_CONNECTION_LIMIT expects a whole number of 1 or more"),
        ("CHANNEL_TIMEOUT", "0", "MAPAPP_CHANNEL_TIMEOUT expects a whole number of 1 or more"),
        ("CHANNEL_TIMEOUT", "2.5", "MAPAPP_CHANNEL_TIMEOUT expects a whole number, got '2.5'"),
        ("CONNECTION_LIMIT", "many", "MAPAPP_CONNECTION_LIMIT expects a whole number"),
    ],
)
def test_bad_server_settings_stop_with_a_sentence(name, raw, words):
    with pytest.raises(ConfigError, match=words):
        load_settings(environ={f"MAPAPP_{name}": raw})


def test_mapapp_serve_refuses_a_bad_server_setting_in_one_line(tmp_path):
    env = isolated_env(MAPAPP_CONNECTION_LIMIT="0")
    result = run_mapapp("serve", "--store", str(tmp_path / "s.gpkg"), env=env)
    assert_one_line_failure(result.returncode, result.stderr, naming="MAPAPP_CONNECTION_LIMIT")
