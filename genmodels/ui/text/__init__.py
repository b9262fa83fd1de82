"""The autoregressive text tab: layout (layout.py), page handlers (views.py), JSON endpoints (api.py)."""
from genmodels.ui.family import FamilyTab
from genmodels.ui.text import api, layout

TAB = FamilyTab(id="text", label="Autoregressive (text)", build=layout.build_tab, register_api=api.register_api)
