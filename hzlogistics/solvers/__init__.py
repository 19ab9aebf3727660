"""OR-Tools backends and array-level helpers shared by the models.

Nothing here imports geopandas: inputs are numpy arrays and scipy sparse matrices.
"""
