"""Training of dense members: data batches, augmentation, optimizer and schedule, the epoch loop."""
