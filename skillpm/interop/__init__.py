"""Interoperability with other skill installers (`npx skills`, `gh skill`): importing their locks."""
