"""The runtime every Daira service shares: settings, database, cache, serving, auth, errors."""
