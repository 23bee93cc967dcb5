"""Tables (CSV + Markdown + LaTeX) and figures (PDF + PNG)."""
