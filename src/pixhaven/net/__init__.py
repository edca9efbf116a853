"""Outbound HTTP: which destinations a client-given URL may reach (addresses.py), fetching
and posting under those rules (fetch.py), and AWS SigV4 presigning for R2 (sigv4.py)."""
