"""The GAN tab: layout (layout.py, the live 2-D GAN in toy.py), page handlers (views.py), figures (plots.py),
JSON endpoints (api.py)."""
from genmodels.ui.family import FamilyTab
from genmodels.ui.gan import api, layout

TAB = FamilyTab(id="gan", label="GAN (images)", build=layout.build_tab, register_api=api.register_api)
