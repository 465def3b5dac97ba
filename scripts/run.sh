#!/usr/bin/env bash
# Starts the web server and a Celery worker (with embedded beat) side by side; Ctrl-C stops both.
# Called by `make run` after the database is migrated and the demo loaded.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-.venv/bin/python}
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-config.settings}
ADDR=${ADDR:-127.0.0.1:8000}
VAR_DIR=${CUSTODIA_VAR_DIR:-var}
mkdir -p "$VAR_DIR"

pids=()
stop() {
    trap - INT TERM EXIT
    echo
    echo "Stopping Custodia…"
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
}
trap stop INT TERM EXIT

"$PY" -m celery -A config worker --beat --loglevel=INFO --concurrency=2 \
    --schedule="$VAR_DIR/celerybeat-schedule" --hostname="custodia@%h" &
pids+=($!)
# No autoreloader: its child process would outlive a stopped parent and keep the port.
"$PY" manage.py runserver --noreload "$ADDR" &
pids+=($!)

password=$("$PY" -c 'import django; django.setup(); from registry.demo import DEMO_PASSWORD; print(DEMO_PASSWORD)')
cat <<MSG

  Custodia is starting on http://$ADDR/
  Demo logins (password: $password):
    admin        administrator (also /admin/)
    officer      compliance officer
    contributor  contributor
    auditor      read-only auditor
  Stop with Ctrl-C.

MSG

# Whichever stops first (Ctrl-C, a crash) stops the other.
wait -n "${pids[@]}" || true
