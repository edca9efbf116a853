#!/usr/bin/env bash
# Deploys Pixhaven to Cloudflare (workers.dev), from an empty account to a working
# deployment, and updates it when run again. Safe to re-run: every resource is looked up
# before it is created, and a Worker is deployed only when its code or configuration
# changed, so a second run in a row changes nothing.
#
#   ./scripts/deploy.sh
#
# What it does, in order (README, "Deploying to Cloudflare"): checks uv and Node.js/npm;
# installs the pinned wrangler (package.json, browser/package.json); logs in to Cloudflare
# when wrangler is not logged in; finds or creates the D1 database, the R2 bucket, the queue
# and its dead-letter queue named in wrangler.toml; writes the database's id into
# wrangler.deploy.toml (a local copy of wrangler.toml, not committed: wrangler.toml keeps no
# account's ids); applies the D1 migrations; sets the secrets; uploads the rendering fonts
# to R2; puts the console's libraries into console/vendor (`pixhaven console install`: the
# Worker's static assets, uploaded with it); deploys the companion browser Worker (browser/),
# then the Python Worker; calls /health on the deployed URL.
#
# Secrets are read from the environment and handed to wrangler on its standard input (never
# on a command line, never printed): ADMIN_TOKEN, UPLOAD_SIGNING_SECRET, R2_ACCESS_KEY_ID,
# R2_SECRET_ACCESS_KEY, BROWSER_RENDERING_API_TOKEN. Without ADMIN_TOKEN, a Worker that has
# one keeps it; otherwise the script asks for one on a terminal, or generates one, prints it
# once and keeps it in .pixhaven/cloudflare/admin_token.
# PUBLIC_BASE_URL (e.g. https://img.example.com, for a custom domain) is written into
# wrangler.deploy.toml's [vars] and is where /health is checked.
#
# Each step prints what it does and the command it runs; a failed step stops the script and
# prints the command to retry (or re-run this script: it resumes where it failed).
set -euo pipefail
cd "$(dirname "$0")/.."

CONFIG=wrangler.toml
DEPLOY_CONFIG=wrangler.deploy.toml
STATE_DIR=.pixhaven/cloudflare
ADMIN_TOKEN_FILE="$STATE_DIR/admin_token"
FONTS_STAMP="$STATE_DIR/fonts_uploaded"
OPTIONAL_SECRETS=(UPLOAD_SIGNING_SECRET R2_ACCESS_KEY_ID R2_SECRET_ACCESS_KEY BROWSER_RENDERING_API_TOKEN)
# pywrangler needs uv 0.12.3 or newer (it checks); the companion's wrangler needs Node.js 20; the
# root's pinned wrangler needs Node.js 22, which package.json installs beside it.
MIN_UV=0.12.3
MIN_NODE_MAJOR=20

step() { printf '\n==> %s\n' "$*"; }
say() { printf '    %s\n' "$*"; }

# The command as one copy-pasteable line.
quoted() {
    local out="" word
    for word in "$@"; do out+="$(printf '%q' "$word") "; done
    printf '%s' "${out% }"
}

fail() { # fail RETRY_COMMAND MESSAGE...
    local retry=$1
    shift
    printf '\ndeploy.sh: %s\n' "$*" >&2
    printf '  retry with:  %s\n' "$retry" >&2
    printf '  or re-run:   ./scripts/deploy.sh   (it finds what already exists)\n' >&2
    exit 1
}

# run COMMAND...: prints it, runs it with no terminal input (wrangler then never prompts),
# stops on failure with the command to retry.
run() {
    printf '    $ %s\n' "$(quoted "$@")"
    "$@" </dev/null || fail "$(quoted "$@")" "failed: $(quoted "$@")"
}

# capture COMMAND...: runs it quietly and prints its standard output; stops on failure.
capture() {
    local output
    output=$("$@" </dev/null 2>"$STATE_DIR/last_error") || {
        cat "$STATE_DIR/last_error" >&2
        fail "$(quoted "$@")" "failed: $(quoted "$@")"
    }
    printf '%s' "$output"
}

wrangler() { npx --yes wrangler "$@"; } # the root's pinned copy (package.json)

# toml_value TABLE KEY [FILE]: the first `KEY = "value"` under [TABLE] or [[TABLE]] ("" = the
# top) of FILE (wrangler.toml); the names the script creates are the ones the Workers bind.
toml_value() {
    awk -v table="$1" -v key="$2" '
        /^[ \t]*\[/ { current = $0; gsub(/^[ \t]*\[+|\]+.*$/, "", current); next }
        current == table && $0 ~ "^[ \t]*" key "[ \t]*=" {
            sub(/^[^=]*=[ \t]*"/, ""); sub(/".*$/, ""); print; exit
        }' "${3:-$CONFIG}"
}

# listed NAME: whether NAME appears as a whole name (not part of a longer one) on stdin.
listed() {
    grep -Eq "(^|[^A-Za-z0-9_.-])$(printf '%s' "$1" | sed 's/[.]/\\./g')([^A-Za-z0-9_.-]|$)"
}

version_at_least() { # version_at_least HAVE WANT
    [ "$(printf '%s\n%s\n' "$2" "$1" | sort -t. -k1,1n -k2,2n -k3,3n | head -n1)" = "$2" ]
}

mkdir -p "$STATE_DIR"

step "Checking the tools (uv, Node.js with npm, curl)"
missing=0
uv_version=""
if ! command -v uv >/dev/null 2>&1; then
    say "uv is missing: it runs pywrangler (Cloudflare's Python Workers tool)."
    say "  install it: curl -LsSf https://astral.sh/uv/install.sh | sh   (or: pipx install uv)"
    missing=1
else
    uv_version=$(uv --version | awk '{print $2}')
    if ! version_at_least "$uv_version" "$MIN_UV"; then
        say "uv $uv_version is too old (pywrangler needs $MIN_UV or newer): uv self update"
        missing=1
    fi
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1 ||
    ! command -v npx >/dev/null 2>&1; then
    say "Node.js with npm is missing: it installs and runs wrangler."
    say "  install Node.js $MIN_NODE_MAJOR or newer with npm: https://nodejs.org/en/download"
    missing=1
elif ! node -e "process.exit(+process.versions.node.split('.')[0] >= $MIN_NODE_MAJOR ? 0 : 1)"; then
    say "Node.js $(node --version) is too old: install Node.js $MIN_NODE_MAJOR or newer"
    missing=1
fi
if ! command -v curl >/dev/null 2>&1; then
    say "curl is missing: it checks the deployed Worker (apt-get install curl, brew install curl)"
    missing=1
fi
[ "$missing" -eq 0 ] || fail "./scripts/deploy.sh" "install the tools above, then run it again"
say "uv $uv_version, Node.js $(node --version), npm $(npm --version)"

step "Installing the pinned wrangler (package.json) and the companion Worker's packages"
for prefix in . browser; do
    # npm ci only when the lock file changed since the last install.
    if [ ! -f "$prefix/node_modules/.package-lock.json" ] ||
        [ "$prefix/package-lock.json" -nt "$prefix/node_modules/.package-lock.json" ]; then
        run npm ci --prefix "$prefix" --no-audit --no-fund --loglevel=error
    else
        say "$prefix/node_modules is up to date"
    fi
done

step "Logging in to Cloudflare"
# `whoami --json` fails when not logged in (plain `whoami` says so and succeeds).
if wrangler whoami --json </dev/null >/dev/null 2>&1; then
    say "wrangler is logged in"
else
    say "wrangler is not logged in: opening Cloudflare's login in the browser"
    printf '    $ %s\n' "npx --yes wrangler login"
    wrangler login || fail "npx --yes wrangler login" "login failed"
fi

worker_name=$(toml_value "" name)
database_name=$(toml_value d1_databases database_name)
bucket_name=$(toml_value r2_buckets bucket_name)
queue_name=$(toml_value queues.producers queue)
dead_letter_queue=$(toml_value queues.consumers dead_letter_queue)
for value in worker_name database_name bucket_name queue_name dead_letter_queue; do
    [ -n "${!value}" ] || fail "./scripts/deploy.sh" "$CONFIG does not name the $value"
done

step "D1 database '$database_name'"
database_id_of() { # the id of the database named $1, or nothing
    local listing
    listing=$(capture npx --yes wrangler d1 list --json) || exit 1
    printf '%s' "$listing" | node -e '
        let text = "";
        process.stdin.on("data", (chunk) => (text += chunk)).on("end", () => {
            const found = JSON.parse(text).find((db) => db.name === process.argv[1]);
            if (found) console.log(found.uuid);
        });' "$1" 2>/dev/null ||
        fail "npx --yes wrangler d1 list --json" "wrangler's list of D1 databases is not JSON"
}
database_id=$(database_id_of "$database_name")
if [ -n "$database_id" ]; then
    say "found: $database_id"
else
    run npx --yes wrangler d1 create "$database_name"
    database_id=$(database_id_of "$database_name")
    [ -n "$database_id" ] || fail "npx --yes wrangler d1 list --json" "the new database is not listed"
    say "created: $database_id"
fi

step "Local configuration $DEPLOY_CONFIG (wrangler.toml with this account's database id)"
draft=$(mktemp "$STATE_DIR/deploy-config.XXXXXX")
{
    printf '# Written by scripts/deploy.sh from wrangler.toml on every run: edit wrangler.toml.\n'
    printf '# Not committed (.gitignore): it holds this account'"'"'s D1 database id.\n'
    if [ -n "${PUBLIC_BASE_URL:-}" ]; then
        sed -e "s|^database_id = .*|database_id = \"$database_id\"|" \
            -e "s|^PUBLIC_BASE_URL = .*|PUBLIC_BASE_URL = \"$PUBLIC_BASE_URL\"|" "$CONFIG"
    else
        sed -e "s|^database_id = .*|database_id = \"$database_id\"|" "$CONFIG"
    fi
} >"$draft"
grep -q "^database_id = \"$database_id\"" "$draft" ||
    fail "./scripts/deploy.sh" "$CONFIG has no 'database_id = ...' line to fill in"
if [ -f "$DEPLOY_CONFIG" ] && cmp -s "$draft" "$DEPLOY_CONFIG"; then
    rm -f "$draft"
    say "unchanged"
else
    mv "$draft" "$DEPLOY_CONFIG"
    say "written"
fi

step "R2 bucket '$bucket_name'"
bucket_created=0
buckets=$(capture npx --yes wrangler r2 bucket list)
if listed "$bucket_name" <<<"$buckets"; then
    say "found"
else
    run npx --yes wrangler r2 bucket create "$bucket_name"
    bucket_created=1
fi

step "Queues '$queue_name' and its dead-letter queue '$dead_letter_queue'"
queues=$(capture npx --yes wrangler queues list)
for queue in "$queue_name" "$dead_letter_queue"; do
    if listed "$queue" <<<"$queues"; then
        say "found: $queue"
    else
        run npx --yes wrangler queues create "$queue"
    fi
done

step "D1 migrations (migrations/), applied remotely"
run npx --yes wrangler d1 migrations apply DB --remote --config "$DEPLOY_CONFIG"

step "Secrets"
# The Worker's secret names. Before its first deploy there is no Worker (Cloudflare's error
# 10007): none. Any other failure stops here, so an ADMIN_TOKEN is never replaced by mistake.
secret_list=(npx --yes wrangler secret list --config "$DEPLOY_CONFIG" --format json)
printf '    $ %s\n' "$(quoted "${secret_list[@]}")"
if secrets_json=$("${secret_list[@]}" </dev/null 2>"$STATE_DIR/last_error"); then
    existing_secrets=$(printf '%s' "$secrets_json" | node -e '
        let text = "";
        process.stdin.on("data", (chunk) => (text += chunk)).on("end", () => {
            for (const secret of JSON.parse(text)) console.log(secret.name);
        });' 2>/dev/null) ||
        fail "$(quoted "${secret_list[@]}")" "wrangler's list of secrets is not JSON"
elif grep -q "10007" "$STATE_DIR/last_error"; then
    existing_secrets=""
    say "no Worker '$worker_name' yet: no secrets"
else
    cat "$STATE_DIR/last_error" >&2
    fail "$(quoted "${secret_list[@]}")" "failed: $(quoted "${secret_list[@]}")"
fi
put_secret() { # put_secret NAME VALUE: the value goes on wrangler's standard input only
    printf '    $ %s\n' "npx --yes wrangler secret put $1 --config $DEPLOY_CONFIG   (value on stdin)"
    printf '%s' "$2" | wrangler secret put "$1" --config "$DEPLOY_CONFIG" >/dev/null ||
        fail "printf '%s' \"\$$1\" | npx --yes wrangler secret put $1 --config $DEPLOY_CONFIG" \
            "setting the secret $1 failed"
}
admin_token_note=""
if [ -n "${ADMIN_TOKEN:-}" ]; then
    put_secret ADMIN_TOKEN "$ADMIN_TOKEN"
    admin_token_note="the ADMIN_TOKEN you gave this script"
elif grep -qx ADMIN_TOKEN <<<"$existing_secrets"; then
    say "ADMIN_TOKEN: already set, kept"
    if [ -f "$ADMIN_TOKEN_FILE" ]; then
        admin_token_note="$ADMIN_TOKEN_FILE"
    else
        admin_token_note="the ADMIN_TOKEN set before (not generated here; set a new one: ADMIN_TOKEN=... ./scripts/deploy.sh)"
    fi
elif [ -s "$ADMIN_TOKEN_FILE" ]; then
    # Generated by a run that stopped before the Worker had it: the same token, not another.
    say "ADMIN_TOKEN: the one generated before ($ADMIN_TOKEN_FILE)"
    put_secret ADMIN_TOKEN "$(cat "$ADMIN_TOKEN_FILE")"
    admin_token_note="$ADMIN_TOKEN_FILE"
else
    token=""
    if [ -t 0 ]; then
        read -rsp "    ADMIN_TOKEN for the Worker (empty: generate one): " token
        printf '\n'
    fi
    if [ -z "$token" ]; then
        token=$(node -e 'console.log(require("crypto").randomBytes(32).toString("base64url"))')
        (umask 077 && printf '%s\n' "$token" >"$ADMIN_TOKEN_FILE")
        say "generated ADMIN_TOKEN (shown once, kept in $ADMIN_TOKEN_FILE):"
        say "  $token"
        admin_token_note="$ADMIN_TOKEN_FILE"
    else
        admin_token_note="the ADMIN_TOKEN you typed"
    fi
    put_secret ADMIN_TOKEN "$token"
    unset token
fi
for name in "${OPTIONAL_SECRETS[@]}"; do
    if [ -n "${!name:-}" ]; then
        put_secret "$name" "${!name}"
    fi
done

step "Rendering fonts into R2 ($bucket_name/fonts/)"
# Uploaded again only when the bucket is new or the font catalogue changed.
fonts_wanted="bucket=$bucket_name catalogue=$(cksum <src/pixhaven/render/fonts.py | awk '{print $1}')"
if [ "$bucket_created" -eq 0 ] && [ -f "$FONTS_STAMP" ] && [ "$(cat "$FONTS_STAMP")" = "$fonts_wanted" ]; then
    say "already uploaded (delete $FONTS_STAMP to upload again)"
else
    run uv run pixhaven fonts install --remote
    printf '%s\n' "$fonts_wanted" >"$FONTS_STAMP"
fi

# fingerprint PATH...: one checksum of the files under PATH (what a deploy uploads, and the
# configuration it is deployed with), to tell whether the last deploy already has it.
fingerprint() {
    find "$@" -type f ! -path '*/node_modules/*' ! -path '*/__pycache__/*' \
        ! -path '*.egg-info/*' -print0 | LC_ALL=C sort -z | xargs -0 cksum | cksum |
        awk '{print $1 "-" $2}'
}
# up_to_date NAME FINGERPRINT: the Worker NAME runs the version this machine last deployed
# (not one rolled back to, nor a new one from a changed secret), built from FINGERPRINT.
up_to_date() {
    local recorded fingerprint version status
    recorded="$STATE_DIR/deployed_$1"
    [ -f "$recorded" ] || return 1
    read -r fingerprint version <"$recorded"
    [ "$fingerprint" = "$2" ] && [ -n "$version" ] || return 1
    # (Read whole, then searched: `grep -q` in a pipe could stop wrangler mid-write.)
    status=$(npx --yes wrangler deployments status --name "$1" --json </dev/null 2>/dev/null) ||
        return 1
    grep -q "\"version_id\": *\"$version\"" <<<"$status"
}
# record NAME FINGERPRINT LOG: notes the version a deploy (its output in LOG) made current.
record() {
    local version
    version=$(sed -n 's/.*Current Version ID: *\([0-9A-Za-z-]*\).*/\1/p' "$3" | tail -n1)
    printf '%s %s\n' "$2" "$version" >"$STATE_DIR/deployed_$1"
}
deploy_log="$STATE_DIR/last_deploy.log"

step "Companion browser Worker (browser/, Browser Rendering)"
companion_name=$(toml_value "" name browser/wrangler.toml)
companion_code=$(fingerprint browser/wrangler.toml browser/src browser/package-lock.json)
if up_to_date "$companion_name" "$companion_code"; then
    say "deployed, unchanged since (delete $STATE_DIR/deployed_$companion_name to deploy it again)"
else
    printf '    $ %s\n' "(cd browser && npx --yes wrangler deploy)"
    (cd browser && npx --yes wrangler deploy </dev/null) 2>&1 | tee "$deploy_log" ||
        fail "(cd browser && npx --yes wrangler deploy)" "the companion Worker's deploy failed"
    record "$companion_name" "$companion_code" "$deploy_log"
fi

step "Console libraries (Swagger UI, ReDoc) into console/vendor, the Worker's static assets"
run uv run pixhaven console install

step "Python Worker '$worker_name'"
worker_code=$(fingerprint "$DEPLOY_CONFIG" pyproject.toml src package-lock.json console)
if up_to_date "$worker_name" "$worker_code" && [ -s "$STATE_DIR/url" ]; then
    say "deployed, unchanged since (delete $STATE_DIR/deployed_$worker_name to deploy it again)"
else
    printf '    $ %s\n' "uv run pywrangler deploy --config $DEPLOY_CONFIG"
    # Its input is the terminal's (if any): on an account without a workers.dev subdomain
    # yet, wrangler asks to register one, and refuses the deploy where it cannot ask.
    uv run pywrangler deploy --config "$DEPLOY_CONFIG" 2>&1 | tee "$deploy_log" ||
        fail "uv run pywrangler deploy --config $DEPLOY_CONFIG" "the Python Worker's deploy failed"
    grep -Eo 'https://[A-Za-z0-9.-]+\.workers\.dev' "$deploy_log" | head -n1 >"$STATE_DIR/url" || true
    record "$worker_name" "$worker_code" "$deploy_log"
fi

step "Checking the deployment"
url=${PUBLIC_BASE_URL:-$(cat "$STATE_DIR/url")}
[ -n "$url" ] || fail "uv run pywrangler deploy --config $DEPLOY_CONFIG" \
    "no workers.dev URL in the deploy's output ($STATE_DIR/last_deploy.log): is workers.dev" \
    "enabled for the account? (or set PUBLIC_BASE_URL)"
url=${url%/}
printf '    $ %s\n' "curl -fsS $url/health"
# A new Worker's workers.dev name can take a few seconds to resolve.
health=$(curl -fsS --retry 6 --retry-delay 5 --retry-all-errors --max-time 30 "$url/health") ||
    fail "curl -fsS $url/health" "$url/health did not answer"
say "$health"

printf '\nPixhaven is deployed: %s  (API docs: %s/docs)\n' "$url" "$url"
printf 'Admin token: %s\n' "$admin_token_note"
