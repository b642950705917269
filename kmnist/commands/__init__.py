"""The command line (`python -m kmnist`) and the benchmark."""
