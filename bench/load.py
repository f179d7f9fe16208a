"""A small load generator for 127.0.0.1 only: logged-in clients posting for a fixed time.

Each client logs in (session and CSRF cookies, as a browser does), then posts in a loop until
the time is up. Latencies of completed requests are returned; the caller computes the figures.
"""

from __future__ import annotations

import http.client
import re
import threading
import time
from urllib.parse import urlencode

HOST = "127.0.0.1"
TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


class Browser:
    def __init__(self, port: int):
        self.connection = http.client.HTTPConnection(HOST, port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: dict | None = None):
        headers = {
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
            "Host": "localhost",
        }
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = "http://localhost/"
        self.connection.request(method, path, body=data, headers=headers)
        response = self.connection.getresponse()
        content = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return response.status, content

    def log_in(self, username: str, password: str) -> None:
        _status, page = self.request("GET", "/dang-nhap/")
        token = TOKEN.search(page).group(1).decode()
        status, _ = self.request(
            "POST",
            "/dang-nhap/",
            {
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": token,
            },
        )
        if status != 302:
            raise RuntimeError(f"login failed: {status}")

    @property
    def csrf(self) -> str:
        return self.cookies["csrftoken"]


def run(port: int, clients: list[dict], seconds: float, on_start=None) -> list[float]:
    """Each client dict: username, password, and `next_post()` giving (path, body, expected);
    a body of None is a GET. Optionally `port` (its own server instead of `port`) and `warm_up`
    (paths it GETs before the clock starts).

    Every client logs in first; the clock starts when all have, so that the logins (a password
    hash each) are not counted in the `seconds` of posting. `on_start()`, if given, is called
    then, before the first request."""
    latencies: list[float] = []
    lock = threading.Lock()
    window = {}

    def start_clock():  # run by the last client to log in, before any is let go
        if on_start is not None:
            on_start()
        window["deadline"] = time.monotonic() + seconds

    ready = threading.Barrier(len(clients), action=start_clock)
    errors: list[str] = []

    def worker(client: dict):
        browser = Browser(client.get("port", port))
        try:
            browser.log_in(client["username"], client["password"])
            for path in client.get("warm_up", []):
                browser.request("GET", path)
        except Exception as error:  # reported below, once the others have stopped
            errors.append(f"port {client.get('port', port)}: {error}")
            ready.abort()
            return
        try:
            ready.wait()
        except threading.BrokenBarrierError:
            return
        mine = []
        while time.monotonic() < window["deadline"]:
            path, body, expected = client["next_post"](browser)
            start = time.perf_counter()
            if body is None:
                status, _ = browser.request("GET", path)
            else:
                form = {**body, "csrfmiddlewaretoken": browser.csrf}
                status, _ = browser.request("POST", path, form)
            elapsed = time.perf_counter() - start
            if status != expected:
                errors.append(f"{path}: {status}")
                break
            mine.append(elapsed)
            # A browser shows the messages of a save on the page it is sent to, which empties
            # the messages cookie; a client that never loads that page would pile them up.
            browser.cookies.pop("messages", None)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError("; ".join(errors[:3]))
    return latencies
