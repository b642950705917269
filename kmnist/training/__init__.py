"""Training one model: the input pipeline, the callbacks, and train()."""
