"""Run every benchmark script in this folder (``make bench``) and print their timings.

Each ``bench_*.py`` is a plain script that prints what it measures; this runner executes
them one after another in fresh interpreters so that their timings do not interfere.
"""

import subprocess
import sys
from pathlib import Path

here = Path(__file__).resolve().parent
failed = []
for script in sorted(here.glob("bench_*.py")):
    print(f"=== {script.name} ===", flush=True)
    if subprocess.run([sys.executable, str(script)]).returncode != 0:
        failed.append(script.name)
if failed:
    sys.exit(f"benchmarks failed: {', '.join(failed)}")
