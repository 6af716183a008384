"""The server: Flask web app (GitHub App, GitLab webhook), workers, publishing. Adapters only."""
