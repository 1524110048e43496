"""`make bench`: load-test the users service over loopback from another process.

The orchestrator (`python -m bench`) brings up PostgreSQL and Redis, seeds a big
users table, starts `python -m services.users` as its own process, and runs each
scenario's load generator (`python -m bench.load`) as a third process, so neither
the client's CPU nor the setup's is charged to the server being measured.
"""
