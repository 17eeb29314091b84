"""`make bench`: run every benchmark and print its figures."""
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

for script in ("push_orders.py", "abnormal_page.py", "drain_shipments.py", "drain_stock.py"):
    print(f"== {script}", flush=True)
    subprocess.run([sys.executable, str(HERE / script)], cwd=HERE, check=True)
