"""Training jobs for the app: the queue with owners (the ledger), the child processes, and their wording."""
