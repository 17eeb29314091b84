"""`rq cron wdtpanel/cron.py`: the periodic jobs (intervals from the same settings as the app)."""

from functools import partial

from rq import cron

from wdtpanel import jobs
from wdtpanel.extensions import FAILED_JOB_TTL
from wdtpanel.settings import Settings
from wdtpanel.states import PullKind

settings = Settings()
QUEUE = settings.RQ_QUEUE
register = partial(cron.register, failure_ttl=FAILED_JOB_TTL)  # rq cron queues with RQ's own Queue class

register(jobs.pull_all, queue_name=QUEUE, args=(str(PullKind.SHIPPING),), interval=settings.PULL_INTERVAL_SECONDS)
register(
    jobs.pull_all,
    queue_name=QUEUE,
    args=(str(PullKind.STOCK),),
    interval=settings.STOCK_PULL_INTERVAL_SECONDS,
)
register(jobs.sweep_pending, queue_name=QUEUE, interval=settings.SWEEP_INTERVAL_SECONDS)
register(jobs.sweep_webhooks, queue_name=QUEUE, interval=settings.SWEEP_INTERVAL_SECONDS)
register(jobs.housekeeping, queue_name=QUEUE, interval=settings.SWEEP_INTERVAL_SECONDS)
register(jobs.sweep_goods_pushes, queue_name=QUEUE, interval=settings.SWEEP_INTERVAL_SECONDS)
