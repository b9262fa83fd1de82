"""The app's top-level tabs, in order: adding a family is one line here (and its package)."""
from genmodels.ui import about, compare, diffusion, gan, lab, pixels, plan, text

TABS = [text.TAB, pixels.TAB, diffusion.TAB, gan.TAB, lab.TAB, compare.TAB, plan.TAB, about.TAB]
