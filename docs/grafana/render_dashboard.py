"""Render docs/grafana/gnews-dashboard.json from real metrics, without Grafana.

Grafana cannot be installed here (not on PyPI, npm or Debian; its Go module is AGPL), so this
script does what Grafana and Prometheus would do, for the expressions the dashboard uses:

1. starts ``gnews dev`` (embedded MongoDB and Redis, the emulators, the API and a worker) in a
   temporary directory, with a loopback feed server;
2. drives it through the API: an admin, sources (one of them broken), a few hundred devices
   (some whose tokens the FCM emulator calls unregistered), notifications every few seconds,
   public reads beyond the rate limit, manual polls;
3. scrapes the API's ``/metrics`` and the worker's metrics endpoint every ``--interval``
   seconds, as Prometheus would (two instances);
4. evaluates each panel's PromQL (``sum by``/``max by``, ``rate`` over ``$__rate_interval`` =
   4 scrape intervals, ``histogram_quantile``) over the scrapes and draws the panels in the
   dashboard's grid with matplotlib.

Run: ``python docs/grafana/render_dashboard.py`` (about 5 minutes; ``--seconds`` to change).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
FEED = ROOT / "tests" / "support" / "fixtures" / "thai_rss_utf8.xml"
PASSWORD = "dashboard render password"
ADMIN_COMMAND = [sys.executable, "-m", "gnews", "users", "create"]


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FeedHandler(BaseHTTPRequestHandler):
    """``/rss/<n>.xml``: a Thai RSS feed; anything else: 404."""

    def do_GET(self) -> None:
        """Serve the fixture feed or a 404."""
        if self.path.startswith("/rss/"):
            body = FEED.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
        else:
            body = b"not here"
            self.send_response(404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


# --- running the system and driving it -------------------------------------------------------
def start_dev(work: Path, ports: dict[str, int]) -> subprocess.Popen[bytes]:
    """``gnews dev`` with fixed ports in ``work``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GNEWS_")}
    env.update({f"GNEWS_{name}": str(port) for name, port in ports.items()})
    env.update(
        GNEWS_DATA_DIR=str(work / "var"),
        GNEWS_DISABLED_PLUGINS="ega,nakhonsawan,dopa",  # no real agency feeds
        GNEWS_FEED_ALLOW_PRIVATE_NETWORKS="true",  # the loopback feed server
        GNEWS_RATE_LIMIT_REGISTRATIONS="0",
        GNEWS_RATE_LIMIT_READS="200",
        GNEWS_PUSH_BATCH_SIZE="50",
        GNEWS_LOG_LEVEL="WARNING",
    )
    log = (work / "dev.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "gnews", "dev"], env=env, stdout=log, stderr=subprocess.STDOUT
    )


def wait_ready(url: str, process: subprocess.Popen[bytes], seconds: float = 240) -> None:
    """Until ``url`` answers 200."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gnews dev exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{url} not ready in {seconds}s")


def make_admin(work: Path) -> None:
    """The first admin, with the CLI (it finds the running ``gnews dev``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GNEWS_")}
    env["GNEWS_DATA_DIR"] = str(work / "var")
    subprocess.run(
        [*ADMIN_COMMAND, "--email", "ops@example.org", "--role", "admin"],
        env=env,
        input=PASSWORD + "\n",
        text=True,
        check=True,
        capture_output=True,
    )


def fcm_token(n: int, prefix: str = "render") -> str:
    """An FCM registration token of the usual shape."""
    return f"{prefix}-{n}:APA91b" + secrets.token_urlsafe(105)[:140]


class Load:
    """What users, editors and agencies do while the scrapes run."""

    def __init__(self, api: str, fcm: str) -> None:
        self.api = api
        self.fcm = fcm
        self.http = httpx.Client(base_url=api, timeout=30)
        self.stop = threading.Event()
        self.headers: dict[str, str] = {}
        self.sources: list[str] = []

    def prepare(self, feed_base: str, devices: int) -> None:
        """Sign in, make the agency, sources and devices, mark some tokens unregistered."""
        token = self.http.post(
            "/api/v1/auth/login", json={"email": "ops@example.org", "password": PASSWORD}
        ).json()["access_token"]
        self.headers = {"Authorization": f"Bearer {token}"}
        self.http.post(
            "/api/v1/agencies",
            json={"code": "ega", "name_th": "สพร.", "name_en": "DGA", "trusted": True},
            headers=self.headers,
        ).raise_for_status()
        for n in range(6):
            path = "/missing.xml" if n == 5 else f"/rss/{n}.xml"
            response = self.http.post(
                "/api/v1/sources",
                json={
                    "slug": f"feed-{n}",
                    "agency": "ega",
                    "name": f"ข่าว {n}",
                    "feed_url": feed_base + path,
                    "poll_interval_minutes": 5,
                    "trusted": True,
                },
                headers=self.headers,
            )
            response.raise_for_status()
            self.sources.append(response.json()["id"])
        httpx.post(
            f"{self.fcm}/_emulator/fcm/faults", json={"unregistered_prefix": "gone-"}, timeout=10
        ).raise_for_status()
        for n in range(devices):
            android = n % 10 < 7
            body = {
                "platform": "android" if android else "ios",
                "push_token": fcm_token(n, "gone" if n % 25 == 0 else "render")
                if android
                else secrets.token_hex(32),
                "provinces": [["TH-60"], ["TH-10"], ["TH-60", "TH-50"]][n % 3],
            }
            self.http.post("/api/v1/devices", json=body).raise_for_status()

    def readers(self) -> None:
        """Public reads at a varying pace (bursts go beyond the per-minute budget)."""
        n = 0
        while not self.stop.is_set():
            n += 1
            province = ["TH-60", "TH-10", "TH-50"][n % 3]
            self.http.get("/api/v1/news", params={"province": province})
            if n % 7 == 0:
                self.http.get("/api/v1/news/search", params={"q": "น้ำท่วม"})
            self.stop.wait(0.05 if (n // 100) % 2 else 0.3)

    def editors(self) -> None:
        """A notification every few seconds, and manual polls."""
        n = 0
        while not self.stop.is_set():
            audiences = [{"provinces": ["TH-60"]}, {"everyone": True}, {"provinces": ["TH-10"]}]
            audience = audiences[n % 3]
            self.http.post(
                "/api/v1/notifications",
                json={"title_th": f"ประกาศ {n}", "body_th": "ทดสอบ", "audience": audience},
                headers=self.headers,
            )
            if n % 2 == 0:
                source = self.sources[n % len(self.sources)]
                self.http.post(f"/api/v1/sources/{source}/poll", headers=self.headers)
            n += 1
            self.stop.wait(8)


def record(seconds: float, interval: float, devices: int) -> list[dict]:
    """Run the system under load and return the scrapes: [{t, instance: text}]."""
    work = Path(tempfile.mkdtemp(prefix="gnews-dashboard-"))
    ports = {
        "HTTP_PORT": free_port(),
        "WORKER_METRICS_PORT": free_port(),
        "DEV_FCM_PORT": free_port(),
        "DEV_APNS_PORT": free_port(),
    }
    feeds = ThreadingHTTPServer(("127.0.0.1", 0), FeedHandler)
    threading.Thread(target=feeds.serve_forever, daemon=True).start()
    dev = start_dev(work, ports)
    api = f"http://127.0.0.1:{ports['HTTP_PORT']}"
    worker = f"http://127.0.0.1:{ports['WORKER_METRICS_PORT']}/metrics"
    scrapes: list[dict] = []
    try:
        wait_ready(f"{api}/health/ready", dev)
        wait_ready(worker, dev)
        done = threading.Event()

        def scrape() -> None:  # from the start, so the set-up's first polls are in too
            started = time.monotonic()
            while time.monotonic() - started < seconds:
                at = time.time()
                scrapes.append(
                    {
                        "t": at,
                        "api": httpx.get(f"{api}/metrics", timeout=10).text,
                        "worker": httpx.get(worker, timeout=10).text,
                    }
                )
                time.sleep(max(0.0, interval - (time.time() - at)))
            done.set()

        scraper = threading.Thread(target=scrape, daemon=True)
        scraper.start()
        make_admin(work)
        load = Load(api, f"http://127.0.0.1:{ports['DEV_FCM_PORT']}")
        load.prepare(f"http://127.0.0.1:{feeds.server_port}", devices)
        threads = [threading.Thread(target=f, daemon=True) for f in (load.readers, load.editors)]
        for thread in threads:
            thread.start()
        done.wait()
        load.stop.set()
        for thread in threads:
            thread.join(30)
    finally:
        dev.send_signal(signal.SIGINT)
        dev.wait(60)
        feeds.shutdown()
    return scrapes


# --- a small PromQL evaluator for the dashboard's expressions --------------------------------
Series = dict[tuple[str, str, frozenset], list[float]]  # (instance, name, labels) → values


def series_of(scrapes: list[dict]) -> tuple[list[float], Series]:
    """Values per scrape (NaN where a series did not exist yet) of every sample."""
    times = [scrape["t"] for scrape in scrapes]
    found: Series = defaultdict(lambda: [math.nan] * len(scrapes))
    for i, scrape in enumerate(scrapes):
        for instance in ("api", "worker"):
            for family in text_string_to_metric_families(scrape[instance]):
                for sample in family.samples:
                    key = (instance, sample.name, frozenset(sample.labels.items()))
                    found[key][i] = sample.value
    return times, found


def rate(values: list[float], times: list[float], steps: int) -> list[float]:
    """Per-second increase over ``steps`` scrapes; a series born later starts from 0 (a new
    labelled counter is 0 before its first increment)."""
    born = next((i for i, v in enumerate(values) if not math.isnan(v)), len(values))
    out = []
    for i, value in enumerate(values):
        j = max(0, i - steps)
        if i == 0 or math.isnan(value):
            out.append(math.nan)
            continue
        earlier = values[j] if not math.isnan(values[j]) else (0.0 if j < born else math.nan)
        out.append(max(0.0, value - earlier) / (times[i] - times[j]))
    return out


def grouped(
    found: Series, name: str, by: list[str], transform
) -> dict[tuple[str, ...], list[float]]:
    """``sum by (by)`` of ``transform(values)`` of every series called ``name``."""
    groups: dict[tuple[str, ...], list[float]] = {}
    for (_, sample, labels), values in found.items():
        if sample != name:
            continue
        label_map = dict(labels)
        key = tuple(label_map.get(label, "") for label in by)
        current = groups.setdefault(key, [math.nan] * len(values))
        for i, v in enumerate(transform(values)):
            if not math.isnan(v):
                current[i] = v if math.isnan(current[i]) else current[i] + v
    return groups


def quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    """Prometheus' histogram_quantile over (le, cumulative rate) pairs."""
    buckets = sorted(buckets)
    if not buckets or math.isnan(buckets[-1][1]) or buckets[-1][1] <= 0:
        return math.nan
    rank = q * buckets[-1][1]
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if math.isinf(bound):
                return lower_bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (
                count - lower_count or 1
            )
        lower_bound, lower_count = bound, count
    return lower_bound


SUM_RATE = re.compile(r"sum by \(([^)]*)\) \(rate\((\w+)\[\$__rate_interval\]\)\)( \* 60)?$")
QUANTILE = re.compile(
    r"histogram_quantile\(([\d.]+), sum by \(le, ([^)]*)\) "
    r"\(rate\((\w+)\[\$__rate_interval\]\)\)\)$"
)
MAX_BY = re.compile(r"max by \(([^)]*)\) \((\w+)\)$")


def evaluate(
    expr: str, times: list[float], found: Series, steps: int
) -> dict[tuple[str, ...], list[float]]:
    """The expression's result: legend labels → values per scrape."""

    def rates(values: list[float]) -> list[float]:
        return rate(values, times, steps)

    if match := SUM_RATE.match(expr):
        by = [label.strip() for label in match.group(1).split(",")]
        result = grouped(found, match.group(2), by, rates)
        if match.group(3):
            result = {k: [v * 60 for v in values] for k, values in result.items()}
        return result
    if match := QUANTILE.match(expr):
        q, by, name = float(match.group(1)), match.group(2).split(", "), match.group(3)
        by_le = grouped(found, name, ["le", *by], rates)
        result: dict[tuple[str, ...], list[float]] = {}
        for key in {k[1:] for k in by_le}:
            values = []
            for i in range(len(times)):
                pairs = [(float(k[0]), v[i]) for k, v in by_le.items() if k[1:] == key]
                values.append(quantile(q, pairs))
            result[key] = values
        return result
    if match := MAX_BY.match(expr):
        by = [label.strip() for label in match.group(1).split(",")]
        groups: dict[tuple[str, ...], list[float]] = {}
        for (_, sample, labels), values in found.items():
            if sample == match.group(2):
                key = tuple(dict(labels).get(label, "") for label in by)
                current = groups.setdefault(key, list(values))
                groups[key] = [
                    max(a, b) if not math.isnan(a) else b
                    for a, b in zip(current, values, strict=True)
                ]
        return groups
    raise ValueError(f"the renderer does not evaluate: {expr}")


def legend(template: str, by_values: tuple[str, ...], expr: str) -> str:
    """``{{label}}`` of the panel's legend format, filled in."""
    names = re.findall(r"\{\{(\w+)\}\}", template)
    labels = re.search(r"by \((?:le, )?([^)]*)\)", expr).group(1).split(", ")
    values = dict(zip(labels, by_values, strict=False))
    text = template
    for name in names:
        text = text.replace("{{" + name + "}}", values.get(name, ""))
    return text


def render(dashboard: dict, scrapes: list[dict], interval: float, out: Path) -> None:
    """Draw every panel of the dashboard in its grid position."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    times, found = series_of(scrapes)
    steps = 4  # $__rate_interval = 4 scrape intervals, as Grafana computes it
    when = [datetime.fromtimestamp(t, UTC) for t in times]
    panels = dashboard["panels"]
    rows = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels) // 8
    plt.style.use("dark_background")
    figure, axes = plt.subplots(rows, 3, figsize=(21, 4.2 * rows), squeeze=False)
    figure.patch.set_facecolor("#111217")
    for ax in axes.flat:
        ax.set_visible(False)
    for panel in panels:
        ax = axes[panel["gridPos"]["y"] // 8][panel["gridPos"]["x"] // 8]
        ax.set_visible(True)
        ax.set_facecolor("#181b1f")
        target = panel["targets"][0]
        result = evaluate(target["expr"], times, found, steps)
        for key, values in sorted(result.items()):
            if all(math.isnan(v) or v == 0 for v in values):
                continue
            ax.plot(
                when,
                values,
                linewidth=1.4,
                label=legend(target["legendFormat"], key, target["expr"]),
            )
        unit = panel["fieldConfig"]["defaults"].get("unit", "")
        ax.set_title(f"{panel['title']}  [{unit}]", loc="left", fontsize=10)
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M:%S"))
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.15)
        ax.set_ylim(bottom=0)
        ax.set_xlim(when[0], when[-1])
        if ax.get_lines():
            ax.legend(fontsize=6, loc="upper left", ncol=2, framealpha=0.3)
        else:
            ax.text(0.5, 0.5, "No data", ha="center", va="center", transform=ax.transAxes)
    span = f"{when[0]:%Y-%m-%d %H:%M:%S} – {when[-1]:%H:%M:%S} UTC"
    figure.suptitle(
        f"{dashboard['title']} — rendered by docs/grafana/render_dashboard.py from {len(scrapes)} "
        f"real scrapes (every {interval:g} s) of a gnews dev API and worker, {span}",
        fontsize=12,
    )
    figure.tight_layout(rect=(0, 0, 1, 0.97))
    figure.savefig(out, dpi=80, facecolor=figure.get_facecolor())


def main() -> None:
    """Record (or load) scrapes and render the dashboard."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=180)
    parser.add_argument("--interval", type=float, default=3)
    parser.add_argument("--devices", type=int, default=300)
    parser.add_argument("--scrapes", type=Path, help="render these saved scrapes (JSON)")
    parser.add_argument("--save-scrapes", type=Path, help="keep the scrapes (JSON)")
    parser.add_argument("--out", type=Path, default=HERE / "gnews-dashboard.png")
    args = parser.parse_args()
    if args.scrapes:
        scrapes = json.loads(args.scrapes.read_text())
    else:
        scrapes = record(args.seconds, args.interval, args.devices)
    if args.save_scrapes:
        args.save_scrapes.write_text(json.dumps(scrapes))
    dashboard = json.loads((HERE / "gnews-dashboard.json").read_text())
    render(dashboard, scrapes, args.interval, args.out)
    print(f"{args.out}: {len(scrapes)} scrapes rendered")


if __name__ == "__main__":
    main()
