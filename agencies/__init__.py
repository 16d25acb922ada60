"""Agencies: the collecting agencies' systems that use the gateway (API clients, their keys and signing secrets).

Below ``payments`` on the package map: payments bills citizens on an agency's behalf and tells its system what
happened, so it reads who the agency is from here; nothing here knows about bills.
"""
