"""The 2-D lab tab: layout and events (layout.py), handlers (views.py), figures (plots.py, diffusion_plots.py,
ar_plots.py) and the clickable canvas (canvas.py)."""
from genmodels.ui.family import FamilyTab
from genmodels.ui.lab import layout

TAB = FamilyTab(id="lab", label="2-D lab", build=layout.build_tab)
