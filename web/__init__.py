"""The web platform the citizen app and the back office both stand on: the database session per request,
logins and roles, the error table, languages, security, logs, the job queue and the runtime wiring of
providers and settings that the web app and the job worker share.

It imports the domain packages and never the apps built on it (``citizen``, ``admin``) or the
composition root (``gateway``).
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent
