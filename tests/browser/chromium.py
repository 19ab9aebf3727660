"""Open maps in headless Chromium with no network: load timing and screenshots.

The browser is Debian's ``chromium`` driven by Playwright (never Playwright's own
browser downloads). Every request is intercepted: the map file itself is read from
disk, the Leaflet files it links are answered with the copies bundled with
hzlogistics, and anything else is aborted and recorded.

Run as a script to take a screenshot::

    python tests/browser/chromium.py maps/plan.html maps/plan.png --width 1400 --height 900
"""

from __future__ import annotations

import argparse
import mimetypes
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hzlogistics.maps.assets import ASSETS

LAUNCH_ARGS: tuple[str, ...] = (
    "--no-sandbox",
    "--headless=new",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND",
)


def chromium_path() -> str | None:
    """Path of the system Chromium, or ``None``."""
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def missing_reason() -> str | None:
    """Why the browser tests cannot run here, or ``None`` if they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the 'playwright' Python package is not installed (pip install playwright)"
    if chromium_path() is None:
        return "no Chromium binary (apt-get install chromium)"
    missing = [str(a.path) for a in ASSETS if not a.path.exists()]
    if missing:
        return f"map assets missing: {', '.join(missing)}"
    return None


@dataclass
class Traffic:
    """Requests a page made."""

    served: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)


def _route_handler(page_url: str, traffic: Traffic, serve_assets: bool) -> Any:
    by_url = {a.url: a.path for a in ASSETS} if serve_assets else {}

    def handle(route: Any) -> None:
        url = route.request.url
        if url == page_url:
            traffic.served.append(url)
            route.continue_()
            return
        path = by_url.get(url)
        if path is None:
            traffic.blocked.append(url)
            route.abort()
            return
        traffic.served.append(url)
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if ctype.startswith("text/") or ctype.endswith("javascript"):
            ctype += "; charset=utf-8"
        route.fulfill(status=200, body=path.read_bytes(), headers={"content-type": ctype})

    return handle


def cpu_seconds() -> float | None:
    """CPU seconds used so far by this process's children (the browser), Linux only."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    parent: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for stat in proc.glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()
        pid = int(stat.parent.name)
        parent[pid] = int(fields[1])
        ticks[pid] = int(fields[11]) + int(fields[12])  # utime + stime
    root = os.getpid()
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        for child, par in parent.items():
            if par == pid:
                total += ticks[child]
                stack.append(child)
    return total / os.sysconf("SC_CLK_TCK")


@contextmanager
def browser() -> Iterator[Any]:
    """A running headless Chromium (Playwright ``Browser``)."""
    from playwright.sync_api import sync_playwright

    exe = chromium_path()
    if exe is None:
        raise RuntimeError("no Chromium binary (apt-get install chromium)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, args=list(LAUNCH_ARGS), headless=True)
        try:
            yield b
        finally:
            b.close()


def open_map(page: Any, html_path: str | Path, *, serve_assets: bool = True,
             timeout_s: float = 60.0) -> tuple[Traffic, float]:
    """Load a map file into ``page`` offline and wait until it is drawn.

    Parameters
    ----------
    page
        A Playwright page (its routes are replaced).
    html_path
        The map's HTML file.
    serve_assets
        Answer the CDN addresses of the bundled Leaflet files (a self-contained
        map needs none, so pass ``False`` to prove it).

    Returns
    -------
    (Traffic, float)
        The requests made, and the seconds from navigation to a drawn map
        (load event, then two animation frames).
    """
    url = Path(html_path).resolve().as_uri()
    traffic = Traffic()
    page.unroute("**/*")
    page.route("**/*", _route_handler(url, traffic, serve_assets))
    t0 = time.perf_counter()
    page.goto(url, wait_until="load", timeout=timeout_s * 1000)
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    return traffic, time.perf_counter() - t0


def screenshot(html_path: str | Path, png_path: str | Path, *, width: int = 1400,
               height: int = 900, browser_: Any = None) -> Path:
    """Open a map offline in headless Chromium and save a PNG of it.

    Parameters
    ----------
    html_path
        The map's HTML file.
    png_path
        Where to write the PNG (its folder is created).
    width, height
        Viewport size, pixels.
    browser_
        A running Playwright browser to use (default: start one).

    Returns
    -------
    pathlib.Path
        The PNG written.
    """
    png_path = Path(png_path)
    png_path.parent.mkdir(parents=True, exist_ok=True)
    if browser_ is None:
        with browser() as b:
            return screenshot(html_path, png_path, width=width, height=height, browser_=b)
    page = browser_.new_page(viewport={"width": width, "height": height})
    try:
        open_map(page, html_path)
        page.wait_for_timeout(300)  # let the heat map and the clusters settle
        page.screenshot(path=str(png_path))
    finally:
        page.close()
    return png_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Screenshot a map offline in headless Chromium.")
    parser.add_argument("html")
    parser.add_argument("png")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=900)
    args = parser.parse_args(argv)
    reason = missing_reason()
    if reason:
        parser.error(reason)
    print(screenshot(args.html, args.png, width=args.width, height=args.height))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
