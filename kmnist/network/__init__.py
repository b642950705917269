"""The networks and how to train them: architectures, layers by role, the run config, named recipes."""
