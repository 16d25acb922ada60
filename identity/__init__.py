"""Who someone is: the VNeID relying party, the bundled stand-in provider, citizen profiles, staff and roles.

Flask-free: functions take a SQLAlchemy session and plain values.
"""
