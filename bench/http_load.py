"""Load generator of the HTTP benchmark, run as a second process: ``python -m bench.http_load``.

It reads a JSON spec on standard input (written by bench/http.py), starts one
thread per client, and prints one JSON line of figures. Each client is a
phone: one cookie jar, one ``http.client`` connection (it reconnects when the
server closes it; gunicorn's sync workers close after every response), logged
in once through the login form (GET, CSRF token, POST), untimed. Then, all
clients start together and run until ``limit`` submissions were started or
``seconds`` passed:

- ``patrol``: GET the patrol form of the client's next elevator, fill it as an
  officer does when every item passes (the readings given in the spec), POST
  it as multipart/form-data exactly as a browser sends it (every field, empty
  file parts for the photos).
- ``patrol-post``: the same, but every client fetched its forms beforehand
  (untimed), so only the POSTs are timed.
- ``insert``: POST the baseline route ``/bench/insert``.

Only the product's success answers count: 302 to ``/records/<id>`` for a
patrol, 204 for the baseline. The caller checks the count against the rows
the database gained. Output: the line ``started`` when the timed part begins,
then one JSON line of figures.
"""

from __future__ import annotations

import http.client
import json
import re
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode

INSERT_PATH = "/bench/insert"
RECORD_LOCATION = re.compile(r"^(?:https?://[^/]+)?/records/\d+$")
FIRST_ERROR = re.compile(r'class="error"([^>]*)>\s*([^<]+)')
FIELD = re.compile(r'data-field="([^"]*)"')
#: What an officer ticks on a pass/fail item when it passes.
PASSED = "pass"
TIMEOUT_S = 120.0
SAMPLE_ERRORS = 5
#: The line printed when the timed part starts (logins and fetched forms are done).
STARTED = "started"


# --- the HTML form ---------------------------------------------------------------


@dataclass
class Control:
    """One form control as the page declares it."""

    tag: str
    kind: str
    name: str
    value: str = ""
    checked: bool = False
    options: list[tuple[str, bool]] = field(default_factory=list)


@dataclass
class Form:
    """A form of a page: where it posts, how it encodes, its controls in document order."""

    enctype: str
    controls: list[Control] = field(default_factory=list)

    def names(self) -> set[str]:
        return {control.name for control in self.controls}


class FormParser(HTMLParser):
    """Collect every form of a page with its controls (what a browser would submit)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: Control | None = None
        self._textarea: Control | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "form":
            self._form = Form(enctype=a.get("enctype") or "application/x-www-form-urlencoded")
            self.forms.append(self._form)
        elif self._form is None or "name" not in a:
            if tag == "option" and self._select is not None:
                self._select.options.append((a.get("value", ""), "selected" in a))
        elif tag == "input":
            self._form.controls.append(
                Control(
                    "input", a.get("type", "text"), a["name"], a.get("value", ""), "checked" in a
                )
            )
        elif tag == "select":
            self._select = Control("select", "select", a["name"])
            self._form.controls.append(self._select)
        elif tag == "textarea":
            self._textarea = Control("textarea", "textarea", a["name"])
            self._form.controls.append(self._textarea)

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def find_form(page: str, marker: str) -> Form:
    """Return the form of a page that holds a control named ``marker``."""
    parser = FormParser()
    parser.feed(page)
    for form in parser.forms:
        if marker in form.names():
            return form
    raise LookupError(f"no form with a field {marker!r} on the page")


Part = tuple[str, str | None]  # (name, value); value None is an empty file input


def _radio_choice(form: Form, name: str, typed: dict[str, str]) -> str | None:
    if name in typed:
        return typed[name]
    if name.endswith("__result"):
        return PASSED
    checked = [c.value for c in form.controls if c.name == name and c.checked]
    return checked[0] if checked else None


def _select_value(control: Control) -> str:
    chosen = [value for value, selected in control.options if selected]
    if chosen:
        return chosen[0]
    return control.options[0][0] if control.options else ""


def fill(form: Form, typed: dict[str, str]) -> list[Part]:
    """Return what a browser submits after the user typed ``typed`` and passed every item."""
    parts: list[Part] = []
    radios_done: set[str] = set()
    for control in form.controls:
        if control.kind in ("submit", "button", "reset", "image"):
            continue
        if control.kind == "radio":
            if control.name not in radios_done:
                radios_done.add(control.name)
                choice = _radio_choice(form, control.name, typed)
                if choice is not None:
                    parts.append((control.name, choice))
        elif control.kind == "checkbox":
            if control.checked:
                parts.append((control.name, control.value or "on"))
        elif control.kind == "file":
            parts.append((control.name, None))
        elif control.tag == "select":
            parts.append((control.name, typed.get(control.name, _select_value(control))))
        else:
            parts.append((control.name, typed.get(control.name, control.value)))
    return parts


def multipart(parts: list[Part]) -> tuple[bytes, str]:
    """Encode parts as multipart/form-data; an empty file input is sent as browsers send it."""
    boundary = f"----benchform{uuid.uuid4().hex}"
    chunks: list[bytes] = []
    for name, value in parts:
        chunks.append(f"--{boundary}\r\n".encode())
        if value is None:
            chunks.append(
                f'Content-Disposition: form-data; name="{name}"; filename=""\r\n'
                "Content-Type: application/octet-stream\r\n\r\n\r\n".encode()
            )
        else:
            chunks.append(
                f'Content-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
            )
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def encode(form: Form, parts: list[Part]) -> tuple[bytes, str]:
    """Encode a filled form the way its enctype says."""
    if form.enctype == "multipart/form-data":
        return multipart(parts)
    pairs = [(name, value or "") for name, value in parts]
    return urlencode(pairs).encode(), "application/x-www-form-urlencoded"


# --- one phone -------------------------------------------------------------------


@dataclass
class Answer:
    """A response as the load needs it."""

    status: int
    location: str
    body: str


class Browser:
    """One connection and one cookie jar: what a phone's browser keeps between requests."""

    def __init__(self, host: str, port: int) -> None:
        self.conn = http.client.HTTPConnection(host, port, timeout=TIMEOUT_S)
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, body: bytes | None = None, content_type: str | None = None
    ) -> Answer:
        headers = {"Accept": "text/html", "Accept-Language": "zh-CN,zh;q=0.9"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if content_type:
            headers["Content-Type"] = content_type
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except (http.client.HTTPException, OSError):
            self.conn.close()  # the next request opens a fresh connection
            raise
        self._keep_cookies(response.headers.get_all("Set-Cookie") or [])
        return Answer(
            response.status, response.getheader("Location", ""), data.decode("utf-8", "replace")
        )

    def _keep_cookies(self, headers: list[str]) -> None:
        for header in headers:
            jar: SimpleCookie = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)

    def log_in(self, login: str, password: str) -> None:
        """Log in through the login form; raise when the app does not redirect."""
        page = self.request("GET", "/login")
        form = find_form(page.body, "login")
        body, kind = encode(form, fill(form, {"login": login, "password": password}))
        answer = self.request("POST", "/login", body, kind)
        if answer.status != 302:
            raise RuntimeError(f"login of {login} answered {answer.status}")

    def patrol_form(self, elevator_id: int, typed: dict[str, str]) -> tuple[str, bytes, str]:
        """GET an elevator's patrol form and fill it: (path, body, content type)."""
        path = f"/elevators/{elevator_id}/patrols/new"
        page = self.request("GET", path)
        if page.status != 200:
            raise RuntimeError(f"GET {path} answered {page.status}")
        form = find_form(page.body, "idempotency_key")
        body, kind = encode(form, fill(form, typed))
        return path, body, kind


# --- the run -----------------------------------------------------------------------


@dataclass
class Tally:
    """What every client measured; shared, guarded by a lock."""

    limit: int
    seconds: float
    lock: threading.Lock = field(default_factory=threading.Lock)
    started: int = 0
    start: float = 0.0
    deadline: float = 0.0
    end: float = 0.0
    ok: int = 0
    statuses: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    get_s: list[float] = field(default_factory=list)
    post_s: list[float] = field(default_factory=list)

    def begin(self) -> None:
        """Start the clock (the barrier's action: every client is ready) and say so."""
        self.start = time.perf_counter()
        self.deadline = self.start + self.seconds
        print(STARTED, flush=True)  # the caller samples the server's CPU from here on

    def claim(self) -> bool:
        """Take the next submission, unless the count or the time is used up."""
        with self.lock:
            if self.started >= self.limit or time.perf_counter() >= self.deadline:
                return False
            self.started += 1
            return True

    def note(self, answer: Answer | None, ok: bool, error: str | None = None) -> None:
        with self.lock:
            self.end = max(self.end, time.perf_counter())
            if ok:
                self.ok += 1
            if answer is not None:
                self.statuses[str(answer.status)] += 1
            if not ok and len(self.errors) < SAMPLE_ERRORS:
                found = FIRST_ERROR.search(answer.body) if answer else None
                detail = answer.location if answer else ""
                if found:
                    named = FIELD.search(found.group(1))
                    detail = f"{named.group(1) if named else ''}: {found.group(2).strip()}"
                self.errors.append(error or f"{answer.status if answer else '-'} {detail}")


class Client(threading.Thread):
    """One phone running its share of the load."""

    def __init__(
        self, spec: dict[str, Any], own: dict[str, Any], tally: Tally, barrier: threading.Barrier
    ) -> None:
        super().__init__(daemon=True)
        self.spec, self.own, self.tally, self.barrier = spec, own, tally, barrier
        host, port = spec["host"], int(spec["port"])
        self.browser = Browser(host, port)
        self.next = 0
        #: What the officer types: the readings and, to sign, the password.
        self.typed = spec["typed"] | {"password": spec["password"]}
        self.forms: list[tuple[str, bytes, str]] = []
        self.failure: str | None = None

    def _elevator(self) -> int:
        elevators: list[int] = self.own["elevators"]
        self.next += 1
        return elevators[(self.next - 1) % len(elevators)]

    def prepare(self) -> None:
        """Log in and, for the POST-only mode, fetch the forms (all untimed)."""
        mode = self.spec["mode"]
        if mode != "insert":
            self.browser.log_in(self.own["login"], self.spec["password"])
        for _ in range(int(self.own.get("prefetch", 0)) if mode == "patrol-post" else 0):
            self.forms.append(self.browser.patrol_form(self._elevator(), self.typed))

    def run(self) -> None:
        try:
            self.prepare()
        except Exception as error:
            self.failure = f"{type(error).__name__}: {error}"
        self.barrier.wait()
        if self.failure is not None:
            return
        while self._has_work() and self.tally.claim():
            try:
                self.once()
            except (RuntimeError, LookupError, http.client.HTTPException, OSError) as error:
                self.tally.note(None, False, f"{type(error).__name__}: {error}")

    def _has_work(self) -> bool:
        """In the POST-only mode a client stops when its fetched forms are used up."""
        return self.spec["mode"] != "patrol-post" or bool(self.forms)

    def once(self) -> None:
        """Make one submission (a patrol, or the baseline insert) and note its answer."""
        mode = self.spec["mode"]
        if mode == "insert":
            started = time.perf_counter()
            answer = self.browser.request("POST", INSERT_PATH, b"", "text/plain")
            self.tally.post_s.append(time.perf_counter() - started)
            self.tally.note(answer, answer.status == 204)
            return
        if mode == "patrol-post":
            path, body, kind = self.forms.pop()
        else:
            started = time.perf_counter()
            path, body, kind = self.browser.patrol_form(self._elevator(), self.typed)
            self.tally.get_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        answer = self.browser.request("POST", path, body, kind)
        self.tally.post_s.append(time.perf_counter() - started)
        ok = answer.status == 302 and bool(RECORD_LOCATION.match(answer.location))
        self.tally.note(answer, ok)


def _ms(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Run the load a spec describes and return its figures."""
    tally = Tally(limit=int(spec["limit"]), seconds=float(spec["seconds"]))
    barrier = threading.Barrier(len(spec["clients"]), action=tally.begin)
    clients = [Client(spec, own, tally, barrier) for own in spec["clients"]]
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    failures = [c.failure for c in clients if c.failure]
    wall = max(tally.end - tally.start, 0.0)
    return {
        "mode": spec["mode"],
        "clients": len(clients),
        "client_failures": failures,
        "started": tally.started,
        "ok": tally.ok,
        "wall_s": wall,
        "per_s": tally.ok / wall if wall else 0.0,
        "statuses": dict(tally.statuses),
        "errors": tally.errors,
        "get_ms_median": 1000 * statistics.median(tally.get_s) if tally.get_s else 0.0,
        "post_ms_median": 1000 * statistics.median(tally.post_s) if tally.post_s else 0.0,
        "post_ms_p95": _ms(tally.post_s, 0.95),
    }


if __name__ == "__main__":
    print(json.dumps(run(json.load(sys.stdin))))
