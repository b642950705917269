"""The data: the ten classes, pixel conversions, the KMNIST files, the Dataset explorer's numbers."""
