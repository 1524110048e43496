"""`make bench`: load-test the users and content services over loopback from another process.

The orchestrator (`python -m bench`) brings up PostgreSQL and Redis, seeds a big
users table (and, for the content scenarios, 100,000 posts with their comments),
starts `python -m services.users` and `python -m services.content` as their own
processes (content calling users, as deployed), and runs each scenario's load
generator (`python -m bench.load`) as another process, so neither the client's CPU
nor the setup's is charged to the server being measured.
"""
