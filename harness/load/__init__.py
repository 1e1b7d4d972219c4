"""`firmsim load`: drive business events through served systems and an engine, and measure them."""
