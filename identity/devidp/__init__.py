"""The bundled VNeID stand-in: a development OpenID Provider built on authlib's server components.

Framework-free: ``server.DevIdp`` takes plain requests and returns plain responses; the Flask blueprint
in ``citizen/views/devidp.py`` only translates. It serves the demo accounts in ``accounts.py`` and, in
test mode only, can be told to emit bad tokens (``faults.py``) so the relying-party attack suite runs
without any outside service.
"""
