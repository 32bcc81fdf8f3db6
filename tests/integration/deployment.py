"""The worker settings our deployment and performance pages recommend: change them here when that advice changes.

``tests.integration.deployed_worker`` runs workers with them; the tests that restart the
database or take it away (``test_outages.py``) and the step invariant (``test_step_invariant.py``)
use such workers, so that they test what a site following our documentation runs. Plain data:
importing it changes nothing in the importing process.
"""

import celery

#: Added to the suite's database settings (PostgreSQL or MariaDB): the connection is kept
#: between tasks and checked before reuse ("Database" in docs/deployment.rst).
DATABASE = {"CONN_MAX_AGE": None, "CONN_HEALTH_CHECKS": True}

#: Celery's configuration ("Celery" in docs/deployment.rst, docs/performance.rst): late
#: acknowledgement, with redelivery of the tasks whose process dies; the site-wide time limits
#: (a task may set shorter ones).
CELERY: dict[str, object] = {
    "task_acks_late": True,
    "task_reject_on_worker_lost": True,
    "task_soft_time_limit": 55 * 60,
    "task_time_limit": 60 * 60,
}

#: Celery 5.6 and later close the connection around every task unless told to reuse it: the
#: pages say to set CELERY_DB_REUSE_MAX there, and to leave it unset with Celery 5.3 to 5.5.
if tuple(int(part) for part in celery.__version__.split(".")[:2]) >= (5, 6):
    CELERY["CELERY_DB_REUSE_MAX"] = 1000
