"""Flask-free shared kernel: database base, money, time, errors, settings and the job outbox.

Nothing here imports Flask or any other package of ours; every other package may import it.
"""
