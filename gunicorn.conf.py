"""gunicorn's settings for production; ``gunicorn wsgi:app`` run in this folder reads them.

One worker per core, each with threads (a thread waiting on the database lets another run),
and our threaded worker, which closes connections without stopping its loop (see
``provisioner.http.worker``). Any of them can be given on the command line instead.
"""

import os

workers = os.cpu_count() or 1
threads = 8
worker_class = "provisioner.http.worker.ThreadWorker"
