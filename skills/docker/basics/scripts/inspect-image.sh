#!/bin/sh
# Summarize an image: size, user, workdir, entrypoint, command, and its largest layers.
# Usage: inspect-image.sh IMAGE [N]   (N = how many layers to show, default 8)
set -eu

if [ $# -lt 1 ]; then
    echo "usage: $0 IMAGE [N]" >&2
    exit 2
fi
image=$1
top=${2:-8}

if ! command -v docker >/dev/null 2>&1; then
    echo "error: docker is not on PATH" >&2
    exit 1
fi

docker image inspect "$image" >/dev/null 2>&1 || {
    echo "error: no local image $image (build or pull it first)" >&2
    exit 1
}

fmt='size:       {{.Size}} bytes
user:       {{if .Config.User}}{{.Config.User}}{{else}}root (no USER set){{end}}
workdir:    {{if .Config.WorkingDir}}{{.Config.WorkingDir}}{{else}}/{{end}}
entrypoint: {{json .Config.Entrypoint}}
cmd:        {{json .Config.Cmd}}
platform:   {{.Os}}/{{.Architecture}}'
docker image inspect "$image" --format "$fmt"

echo
echo "largest layers:"
docker history --no-trunc --format '{{.Size}}\t{{.CreatedBy}}' "$image" \
    | awk -F '\t' '{ printf "%10s  %s\n", $1, substr($2, 1, 110) }' \
    | sort -h -r \
    | head -n "$top"
