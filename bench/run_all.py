"""`make bench`: every benchmark, then the results page.

python bench/run_all.py
"""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    for script, args in (
        ("engine.py", []),
        ("ask_latency.py", []),
        ("load.py", []),
        ("report.py", []),
    ):
        subprocess.run([sys.executable, str(HERE / script), *args], check=True)
