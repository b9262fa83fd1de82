"""The Compare tab: layout (layout.py), page handlers and tables (views.py), figures (plots.py), JSON endpoints
(api.py)."""
from genmodels.ui.compare import api, layout
from genmodels.ui.family import FamilyTab

TAB = FamilyTab(id="compare", label="Compare", build=layout.build_tab, register_api=api.register_api)
