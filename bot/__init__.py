"""gitops-bot: the reviewer on every pull request of a GitOps repository."""

__version__ = "0.1.0"
