"""Browser test fixtures: Debian's Chromium driven by Playwright (never a downloaded browser; pytest-playwright's
session-wide fixtures are not used), and the real web app served by uvicorn (``mcc web``) in its own process
on a free port, over a demo world in a temporary MCC_HOME.

No Chromium: the tests are skipped, except under CI (CI=true), where that is a failure
(``scripts/test.sh`` installs Debian's ``chromium`` package with apt-get when it is missing).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from knowledge.onnx_embedding import default_cache_dir

CHROMIUM = Path(os.environ.get("MCC_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[4] / "test-artifacts" / "browser"
PASSWORD = "browser-test-password"
START_TIMEOUT_S = 180  # a first run on a new machine exports the embedding model to ONNX once


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, for one test module. Module-scoped on purpose: Playwright's sync API runs an
    event loop in this thread while it is started, and tests after this module call ``asyncio.run``."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: install Debian's chromium package (scripts/ensure_chromium.sh)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go (gitignored; CI keeps the directory as an artifact)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@dataclass(frozen=True)
class Server:
    url: str
    home: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare_home(home: Path) -> None:
    """The demo world (spine, Workfront and Asana sandboxes) and a password for two demo users."""
    from argon2 import PasswordHasher

    from mcc.demo_world import load_demo_world
    from mcc.settings import Settings
    from mcc.wiring import open_app
    from spine.repositories import open_store
    from spine.repositories.credentials import CredentialRepository

    # the ONNX export of the embedding model and the trained intent weights survive across runs (seconds each)
    shared = default_cache_dir() / "web-browser-tests"
    shared.mkdir(parents=True, exist_ok=True)
    (home / "cache").symlink_to(shared, target_is_directory=True)
    hashed = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    with open_app(Settings(home=home)) as app:
        load_demo_world(app)
        with open_store(app.sessions, "acme") as store:
            creds = CredentialRepository(store.session, "acme")
            for user in ("maya.chen", "dana.reyes"):
                creds.set_password_hash(user, hashed)


@pytest.fixture(scope="session")  # one server for every browser test module (its start costs seconds)
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``mcc web`` on a free loopback port; stopped when the test session ends (its log is under the home)."""
    home = tmp_path_factory.mktemp("mcc-web-home")
    # in a thread: Playwright's sync API already runs an event loop in this one, and seeding runs its own
    with ThreadPoolExecutor(1) as pool:
        pool.submit(_prepare_home, home).result()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCC_") and k != "ANTHROPIC_API_KEY"}
    # every write is proposed first, so the browser test also answers a proposal with its button
    env.update(MCC_HOME=str(home), MCC_CONFIRM_WRITES="always", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               PYTHONUNBUFFERED="1", MCC_WEB_SESSION_SECRET="b" * 40)  # fmt: skip
    log = (home / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "mcc", "web", "--port", str(port)], env=env, stdout=log,
                            stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                with urllib.request.urlopen(url + "/login", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("mcc web did not start: " + (home / "server.log").read_text()[-3000:])
            time.sleep(0.25)
        yield Server(url, home)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)  # the server's log beside the screenshots, for a failed run
        (ARTIFACTS / "server.log").write_text((home / "server.log").read_text())
