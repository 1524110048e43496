"""`make bench`: load-test the users, content and social services over loopback from
another process.

The orchestrator (`python -m bench`) brings up PostgreSQL and Redis, seeds a big
users table (and, for the content and social scenarios, 100,000 posts with their
comments and a social graph of millions of follows over those users), starts
`python -m services.users`, `python -m services.content` and `python -m services.social`
as their own processes (calling each other, as deployed), and runs each scenario's load
generator (`python -m bench.load`) as another process, so neither the client's CPU
nor the setup's is charged to the server being measured.
"""
