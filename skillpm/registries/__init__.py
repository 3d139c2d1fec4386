"""Registries: one static index format served over HTTP, git or a plain folder.

See docs/registry-protocol.md. Modules:

- protocol: the file formats (config.json, index lines, index.json). Pure.
- locations: a registry name/URL/path -> a `Registry` with one backend.
- client: the one HTTP client (retries, timeouts, tokens only to their registry).
- index_cache: index files cached with ETags; archives cached by sha256.
- auth: tokens from `skillpm login` or SKILLPM_TOKEN_<NAME>.
- publish: build, publish and yank into folder, git and HTTP registries.
- embedded: the skills shipped inside skillpm, as a registry.
"""
