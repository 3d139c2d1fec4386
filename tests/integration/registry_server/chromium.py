"""Drive a real headless Chromium over the DevTools protocol (on a pipe, no port).

    with Chromium.launch(tmp_path) as browser:
        browser.goto("http://127.0.0.1:8000/")
        browser.eval("document.title")
        browser.type_into("#q", "docker")

`--remote-debugging-pipe` makes Chromium read protocol messages from fd 3 and
write them to fd 4, each a JSON object ended by a NUL byte. `dump_dom(url)` is
the simpler `chromium --headless --dump-dom URL` (the DOM after scripts ran).
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--no-default-browser-check",
)


def find_chromium() -> str | None:
    override = os.environ.get("SKILLPM_CHROMIUM")
    if override:
        return override if Path(override).exists() else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def dump_dom(binary: str, url: str, profile: Path, *, timeout: float = 60) -> str:
    proc = subprocess.run(
        [binary, *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=5000", "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    if proc.returncode != 0:
        raise AssertionError(f"chromium --dump-dom failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc.stdout


class ProtocolError(Exception):
    pass


class Chromium:
    def __init__(self, binary: str, profile: Path, log: Path) -> None:
        cmd_r, cmd_w = os.pipe()  # we write commands; the browser reads fd 3
        out_r, out_w = os.pipe()  # the browser writes fd 4; we read

        def child() -> None:  # runs in the child between fork and exec
            a = fcntl.fcntl(cmd_r, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(out_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)  # dup2 makes inheritable copies
            os.dup2(b, 4)

        self._log = open(log, "wb")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe", "about:blank"],
            preexec_fn=child,  # noqa: PLW1509 - the test process starts no threads here
            close_fds=False,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=self._log,
        )
        os.close(cmd_r)
        os.close(out_w)
        self._w, self._r = cmd_w, out_r
        self._buf = b""
        self._next = 0
        self.events: list[dict] = []
        self.session: str | None = None
        self.log = log

    @classmethod
    def launch(cls, binary: str, workdir: Path) -> Chromium:
        workdir.mkdir(parents=True, exist_ok=True)
        browser = cls(binary, workdir / "profile", workdir / "chromium.log")
        try:
            target = browser.call("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
            browser.session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True}, session=False)["sessionId"]
            browser.call("Page.enable")
            browser.call("Runtime.enable")
        except BaseException:
            browser.close()
            raise
        return browser

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- the protocol ----------------------------------------------- #

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from chromium in time")
            ready, _, _ = select.select([self._r], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._r, 1 << 16)
            if not chunk:
                raise ProtocolError(f"chromium closed the pipe (exit {self.proc.poll()}); log: {self.log}")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, params: dict | None = None, *, session: bool = True, timeout: float = 30) -> dict:
        self._next += 1
        msg: dict = {"id": self._next, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            answer = self._read_message(deadline)
            if answer.get("id") == self._next:
                if "error" in answer:
                    raise ProtocolError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self.events.append(answer)

    # ---- helpers ---------------------------------------------------- #

    def eval(self, expression: str):  # noqa: ANN201
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            raise ProtocolError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def goto(self, url: str, *, timeout: float = 30) -> None:
        self.call("Page.navigate", {"url": url})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.eval("document.readyState") == "complete" and self.eval("location.href") == url:
                return
            time.sleep(0.05)
        raise TimeoutError(f"{url} did not finish loading")

    def type_into(self, selector: str, text: str, *, replace: bool = True) -> None:
        """Focus the field and type as a user would (input events fire)."""
        self.eval(f"(() => {{ const el = document.querySelector({json.dumps(selector)}); el.focus(); "
                  f"{'el.select();' if replace else ''} }})()")
        self.call("Input.insertText", {"text": text})

    def console_errors(self) -> list[str]:
        out = []
        for ev in self.events:
            if ev.get("method") == "Runtime.exceptionThrown":
                out.append(json.dumps(ev["params"]["exceptionDetails"])[:500])
        return out

    def close(self) -> None:
        try:
            if self.proc.poll() is None:
                try:
                    self.call("Browser.close", session=False, timeout=5)
                except Exception:  # noqa: BLE001 - closing anyway
                    pass
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=10)
        finally:
            for fd in (self._w, self._r):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self._log.close()
