#!/usr/bin/env python3
"""The pages benchmark's client (standard library only): signs in through the
sign-in form as a browser does, then times each page and the JSON API answer
for the same data over one kept-alive connection each, and prints p50/p95.

    pages.py --port P --email E --password W --token T --supplier ID --runs N
"""

import argparse
import http.client
import json
import re
import statistics
import sys
import time
import urllib.parse


def connect(port):
    return http.client.HTTPConnection("127.0.0.1", port, timeout=30)


def sign_in(port, email, password):
    conn = connect(port)
    conn.request("GET", "/login")
    response = conn.getresponse()
    body = response.read().decode()
    cookie = next(c for c in response.headers.get_all("Set-Cookie") if c.startswith("barrier_login_csrf="))
    csrf = re.search(r'name="csrf" value="([^"]+)"', body).group(1)
    form = urllib.parse.urlencode({"csrf": csrf, "next": "/home", "email": email, "password": password})
    conn.request("POST", "/login", body=form, headers={"Content-Type": "application/x-www-form-urlencoded",
                                                       "Cookie": cookie.split(";")[0]})
    response = conn.getresponse()
    response.read()
    session = [c for c in response.headers.get_all("Set-Cookie") or [] if c.startswith("barrier_session=")]
    if response.status != 303 or not session:
        sys.exit(f"pages bench: signing in answered {response.status}")
    return session[0].split(";")[0]


def timings(port, path, headers, runs, warmup=5):
    conn = connect(port)
    out = []
    for i in range(warmup + runs):
        t0 = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        elapsed = (time.perf_counter() - t0) * 1000
        if response.status != 200:
            sys.exit(f"pages bench: GET {path} answered {response.status}: {body[:200]!r}")
        if i >= warmup:
            out.append(elapsed)
    return out, len(body), body


def pct(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--email", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--supplier", required=True)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--ceiling", type=float, default=50.0)
    a = ap.parse_args()
    cookie = sign_in(a.port, a.email, a.password)
    page_headers = {"Cookie": cookie}
    api_headers = {"Authorization": f"Bearer {a.token}"}
    cases = [
        ("registry list", "/suppliers", ["/api/v1/facilitators?limit=50"]),
        ("supplier page", f"/suppliers/{a.supplier}",
         [f"/api/v1/facilitators/{a.supplier}", f"/api/v1/facilitators/{a.supplier}/cooperation",
          f"/api/v1/facilitators/{a.supplier}/contacts", f"/api/v1/signals?facilitator_id={a.supplier}&limit=200"]),
        ("dashboard", "/home", ["/api/v1/reports/cooperation"]),
    ]
    print(f"   {'page':<16} {'p50 ms':>8} {'p95 ms':>8} {'ceiling':>8} {'ratio':>7} {'bytes':>9}   {'JSON API p50':>12} {'p95':>8}  verdict")
    fails = 0
    for name, path, apis in cases:
        times, size, body = timings(a.port, path, page_headers, a.runs)
        if name == "supplier page":
            events = body.decode().count("<time datetime=")
        api_total = None
        for api in apis:
            t, _, _ = timings(a.port, api, api_headers, a.runs)
            api_total = t if api_total is None else [x + y for x, y in zip(api_total, t)]
        p95 = pct(times, 95)
        verdict = "PASS" if p95 < a.ceiling else "FAIL"
        fails += verdict == "FAIL"
        print(f"   {name:<16} {statistics.median(times):8.2f} {p95:8.2f} {a.ceiling:8.0f} {p95 / a.ceiling:6.2f}x {size:9d}   "
              f"{statistics.median(api_total):12.2f} {pct(api_total, 95):8.2f}  {verdict}")
        if name == "supplier page":
            print(f"   {'':<16} (the supplier page listed {events} timeline entries; its JSON column sums {len(apis)} API calls)")
    print(f"RESULT pages={len(cases)} over_ceiling={fails}")


if __name__ == "__main__":
    main()
