"""The diffusion tab: layout (layout.py), page handlers (views.py), JSON endpoints (api.py)."""
from genmodels.ui.diffusion import api, layout
from genmodels.ui.family import FamilyTab

TAB = FamilyTab(id="diffusion", label="Diffusion (images)", build=layout.build_tab, register_api=api.register_api)
