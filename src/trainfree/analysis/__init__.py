"""Correlations with bootstrap CIs, the DAS combination rules and their ablation."""
