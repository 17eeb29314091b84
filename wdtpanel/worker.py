"""`rq worker --worker-class wdtpanel.worker.AppWorker`: runs jobs in the worker process itself (no fork per
job), so the app, its database pool and each merchant's WDT HTTP session stay warm from job to job.
Forking per job cost about 150 ms of reconnecting and re-warming per job (bench/push_orders.py)."""

import gc

from rq.worker import SimpleWorker

from . import jobs


class AppWorker(SimpleWorker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        jobs.preload_app()
        gc.freeze()  # the app's objects are there for good: the collector's full passes need not scan them again
