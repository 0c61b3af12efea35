"""UniADC (Zhao et al.): anomaly synthesis from a prior; the discriminator comes later."""
