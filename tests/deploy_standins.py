"""Stand-ins for the tools scripts/deploy.sh runs (`npx --yes wrangler ...`, `uv`, `npm`,
`curl`), for tests/test_deploy_script.py.

`python deploy_standins.py TOOL ARGS...` appends `TOOL ARGS...` (prefixed with the working
folder when it is not the repository's root) to `$STANDIN_LOG`, and answers the way the real
tool does, from a small account kept in `$STANDIN_ACCOUNT` (JSON): so creating something twice
shows in the log, and a second run that finds everything creates nothing. What wrangler reads
on standard input (`secret put`) goes into the account, never into the log.
`$STANDIN_FAIL`: a command (e.g. "queues create") that fails as wrangler would.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

DATABASE_ID = "6f1c2b1e-9a5d-4c3e-8b7a-2d4e6f8a0b1c"
WORKERS_DEV = "https://pixhaven.example-account.workers.dev"


def load_account() -> dict:
    path = Path(os.environ["STANDIN_ACCOUNT"])
    if path.exists():
        return json.loads(path.read_text())
    return {"logged_in": False, "databases": [], "buckets": [], "queues": [], "workers": {}}


def save_account(account: dict) -> None:
    Path(os.environ["STANDIN_ACCOUNT"]).write_text(json.dumps(account, indent=1))


def new_version(account: dict) -> str:
    """A Worker version id, new each time (as Cloudflare's are)."""
    account["versions"] = account.get("versions", 0) + 1
    return f"{account['versions']:08x}-5c1e-4f7a-9b2d-3e6f8a0c1d2e"


def option(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args else None


def config_database_id(path: str | None) -> str | None:
    text = Path(path or "wrangler.toml").read_text()
    found = re.search(r'^database_id = "([^"]*)"', text, re.M)
    return found.group(1) if found else None


def error(message: str) -> int:
    print(f"✘ [ERROR] {message}", file=sys.stderr)
    return 1


def wrangler(args: list[str], account: dict) -> int:
    command = " ".join(args[:3])
    if command.startswith("whoami"):
        # Only `whoami --json` fails when not logged in; plain `whoami` says so and succeeds.
        if not account["logged_in"]:
            print("You are not authenticated. Please run `wrangler login`.")
            return 1 if "--json" in args else 0
        print(json.dumps({"loggedIn": True, "authType": "OAuth Token", "email": "a@example.com"}))
    elif command.startswith("login"):
        account["logged_in"] = True
        print("Successfully logged in.")
    elif not account["logged_in"]:
        return error("Not logged in.")
    elif command.startswith("d1 list"):
        print(
            json.dumps(
                [
                    {"uuid": d["uuid"], "name": d["name"], "version": "production"}
                    for d in account["databases"]
                ]
            )
        )
    elif command.startswith("d1 create"):
        account["databases"].append({"uuid": DATABASE_ID, "name": args[2]})
        print(f"✅ Successfully created DB '{args[2]}' in region WEUR")
        print(
            f'[[d1_databases]]\nbinding = "DB"\ndatabase_name = "{args[2]}"\n'
            f'database_id = "{DATABASE_ID}"'
        )
    elif command.startswith("r2 bucket list"):
        print("Listing buckets...")
        for name in account["buckets"]:
            print(f"name:           {name}\ncreation_date:  2026-12-02T11:00:00.000Z\n")
    elif command.startswith("r2 bucket create"):
        account["buckets"].append(args[3])
        print(f"Creating bucket '{args[3]}'...\n✅ Created bucket '{args[3]}'")
    elif command.startswith("queues list"):
        print("┌──────────────────────────────────┬────────────────────┬───────────┐")
        print("│ id                               │ name               │ producers │")
        for index, name in enumerate(account["queues"]):
            print(f"│ {index:032x} │ {name:<18} │ 0         │")
        print("└──────────────────────────────────┴────────────────────┴───────────┘")
    elif command.startswith("queues create"):
        account["queues"].append(args[2])
        print(f"🌀 Creating queue '{args[2]}'\n✅ Created queue '{args[2]}'")
    elif command.startswith("d1 migrations apply"):
        if config_database_id(option(args, "--config")) != DATABASE_ID:
            return error("Couldn't find a D1 DB with the name or binding 'DB'")
        print("🚣 Executed 3 migrations\n✅ 0001_initial.sql")
    elif command.startswith("secret list"):
        worker = account["workers"].get("pixhaven")
        if worker is None:
            return error("This Worker does not exist on your account. [code: 10007]")
        print(json.dumps([{"name": name, "type": "secret_text"} for name in worker["secrets"]]))
    elif command.startswith("secret put"):
        value = sys.stdin.read()
        worker = account["workers"].setdefault("pixhaven", {"secrets": {}, "deploys": 0})
        worker["secrets"][args[2]] = value
        worker["version"] = new_version(account)  # a secret makes a new version current
        print(f"✨ Success! Uploaded secret {args[2]}")
    elif command.startswith("deployments status"):
        worker = account["workers"].get(option(args, "--name"), {})
        if not worker.get("deploys"):
            return error("This Worker does not exist on your account. [code: 10007]")
        version = {"version_id": worker["version"], "percentage": 100}
        print(json.dumps({"id": "d-1", "versions": [version]}, indent=2))
    elif command.startswith("deploy"):
        name = "pixhaven-browser" if Path.cwd().name == "browser" else "pixhaven"
        worker = account["workers"].setdefault(name, {"secrets": {}, "deploys": 0})
        worker["deploys"] += 1
        worker["version"] = new_version(account)
        print(f"Uploaded {name}\nDeployed {name} triggers\n  No targets")
        print(f"Current Version ID: {worker['version']}")
    else:
        return error(f"the stand-in does not know `wrangler {' '.join(args)}`")
    return 0


def uv(args: list[str], account: dict) -> int:
    if args == ["--version"]:
        print("uv 0.13.9 (x86_64-unknown-linux-gnu)")
    elif args == ["run", "pixhaven", "console", "install"]:
        print("swagger-ui: swagger-ui-dist@5.35.0 already in console/vendor/swagger-ui")
    elif args[:2] == ["run", "pixhaven"]:
        print("Uploaded 102 font files to R2 bucket pixhaven.")
    elif args[:3] == ["run", "pywrangler", "deploy"]:
        if config_database_id(option(args, "--config")) != DATABASE_ID:
            return error("D1 database_id is not this account's")
        worker = account["workers"].setdefault("pixhaven", {"secrets": {}, "deploys": 0})
        worker["deploys"] += 1
        worker["version"] = new_version(account)
        print(
            f"Uploaded pixhaven\nDeployed pixhaven triggers\n  {WORKERS_DEV}\n"
            f"  schedule: */15 * * * *\nCurrent Version ID: {worker['version']}"
        )
    else:
        return error(f"the stand-in does not know `uv {' '.join(args)}`")
    return 0


def npm(args: list[str], account: dict) -> int:
    if args == ["--version"]:
        print("10.9.0")
    elif args[:1] == ["ci"]:
        folder = Path(option(args, "--prefix") or ".") / "node_modules"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / ".package-lock.json").write_text("{}\n")
    else:
        return error(f"the stand-in does not know `npm {' '.join(args)}`")
    return 0


def curl(args: list[str], account: dict) -> int:
    if not account["workers"].get("pixhaven", {}).get("deploys"):
        print("curl: (6) Could not resolve host", file=sys.stderr)
        return 6
    print('{"status":"ok","success":true,"version":"0.1.0","checks":{"database":"ok"}}')
    return 0


def main() -> int:
    tool, args = sys.argv[1], sys.argv[2:]
    folder = os.path.relpath(Path.cwd(), os.environ["STANDIN_REPO"])
    line = f"{tool} {' '.join(args)}".strip()
    with open(os.environ["STANDIN_LOG"], "a", encoding="utf-8") as log:
        log.write(line + "\n" if folder == "." else f"({folder}) {line}\n")
    failing = os.environ.get("STANDIN_FAIL")
    if failing and failing in line:
        return error(f"{failing} failed (the stand-in was told to fail)")
    account = load_account()
    if tool == "npx":
        assert args[:2] == ["--yes", "wrangler"], args  # never a prompt to install
        status = wrangler(args[2:], account)
    else:
        status = {"uv": uv, "npm": npm, "curl": curl}[tool](args, account)
    save_account(account)
    return status


if __name__ == "__main__":
    sys.exit(main())
