"""The citizen app: the pages a citizen uses (bills, payment, receipts, fees, account), the agency REST API
that opens their bills, and the provider and bank endpoints that settle them.

It stands on the web platform (``web``) and never imports the back office (``admin``); the composition
root (``gateway``) registers both.
"""

from pathlib import Path

#: Every citizen blueprint that renders a page looks here (the shared layout is in ``web/templates``).
TEMPLATES = str(Path(__file__).resolve().parent / "templates")
