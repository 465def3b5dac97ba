"""Starting and stopping real ``celery -A config worker`` processes for the worker tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

STARTUP_TIMEOUT = 60.0
T = TypeVar("T")


@dataclass
class WorkerProcess:
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        """SIGKILL the worker and its pool children: what a crashed machine or the OOM killer does."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # warm shutdown: finish the current task
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def database_url(settings_dict: dict[str, Any]) -> str:
    """The URL of the database this test process uses, for the worker to open the same one."""
    engine = settings_dict["ENGINE"]
    name = str(settings_dict["NAME"])
    if engine.endswith("sqlite3"):
        if name == ":memory:" or "mode=memory" in name:
            pytest.fail("The worker tests need a file SQLite test database (see DATABASES TEST NAME).")
        return f"sqlite:///{Path(name).resolve()}"
    if engine.endswith("postgresql"):
        user = quote(settings_dict.get("USER") or "", safe="")
        password = quote(settings_dict.get("PASSWORD") or "", safe="")
        auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        host = settings_dict.get("HOST") or ""
        port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
        return f"postgres://{auth}{host}{port}/{quote(name, safe='')}"
    pytest.skip(f"No worker test set-up for {engine}.")


def wait_for(check: Callable[[], T | None], timeout: float, what: str, worker: WorkerProcess | None) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        if worker is not None and worker.process.poll() is not None:
            pytest.fail(f"The worker exited ({worker.process.returncode}) while waiting for {what}:\n{worker.log()}")
        time.sleep(0.1)
    log = worker.log() if worker is not None else ""
    pytest.fail(f"Timed out after {timeout:.0f} s waiting for {what}. Worker log:\n{log}")


def start_worker(log_dir: Path, *, beat: bool = False, extra_env: dict[str, str] | None = None) -> WorkerProcess:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": database_url(connection.settings_dict),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CUSTODIA_TESTING": "1",  # the same broker folder (var/broker-test) as this process
            "CUSTODIA_VAR_DIR": str(settings.VAR_DIR),
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "LOG_LEVEL": "info",
            **(extra_env or {}),
        }
    )
    name = uuid.uuid4().hex[:8]
    log_path = log_dir / f"worker-{name}.log"
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--loglevel=INFO",
        "--pool=prefork",
        "--concurrency=1",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        f"--hostname=custodia-test-{name}@%h",
    ]
    if beat:
        command += ["--beat", f"--schedule={log_dir / f'beat-{name}'}"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    worker = WorkerProcess(process, log_path)
    wait_for(lambda: " ready." in worker.log(), STARTUP_TIMEOUT, "the worker to start", worker)
    return worker
