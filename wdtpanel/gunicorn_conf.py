"""gunicorn settings (Procfile: `gunicorn -c wdtpanel/gunicorn_conf.py wsgi:app`).

WEB_CONCURRENCY worker processes of WEB_THREADS threads each (1: the sync worker; measured on 2 cores, threads
lengthened the slowest requests). With PROMETHEUS_MULTIPROC_DIR set, a worker's metric files are retired when it
exits."""

import gc
import os

from prometheus_client import multiprocess

bind = f"0.0.0.0:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "1"))


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):
    """As the worker boots: compile the templates, then freeze what is loaded (gc.freeze), so the collector's full
    passes scan what requests make, not the app's ~130,000 objects: about 50 ms of pause, mid-request, otherwise."""
    from wdtpanel.web import compile_templates

    compile_templates(worker.wsgi)
    gc.freeze()
