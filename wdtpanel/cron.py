"""`rq cron wdtpanel/cron.py`: the periodic jobs (intervals from the same settings as the app)."""

from rq import cron

from wdtpanel import jobs
from wdtpanel.settings import Settings
from wdtpanel.states import PullKind

settings = Settings()

cron.register(
    jobs.pull_all, queue_name=settings.RQ_QUEUE, args=(str(PullKind.SHIPPING),), interval=settings.PULL_INTERVAL_SECONDS
)
cron.register(
    jobs.pull_all,
    queue_name=settings.RQ_QUEUE,
    args=(str(PullKind.STOCK),),
    interval=settings.STOCK_PULL_INTERVAL_SECONDS,
)
cron.register(jobs.sweep_pending, queue_name=settings.RQ_QUEUE, interval=settings.SWEEP_INTERVAL_SECONDS)
cron.register(jobs.sweep_webhooks, queue_name=settings.RQ_QUEUE, interval=settings.SWEEP_INTERVAL_SECONDS)
cron.register(jobs.housekeeping, queue_name=settings.RQ_QUEUE, interval=settings.SWEEP_INTERVAL_SECONDS)
cron.register(jobs.sweep_goods_pushes, queue_name=settings.RQ_QUEUE, interval=settings.SWEEP_INTERVAL_SECONDS)
