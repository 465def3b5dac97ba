"""Signals the registry sends so that apps above it can react without the registry importing them."""

from django.dispatch import Signal

# Sent by ``manage.py load_demo`` once the demo catalogue exists, with ``team`` (the demo team) and
# ``actor`` (the system actor that loaded it). The lineage app feeds the demo pipeline's events.
demo_loaded = Signal()

# Sent once the transaction that created an asset version commits, with ``version`` and ``actor``.
# The audits app queues the checks a policy asks for on new versions (e.g. a PII scan).
version_created = Signal()

# Sent once the transaction that moved a model version to another lifecycle stage commits, with
# ``version`` and ``actor``. The MLflow integration writes the new stage back to MLflow.
stage_changed = Signal()
