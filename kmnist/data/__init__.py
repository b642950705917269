"""The data: the ten classes, pixel conversions, the KMNIST files (find, download, verify, load), the explorer's numbers."""
