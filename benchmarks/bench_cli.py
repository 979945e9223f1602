"""Start-up time of the command line (issue 14, item 6: ``crknee --help`` <= 0.3 s).

Wall time of ``crknee --help``, ``crknee --version`` and ``crknee source --help`` in fresh
interpreters (best of 5), and the heaviest imports of ``crknee --help`` from
``python -X importtime``.  Before the lazy command groups ``crknee --help`` took 1.2-1.5 s
(every command module, numpy, astropy and scipy imported eagerly).
"""

import subprocess
import sys
import time

RUN = "from crknee.cli import main; main()"


def best_of(args, n=5):
    best = float("inf")
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", RUN, *args], check=True, capture_output=True)
        best = min(best, time.perf_counter() - t0)
    return best


t0 = time.perf_counter()
for _ in range(5):
    subprocess.run([sys.executable, "-c", "pass"], check=True)
print(f"bare python start-up: {(time.perf_counter() - t0) / 5:.3f} s (mean of 5)")
for args in (["--help"], ["--version"], ["plot", "--help"], ["source", "--help"]):
    print(f"crknee {' '.join(args)}: {best_of(args):.3f} s (best of 5)")

res = subprocess.run(
    [sys.executable, "-X", "importtime", "-c", RUN, "--help"], capture_output=True, text=True, check=True
)
rows = []
for line in res.stderr.splitlines():
    if line.startswith("import time:") and "cumulative" not in line:
        _self_us, cumulative_us, name = line[len("import time:") :].split("|")
        rows.append((int(cumulative_us), name.rstrip()))
print("heaviest imports of `crknee --help` (cumulative):")
for cumulative_us, name in sorted(rows, reverse=True)[:6]:
    print(f"  {cumulative_us / 1e3:7.1f} ms {name}")
