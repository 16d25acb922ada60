#!/usr/bin/env bash
# The agency API's contract on a live server: schemathesis (all phases, stateful included) against
# /api/v1/openapi.json, authenticated as the demo agency. No 5xx, every response as documented, bad input
# refused (accepted statuses for schema-valid input: schemathesis.toml). Needs schemathesis (see the report).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
PORT=${API_CONTRACT_PORT:-8765}
folder=$(mktemp -d)
export GATEWAY_INSTANCE_PATH="$folder" GATEWAY_LOG_LEVEL=WARNING GATEWAY_QUEUE_URL=memory://
trap 'kill "$server" 2>/dev/null || true; rm -rf "$folder"' EXIT
"$PY" -m gateway migrate
"$PY" -m gateway seed >/dev/null
# The demo agency may use the OpenAPI examples' return URL and is not rate limited during the run.
"$PY" - <<'PYTHON'
from dataclasses import replace

from core.clock import SYSTEM_CLOCK
from core.db import make_engine, make_session_factory
from core.settings import Settings
from web.agency_runtime import DEMO_CLIENT, keyring_for
from agencies.clients import find_by_key, update_client

settings = Settings.from_env()
with make_session_factory(make_engine(settings.database_url))() as session, session.begin():
    client = find_by_key(session, settings.demo_agency_key, keyring_for(settings))
    spec = replace(DEMO_CLIENT, callback_url=client.callback_url, rate_limit_per_minute=100_000,
                   return_url_domains=(*DEMO_CLIENT.return_url_domains, "tuphap.hanoi.gov.vn"))
    update_client(session, client.id, spec, actor="ci", clock=SYSTEM_CLOCK)
PYTHON
# No request-line limit here (production keeps gunicorn's): fuzzed query strings longer than any limit must
# reach the API, whose own validation is under test (a 414 from gunicorn is HTML, outside the contract).
"$(dirname "$PY")/gunicorn" wsgi:app --bind "127.0.0.1:$PORT" --workers 2 --limit-request-line 0 &
server=$!
for _ in $(seq 1 30); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 1; done
"$(dirname "$PY")/st" run "http://127.0.0.1:$PORT/api/v1/openapi.json" \
  -H "Authorization: Bearer ${GATEWAY_DEMO_AGENCY_KEY:-gwk_demo_agency_key_for_local_development_only}" \
  --include-path-regex '^/api/v1/bills' --max-examples 50
