"""The gallery: its item model, view, delegate, actions and export dialog."""
