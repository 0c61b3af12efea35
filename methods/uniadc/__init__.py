"""UniADC (Zhao et al.): anomaly synthesis from a prior or a few samples, and a discriminator that
detects and classifies; importing the package registers the `uniadc` method."""
from methods.uniadc import model  # noqa: F401  (registers "uniadc")
