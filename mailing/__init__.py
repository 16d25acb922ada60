"""E-mail to citizens who agreed to it: their receipts, and reminders before a bill's due date (Flask-free).

Above payments and identity: it reads receipts and bills, and the e-mail consent identity keeps. Every
message is an outbox job sent by the job worker; see docs/email.md.
"""
