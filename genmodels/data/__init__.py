"""Dataset acquisition and loading; training needs these, the app never does."""
