"""firewatch stage: models (see README.md beside this file).

Public API: `models.stage.RiskStage` (the ingest `Consumer`; `take_evidence` for the rules'
evidence), `models.stage.ModelSet`, `models.store.load_models` / `save` / `listing` /
`venue_hazards` / `ScoreWriter`, `models.fusion.RiskScore` / `Reason` / `Basis`,
`models.errors.ArtifactError`, `firewatch.cli_models.add_commands`.
"""
