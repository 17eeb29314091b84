"""gunicorn settings (Procfile: `gunicorn -c wdtpanel/gunicorn_conf.py`): with PROMETHEUS_MULTIPROC_DIR set, a
worker's metric files are retired when it exits, so /metrics sums only live and finished work correctly."""
import os

from prometheus_client import multiprocess


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
