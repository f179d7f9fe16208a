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


def run(port: int, clients: list[dict], seconds: float) -> list[float]:
    """Each client dict: username, password, and `next_post()` giving (path, body, expected)."""
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    errors: list[str] = []

    def worker(client: dict):
        browser = Browser(port)
        browser.log_in(client["username"], client["password"])
        mine = []
        while time.monotonic() < deadline:
            path, body, expected = client["next_post"](browser)
            start = time.perf_counter()
            status, _ = browser.request("POST", path, {**body, "csrfmiddlewaretoken": browser.csrf})
            elapsed = time.perf_counter() - start
            if status != expected:
                errors.append(f"{path}: {status}")
                break
            mine.append(elapsed)
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
