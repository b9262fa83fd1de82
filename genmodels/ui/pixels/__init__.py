"""The autoregressive pixel tab: layout (layout.py), page handlers (views.py), JSON endpoint (api.py)."""
from genmodels.ui.family import FamilyTab
from genmodels.ui.pixels import api, layout

TAB = FamilyTab(id="pixels", label="Autoregressive (pixels)", build=layout.build_tab, register_api=api.register_api)
