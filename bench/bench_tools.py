#!/usr/bin/env python3
"""Small helpers for bench/registry.sh (standard library only).

    bench_tools.py queries CSV N SEED OUT        search strings taken from the data
    bench_tools.py pgbench-p LOG... --pct P      latency percentile (ms) of pgbench -l logs
    bench_tools.py free-port START               first free 127.0.0.1 TCP port from START
    bench_tools.py rss-max FILE                  largest VmRSS sample (kB) in a sampler file
    bench_tools.py summary FILE                  the final table from tab-separated figures
    bench_tools.py peak-rss OUT -- COMMAND...    runs COMMAND (stdout passed on) and writes its
                                                 peak RSS in kB (getrusage of the child) to OUT
"""

import collections
import csv
import glob
import os
import random
import re
import resource
import socket
import subprocess
import sys

csv.field_size_limit(1 << 24)

# legal forms and joiners are never what an officer types into the search box
NOISE = {
    "gmbh", "ag", "kg", "ohg", "e.k.", "ug", "(haftungsbeschränkt)", "se", "&", "co.", "co", "und", "and", "et",
    "e.u.", "og", "sas", "sarl", "sa", "sasu", "eurl", "snc", "s.r.l.", "s.p.a.", "s.r.l.s.", "s.a.s.", "s.n.c.",
    "s.l.", "s.a.", "s.l.u.", "s.", "coop.", "sp.", "z", "o.o.", "j.", "k.", "b.v.", "n.v.", "v.o.f.", "c.v.", "bv",
    "nv", "commv", "vof", "srl", "scomm", "sc", "ab", "hb", "kb", "lda.", "unipessoal", "s.r.o.", "a.s.", "v.o.s.",
    "ltd", "limited", "dac", "plc", "unlimited", "company", "teoranta", "aps", "a/s", "i/s", "oy", "oyj", "ky",
    "s.à", "r.l.", "scs", "-", "van", "de", "der", "den", "la", "le", "du", "des", "di", "del", "da", "y", "i", "e",
}


def queries(path, n, seed, out):
    """n search strings: the first one or two distinctive words of random legal
    names, lowercased, at least five characters. Words found in more than 0.1 %
    of the names (sector words such as "express" or "hosting") are skipped:
    nobody looks a company up by them, and each matches thousands of rows."""
    names = []
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        col = header.index("legal_name")
        for row in reader:
            names.append(row[col])
    freq = collections.Counter()
    for name in names:
        for w in set(name.lower().split()):
            freq[w] += 1
    limit = max(3, len(names) * 0.001)
    rnd = random.Random(seed)
    picked, seen = [], set()
    tries = 0
    while len(picked) < n and tries < n * 200:
        tries += 1
        words = [w for w in rnd.choice(names).lower().split() if w not in NOISE and re.search(r"\w", w)]
        words = [w.strip(",.()") for w in words]
        words = [w for w in words if len(w) >= 3 and freq[w] <= limit]
        if not words:
            continue
        q = " ".join(words[:2]) if len(words) > 1 and rnd.random() < 0.35 else words[0]
        if len(q) < 5 or q in seen:
            continue
        seen.add(q)
        picked.append(q)
    if len(picked) < n:
        sys.exit(f"only {len(picked)} distinct search strings found in {path}")
    tmp = f"{out}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as fh:
        for q in picked:
            fh.write(q + "\n")
    os.replace(tmp, out)


def percentile(values, pct):
    values = sorted(values)
    if not values:
        raise SystemExit("no samples")
    k = max(0, min(len(values) - 1, int(round(pct / 100 * len(values) + 0.5)) - 1))
    return values[k]


def pgbench_p(paths, pct):
    """pgbench -l lines: client_id transaction_no latency_us script_no epoch epoch_us [schedule_lag]."""
    lat = []
    for pattern in paths:
        for p in glob.glob(pattern):
            with open(p) as fh:
                for line in fh:
                    parts = line.split()
                    if len(parts) >= 3 and parts[2].isdigit():
                        lat.append(int(parts[2]))
    print(f"{percentile(lat, pct) / 1000:.2f} {len(lat)}")


def free_port(start):
    for port in range(start, start + 200):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            s.close()
        print(port)
        return
    sys.exit("no free port")


def rss_max(path):
    best = 0
    with open(path) as fh:
        for line in fh:
            if line.strip().isdigit():
                best = max(best, int(line))
    print(best)


def peak_rss(out, command):
    status = subprocess.call(command)
    with open(out, "w") as fh:
        fh.write("%d\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    sys.exit(status)


def summary(path):
    """Lines: figure, value, ceiling, ratio, target, verdict (tab-separated)."""
    rows = [line.rstrip("\n").split("\t") for line in open(path, encoding="utf-8") if line.strip()]
    head = ["figure", "value", "ceiling", "ratio", "target", "result"]
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    fmt = "  ".join("{:<%d}" % w if i in (0, 4, 5) else "{:>%d}" % w for i, w in enumerate(widths))
    print(fmt.format(*head))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(fmt.format(*r))


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd = argv[1]
    if cmd == "queries" and len(argv) == 6:
        queries(argv[2], int(argv[3]), int(argv[4]), argv[5])
    elif cmd == "pgbench-p" and "--pct" in argv:
        i = argv.index("--pct")
        pgbench_p(argv[2:i] + argv[i + 2:], float(argv[i + 1]))
    elif cmd == "free-port" and len(argv) == 3:
        free_port(int(argv[2]))
    elif cmd == "rss-max" and len(argv) == 3:
        rss_max(argv[2])
    elif cmd == "peak-rss" and len(argv) > 4 and argv[3] == "--":
        peak_rss(argv[2], argv[4:])
    elif cmd == "summary" and len(argv) == 3:
        summary(argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
