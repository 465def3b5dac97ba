"""Importing models, versions, runs and prompts from MLflow tracking servers (see ``sync``).

``client`` talks to a server, ``sync`` writes what it read into the registry, ``writeback`` sends
Custodia's decisions back as MLflow tags, ``runs`` claims and finishes a server's sync for the
Celery task and the management command.
"""

import os

# MLflow's client reports usage to an outside service unless told not to, and Custodia makes no
# network call but to the configured servers. MLflow reads this when first imported, and this
# package is imported before its modules import mlflow.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
