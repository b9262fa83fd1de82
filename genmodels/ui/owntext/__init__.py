"""The text tab's "Your own text" sub-tab: a tiny GPT trained live on a visitor's text (layout.py, views.py)."""
