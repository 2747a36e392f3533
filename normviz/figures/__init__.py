"""Pure figure builders: arrays and results in, plotly figures or image arrays out (no streamlit)."""

from .cube import CubeFigure, build_cube, cell_at_vertex, cube_from_result

__all__ = ["CubeFigure", "build_cube", "cell_at_vertex", "cube_from_result"]
