"""The scenario engine: a SimPy model of a professional-services firm."""
