"""GAC, the Government Application Center: the catalogue of government apps."""
