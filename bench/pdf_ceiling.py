"""The PDF ceiling of `scripts/bench letters`: one warm WeasyPrint process
rendering the same letter HTML again and again, in letters per second.
Run with /usr/bin/python3 (Debian's WeasyPrint is importable only there)."""
import sys
import time

import weasyprint

html = open(sys.argv[1], encoding="utf-8").read()
count = int(sys.argv[2])
weasyprint.HTML(string=html).write_pdf()  # warm: fonts, CSS, imports
start = time.perf_counter()
for _ in range(count):
    weasyprint.HTML(string=html).write_pdf()
elapsed = time.perf_counter() - start
print(f"RESULT ceiling_pdfs={count} ceiling_seconds={elapsed:.3f}")
