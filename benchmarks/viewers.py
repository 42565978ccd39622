"""Simultaneous viewers (run by hand, not a test): N browser sessions signing in together to a
local `streamlit run`, each a different steering member; time until each sees its rendered
Overview, then each opening a chart page (Offending areas) and a page of text alone
(Methodology: the entry script, filter bar and data banner, i.e. Streamlit's own floor per
session), and the server's CPU per viewer.

    .venv/bin/python benchmarks/viewers.py --referrals 10000 --crimes 1000000 --viewers 1 5 20 50

For each N a fresh server (empty caches) on 127.0.0.1 serves the database built by
benchmarks/pages.py; Debian's Chromium (Playwright, headless) opens N tabs, each in its own
browser context, fills in the sign-in form, and all N press "Sign in" at once. Server CPU is
the streamlit process's user + system time (/proc) over that burst; it includes each
sign-in's deliberate password hashing (argon2), shown on its own line.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

import pages  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "correct horse battery"
RENDERED_JS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    if (document.querySelector('[data-testid="stSkeleton"]')) return false;
    const main = document.querySelector('[data-testid="stMain"]');
    return !!main && !!document.querySelector('[data-testid="stSidebarNav"]')
        && document.querySelectorAll('[data-testid="stMetric"], [data-testid="stVegaLiteChart"]')
            .length > 0;
}"""


PAGE_TITLE = "Offending areas"
# The floor: a page of static text under the same entry script (sign-in check, navigation,
# filter bar, data banner), so what a session costs whatever page it shows.
FLOOR_TITLE = "Methodology"
PAGE_RENDERED_JS = """([title, chart]) => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    if (document.querySelector('[data-testid="stSkeleton"]')) return false;
    const heading = document.querySelector('[data-testid="stMain"] h1');
    return !!heading && heading.innerText.includes(title)
        && (!chart || document.querySelectorAll('[data-testid="stVegaLiteChart"]').length > 0);
}"""


def process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db: Path, security_db: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    # Sessions' costs are measured: the pack protected ahead (once per version of the data,
    # while the first viewers sign in) would count in the sign-in burst.
    env = {**os.environ, "O2R_DB": str(db), "O2R_SECURITY_DB": str(security_db),
           "O2R_PACK_AHEAD": "no"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "app.py"),
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return proc, base
        except OSError:
            time.sleep(0.25)
    proc.kill()
    raise RuntimeError(f"server did not start; see {log}")


async def burst(base: str, server_pid: int, count: int, timeout_s: float) -> dict:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                          args=CHROMIUM_ARGS)
        tabs = []
        for _ in range(count):
            context = await browser.new_context(viewport={"width": 1400, "height": 1000})
            context.set_default_timeout(timeout_s * 1000)
            tab = await context.new_page()
            tabs.append(tab)

        async def open_sign_in(index: int, tab) -> None:
            await tab.goto(base + "/")
            await tab.get_by_role("textbox", name="Name").fill(f"Steering {index}")
            await tab.get_by_role("textbox", name="Password").fill(PASSWORD)

        await asyncio.gather(*(open_sign_in(i, t) for i, t in enumerate(tabs)))
        await asyncio.sleep(1)
        cpu_before, started = process_cpu(server_pid), time.perf_counter()

        async def sign_in(tab) -> float | None:
            await tab.get_by_role("button", name="Sign in").click()
            try:
                await tab.wait_for_function(RENDERED_JS, polling=200)
            except Exception:  # not rendered within the timeout
                return None
            return time.perf_counter() - started

        times = await asyncio.gather(*(sign_in(t) for t in tabs))
        sign_in_cpu = process_cpu(server_pid) - cpu_before
        steps = {"sign_in": summary(times, sign_in_cpu)}
        # Then all of them open the same page together, from the sidebar (same session): the
        # chart page, and then the page of text alone.
        for step, title, chart in (("page", PAGE_TITLE, True), ("floor", FLOOR_TITLE, False)):
            await asyncio.sleep(1)
            cpu_before, started = process_cpu(server_pid), time.perf_counter()

            async def open_page(tab, title=title, chart=chart, started=started) -> float | None:
                try:
                    await tab.locator('[data-testid="stSidebarNav"] a', has_text=title).click()
                    await tab.wait_for_function(PAGE_RENDERED_JS, arg=[title, chart],
                                                polling=200)
                except Exception:  # not rendered within the timeout
                    return None
                return time.perf_counter() - started

            page_times = await asyncio.gather(*(open_page(t) for t in tabs))
            steps[step] = summary(page_times, process_cpu(server_pid) - cpu_before)
        await browser.close()
    return {"viewers": count, **steps}


def summary(times: list[float | None], cpu: float) -> dict:
    done = sorted(t for t in times if t is not None)
    return {"rendered": len(done), "server_cpu": cpu,
            "median_s": done[len(done) // 2] if done else None,
            "slowest_s": done[-1] if done else None}


def argon2_cpu() -> float:
    from dashboard.security import accounts

    path = Path(tempfile.mkdtemp()) / "s.sqlite"
    accounts.add_user(path, "Timing", "steering", password=PASSWORD)
    start = time.process_time()
    assert accounts.sign_in(path, "Timing", PASSWORD).ok
    return time.process_time() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--referrals", type=int, default=10_000)
    parser.add_argument("--crimes", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=Path(__file__).parent / "out")
    parser.add_argument("--viewers", type=int, nargs="*", default=[1, 5, 20, 50])
    parser.add_argument("--timeout", type=float, default=300)
    options = parser.parse_args()
    from dashboard.security import accounts

    db, _ = pages.build_database(options.dir, options.referrals, options.crimes)
    work = Path(tempfile.mkdtemp(dir=options.dir))
    security_db = work / "security.sqlite"
    for index in range(max(options.viewers)):
        accounts.add_user(security_db, f"Steering {index}", "steering", password=PASSWORD)
    rows = []
    for count in options.viewers:
        proc, base = start_server(db, security_db, work / f"server_{count}.log")
        try:
            rows.append(asyncio.run(burst(base, proc.pid, count, options.timeout)))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    sign_in_cpu = argon2_cpu()
    print(f"{options.referrals:,} referrals / {options.crimes:,} crimes; steering viewers, "
          "each a different account")
    for step, title in (("sign_in", "signing in together, landing on the Overview"),
                        ("page", f"then opening {PAGE_TITLE} together from the sidebar"),
                        ("floor", f"then opening {FLOOR_TITLE} (text only) together")):
        print(f"\n{title}:\n")
        print("| viewers | rendered | median time to rendered page (s) | slowest (s) | "
              "server CPU (s) | per viewer (s) | vs 1 viewer |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        one = rows[0][step]["server_cpu"] if rows and rows[0]["viewers"] == 1 else None
        for row in rows:
            r = row[step]
            ratio = f"{r['server_cpu'] / one:.1f}x" if one else ""
            median = f"{r['median_s']:.1f}" if r["median_s"] is not None else "-"
            slowest = f"{r['slowest_s']:.1f}" if r["slowest_s"] is not None else "-"
            print(f"| {row['viewers']} | {r['rendered']} | {median} | {slowest} | "
                  f"{r['server_cpu']:.2f} | {r['server_cpu'] / row['viewers']:.3f} | {ratio} |")
    print(f"One sign-in's password check (argon2, by design): {sign_in_cpu:.2f} CPU-s.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
