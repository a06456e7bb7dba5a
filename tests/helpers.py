"""Helpers the test modules share: mapapp run as users run it, a live server, missing data.

* ``run_mapapp`` / ``start_mapapp`` run ``python -m mapapp`` in a subprocess
  (from the project folder), ``run_main`` runs the console-script entry point
  in-process; ``subprocess_env`` / ``isolated_env`` keep the developer's own
  mapapp settings out of them.
* ``serving`` serves a WSGI app on a free loopback port; ``free_port`` finds one.
* ``skip_or_fail`` is how a fixture says that something it needs is not
  installed: a skip on a developer's machine, a failure under CI (``CI=true``),
  which must run every test.  ``installed_data_packages``, ``installed_outlines``
  and ``installed_model`` are the data fixtures' checks.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any, NoReturn

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Settings from the developer's shell that would point a test at the wrong store
# or send it online.
AMBIENT = ("MAPAPP_STORE", "MAPAPP_GEOCODER", "MAPAPP_GEOCODER_OPTIONS", "MAPAPP_CORRECTIONS")


# ------------------------------------------------------------------ missing data


def under_ci() -> bool:
    """True when the tests run in CI (``CI=true``), where nothing may be skipped for want
    of installed data."""
    return os.environ.get("CI", "").lower() == "true"


def skip_or_fail(reason: str, *, needed_by: str = "these tests") -> NoReturn:
    """Skip the test because ``reason`` (which names what to install); fail under CI."""
    if under_ci():
        pytest.fail(f"{reason}: CI must run {needed_by}", pytrace=False)
    pytest.skip(f"{reason} ({needed_by} skipped)")


def installed_data_packages(folder: str | Path) -> Path:
    """``folder`` when it holds the gazetteer's npm package; `skip_or_fail` when not."""
    from mapapp.recognition.gazetteer_sources import CITIES_FILE

    folder = Path(folder)
    if not (folder / CITIES_FILE).exists():
        skip_or_fail(
            f"{folder / CITIES_FILE} not found: run 'npm ci' in the project folder "
            "or set MAPAPP_DATA_PACKAGES",
            needed_by="the gazetteer tests",
        )
    return folder


def installed_outlines(folder: str | Path) -> Path:
    """The world-atlas countries file under ``folder``; `skip_or_fail` when it is absent."""
    from mapapp.maps.outlines import find_outlines

    found = find_outlines(folder)
    if found is None:
        skip_or_fail(
            f"world-atlas is not installed under {folder} (run npm ci or set MAPAPP_DATA_PACKAGES)",
            needed_by="the basemap tests",
        )
    return found


def installed_model(name: str) -> Any:
    """The spaCy pipeline ``name`` (a NerModel); `skip_or_fail` when it is not installed."""
    from mapapp.recognition.toponyms import load_ner

    model = load_ner(name)
    if model is None:
        skip_or_fail(
            f"spaCy model {name!r} is not installed (pip install -r requirements.txt)",
            needed_by="the spaCy recognition tests",
        )
    return model


# ------------------------------------------------------------------ running mapapp


def subprocess_env(**settings: str) -> dict[str, str]:
    """os.environ without the ambient mapapp settings (`AMBIENT`), plus ``settings``."""
    env = {k: v for k, v in os.environ.items() if k not in AMBIENT}
    return {**env, **settings}


def isolated_env(**settings: str) -> dict[str, str]:
    """os.environ without any ``MAPAPP_*`` variable, plus ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAPAPP_")}
    return {**env, **settings}


def run_mapapp(
    *args: str, env: dict[str, str], input: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``python -m mapapp ARGS`` from the project folder, to the end; output as UTF-8 text."""
    return subprocess.run(
        [sys.executable, "-m", "mapapp", *args],
        input=input,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=ROOT,
        timeout=timeout,
        check=False,
    )


def start_mapapp(*args: str, env: dict[str, str], **popen: Any) -> subprocess.Popen[str]:
    """``python -m mapapp ARGS`` started from the project folder, stdout and stderr piped."""
    return subprocess.Popen(
        [sys.executable, "-m", "mapapp", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def run_main(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> SimpleNamespace:
    """Run the console-script entry point in-process; its exit code, stdout and stderr."""
    from mapapp.cli import main

    for name in AMBIENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "argv", ["mapapp", *args])
    try:
        main()
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    out, err = capsys.readouterr()
    return SimpleNamespace(exit_code=code, stdout=out, stderr=err)


def assert_one_line_failure(exit_code: int | None, stderr: str, *, naming: str) -> None:
    """Non-zero exit, no traceback, and exactly one ``Error: ...`` line, naming ``naming``."""
    assert exit_code != 0, stderr
    assert "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.lower().startswith("error")]
    assert len(errors) == 1 and errors[0].startswith("Error:"), stderr
    assert naming in errors[0], stderr


# ------------------------------------------------------------------ servers


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (at the moment of asking)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve ``app`` with werkzeug on a free loopback port; yields its base URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def without_root_powers(*args: str) -> list[str]:
    """A command line that cannot read or write what its permissions forbid, even as root.

    As root (CI), ``setpriv`` drops the capabilities that override file modes, so
    mode-000 files and read-only folders are tested for real instead of skipped.
    """
    if os.geteuid() != 0:
        return list(args)
    if shutil.which("setpriv") is None:
        pytest.fail("setpriv (util-linux) is needed to test permissions as root")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *args]
