#!/usr/bin/env bash
# One command from a fresh clone to a real release on the local backend: installs what is
# missing (Debian packages, npm dependencies), starts a registry on loopback, commits the
# example app in examples/hello to its own git repository, and releases it — build, push,
# candidate, a 3-child canary array job in real containers, promotion.
# Run it again: it commits a change to the app and releases that, leaving something to roll back.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
demo="${BATCHSHIP_DEMO_DIR:-${TMPDIR:-/tmp}/batchship-demo}"
cd "$root"

"$root/scripts/install-system-deps.sh"
[ -d node_modules ] || npm ci --no-audit --no-fund
[ -f build/cli/main.js ] || npm run build --silent

mkdir -p "$demo"

# ---- a registry on loopback, reused while it runs
registry_up() {
  [ -f "$demo/registry.port" ] &&
    node -e 'fetch(`http://127.0.0.1:${process.argv[1]}/v2/`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' \
      "$(cat "$demo/registry.port")"
}
if ! registry_up; then
  port="$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')"
  cat > "$demo/registry.yml" <<YAML
version: 0.1
log: { level: error }
storage:
  filesystem: { rootdirectory: "$demo/registry-data" }
http:
  addr: 127.0.0.1:$port
YAML
  nohup docker-registry serve "$demo/registry.yml" > "$demo/registry.log" 2>&1 &
  echo $! > "$demo/registry.pid"
  echo "$port" > "$demo/registry.port"
  for _ in $(seq 1 50); do registry_up && break; sleep 0.2; done
  registry_up || { echo "docker-registry did not start; see $demo/registry.log" >&2; exit 3; }
  echo "started docker-registry on 127.0.0.1:$port (pid $(cat "$demo/registry.pid"))" >&2
fi
registry="127.0.0.1:$(cat "$demo/registry.port")"

# ---- the example app, in its own repository: a release is always of a commit
app="$demo/hello"
git_in_app() { git -C "$app" -c user.name=batchship-demo -c user.email=demo@batchship.invalid "$@"; }
if [ ! -d "$app/.git" ]; then
  mkdir -p "$app"
  cp examples/hello/Dockerfile examples/hello/app.sh "$app/"
  # No base image can be pulled without internet: the image is FROM scratch plus this binary.
  cp "$(command -v busybox)" "$app/busybox"
  sed "s#REGISTRY#$registry#" examples/hello/pipeline.yml > "$app/pipeline.yml"
  git -C "$app" init -q -b main
  git_in_app add -A
  git_in_app commit -q -m "hello: first release"
else
  # A source change, not a Dockerfile change: every commit is a release.
  # The registry may have restarted on another port since the last run.
  sed -i "s#repository: 127\.0\.0\.1:[0-9]*/hello#repository: $registry/hello#" "$app/pipeline.yml"
  echo "# changed by the demo at $(date -u +%Y-%m-%dT%H:%M:%SZ)" >> "$app/app.sh"
  git_in_app commit -q -am "hello: another release"
fi

export BATCHSHIP_STATE_DIR="$demo/state"
status=0
node bin/batchship.js release --pipeline "$app/pipeline.yml" --poll-interval 1 || status=$?

cat >&2 <<NEXT

Where to look next (the state of this demo lives in $demo):
  export BATCHSHIP_STATE_DIR=$demo/state
  node bin/batchship.js status   --pipeline $app/pipeline.yml
  node bin/batchship.js promote  --pipeline $app/pipeline.yml        # the manual gate (promotion.mode: manual)
  node bin/batchship.js rollback --pipeline $app/pipeline.yml
  ls $demo/state/jobs/*/                                             # each canary child's output
  $0                                               # commit a change and release again
Stop the registry with: kill \$(cat $demo/registry.pid)
NEXT
exit "$status"
