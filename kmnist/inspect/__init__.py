"""Inside a trained CNN: layer outputs, feature-map grids, one convolution worked out, pooling, Grad-CAM."""
