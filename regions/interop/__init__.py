"""Other formats: PyTorch models (:mod:`.pytorch`), shapely and GeoJSON (:mod:`.geo`)."""
