"""Loads the experiment dashboard of a running server in headless Chromium (Debian's chromium),
checks the rendered page against the JSON API, and saves a screenshot.

usage: dashboard_check.py ADMIN_URL SCREENSHOT_PNG [EXPECTED_EXPERIMENT]

Checks: the page rendered (body data-rendered="1") without a script error (data-js-errors="0"),
drew its three charts per A/B experiment with Chart.js (data-charts), and every arm's row of the
arms table shows the users, searches and CTR that /experiments/api returns. Exit 0 on success;
1 with the reason otherwise.
"""
import html.parser
import json
import shutil
import subprocess
import sys
import tempfile
import urllib.request


class Page(html.parser.HTMLParser):
    """Collects <body>'s data attributes and the arms tables' cells."""

    def __init__(self):
        super().__init__()
        self.body = {}
        self.cells = {}  # (experiment, arm, field) -> text
        self._experiment = None
        self._arm = None
        self._field = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body":
            self.body = a
        elif tag == "table" and "arms" in a.get("class", ""):
            self._experiment = a.get("data-experiment")
        elif tag == "tr" and self._experiment is not None:
            self._arm = a.get("data-arm")
        elif tag == "td" and self._arm is not None:
            self._field = a.get("data-field")

    def handle_endtag(self, tag):
        if tag == "table":
            self._experiment = None
            self._arm = None
        elif tag == "td":
            self._field = None

    def handle_data(self, data):
        if self._experiment and self._arm and self._field:
            key = (self._experiment, self._arm, self._field)
            self.cells[key] = self.cells.get(key, "") + data


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("dashboard_check: no chromium on PATH (Debian package chromium)")


def run_chromium(args, profile):
    cmd = [chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           "--user-data-dir=" + profile, "--virtual-time-budget=10000"] + args
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def main(base, screenshot, expected=None):
    api = json.load(urllib.request.urlopen(base + "/experiments/api", timeout=30))
    experiments = api["experiments"]
    if expected and not any(x["key"] == expected for x in experiments):
        sys.exit("dashboard_check: %s not in /experiments/api" % expected)
    with tempfile.TemporaryDirectory() as profile:
        dom = run_chromium(["--dump-dom", base + "/experiments"], profile)
        if dom.returncode != 0:
            sys.exit("dashboard_check: chromium failed: " + dom.stderr[-2000:])
        shot = run_chromium(["--window-size=1400,1300", "--screenshot=" + screenshot,
                             base + "/experiments"], profile)
        if shot.returncode != 0:
            sys.exit("dashboard_check: chromium screenshot failed: " + shot.stderr[-2000:])
    page = Page()
    page.feed(dom.stdout)
    problems = []
    if page.body.get("data-rendered") != "1":
        problems.append("the page did not finish rendering (data-rendered=%r)" % page.body.get("data-rendered"))
    if page.body.get("data-js-errors") != "0":
        problems.append("script errors: %r" % page.body.get("data-js-errors"))
    ab = [x for x in experiments if "interleaving" not in x]
    charts = int(page.body.get("data-charts", "0"))
    if charts != 3 * len(ab):
        problems.append("%d charts drawn, %d expected (Chart.js loaded?)" % (charts, 3 * len(ab)))
    checked = 0
    for x in ab:
        for arm in x["arms"]:
            for field, want in (("users", str(arm["users"])), ("searches", str(arm["searches"])),
                                ("ctr", "%.4f" % arm["ctr"])):
                got = page.cells.get((x["key"], arm["name"], field))
                checked += 1
                if got != want:
                    problems.append("%s/%s %s: page %r, API %r" % (x["key"], arm["name"], field, got, want))
    if problems:
        sys.exit("dashboard_check: " + "; ".join(problems))
    print("dashboard_check: %d experiments, %d arm cells match the API, %d charts, no script errors; "
          "screenshot %s" % (len(experiments), checked, charts, screenshot))


if __name__ == "__main__":
    main(*sys.argv[1:])
