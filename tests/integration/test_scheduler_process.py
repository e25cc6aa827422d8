"""The scheduler process stops cleanly: `creditdesk demo` and service managers send it SIGINT and
SIGTERM, sometimes both at once, and neither may end in a traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path) -> dict[str, str]:
    return dict(os.environ, CREDITDESK_INSTANCE=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")


def _wait_for(log: Path, text: str, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while text not in log.read_text():
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)


def test_a_second_signal_while_stopping_prints_no_traceback(tmp_path):
    env = _env(tmp_path)
    subprocess.run([sys.executable, "-m", "app.cli", "init-db"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=60)
    log = tmp_path / "scheduler.log"
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "app.cli", "scheduler"], cwd=ROOT, env=env,
                                   stdout=out, stderr=subprocess.STDOUT)
        try:
            _wait_for(log, "Scheduler started", process)
            # What Ctrl-C under `make demo` did: the terminal's SIGINT, then the demo's SIGTERM.
            process.send_signal(signal.SIGINT)
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    output = log.read_text()
    assert "Traceback" not in output
    assert "SchedulerNotRunningError" not in output
    assert "scheduler stopped" in output
