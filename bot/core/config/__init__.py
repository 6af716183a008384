"""Parsing `.gitops-bot.yaml` into RepoConfig; every error names the file and line."""
