#!/usr/bin/env python3
"""A stand-in for the Cloud Controller v3 API and UAA, for local runs and tests.

    python3 demo/cf_api.py --port PORT --apps FILE [--client-id ID --client-secret SECRET]
                           [--token-lifetime SECONDS] [--max-per-page N]

FILE is a JSON list of apps, each
    {"guid", "name", "state": "STARTED" | "STOPPED", "instances",
     "routes": ["host.domain[/path]" | "domain:port", ...], "space", "org"}
A route with a port is a TCP route on that domain (no host, no path); the others are
HTTP routes whose first label is the host. A domain named `apps.internal` (or ending in
`.internal`) is internal, as on the PaaS.

It serves, with the v3 shapes and paging, what the broker and the target updater read.
Lists take `page` (from 1) and `per_page` (1 to 5000, default 50; anything else is the v3
API's 400 `CF-BadQueryParameter`), and answer `pagination` with `first`, `last`, `next`
and `previous` links that keep every filter; `included` resources are those of the page's
resources only. `--max-per-page N` serves at most N resources per page whatever
`per_page` asks (its links then carry `per_page=N`), so that a few apps span many pages.
    GET  /                              root links (`links.uaa.href`, `links.login.href`)
    POST /oauth/token                   UAA client credentials (HTTP Basic client id and secret);
                                        `expires_in` is --token-lifetime (default 600 seconds)
    GET  /v3/apps[?guids=&names=&include=space|space.organization]
    GET  /v3/apps/:guid                 404 `CF-ResourceNotFound` (code 10010) for an unknown app
    GET  /v3/apps/:guid/processes
    GET  /v3/processes[?app_guids=&types=web]
    GET  /v3/routes[?app_guids=&include=domain]
    GET  /v3/domains, /v3/spaces, /v3/organizations     [?guids=]
    GET  /v3/service_credential_bindings[?app_guids=]   POST to record one
Every /v3 request needs `Authorization: bearer <token>` from /oauth/token (401
`CF-InvalidAuthToken` otherwise, or once the token expired).

Admin calls (no auth; for tests and the demo) change the world while it runs:
    POST /admin/apps                    add an app (the JSON of one app above)
    POST /admin/apps/:guid              {"action": "scale", "instances": N} | {"action": "stop"}
                                        | {"action": "start"} | {"action": "rename", "name": N}
                                        | {"action": "delete"} | {"action": "routes", "routes": [...]}
                                        | {"action": "unlist"} | {"action": "list"}: an unlisted app is
                                        left out of /v3/apps and /v3/processes lists (an incomplete
                                        listing) while GET /v3/apps/:guid still finds it
    POST /admin/fail                    {"path": "/v3/routes", "status": 500, "count": 1[, "page": 2]}:
                                        the next `count` requests whose path starts with `path`
                                        (and, with `page`, that ask for that page) fail
    POST /admin/revoke                  every token issued so far is refused from now on (401)
    GET  /admin/requests                {"<path>": count, ...} of every request served so far
    GET  /admin/statuses                {"<status>": count, ...} of every /v3 answer so far
    GET  /admin/tokens                  every token issued so far (to check none reaches a log)
It prints `listening on http://127.0.0.1:PORT` once it accepts connections.
"""

import argparse
import base64
import json
import secrets
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

NAMESPACE = uuid.UUID("5b1f4c2e-3d6a-4f7b-8c9d-0e1f2a3b4c5d")
CREATED_AT = "2026-01-01T00:00:00Z"
#: The v3 API's largest `per_page`.
MAX_PER_PAGE = 5000


def guid_for(kind, name):
    """A stable GUID for a named space, organisation, domain or route."""
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{name}"))


class World:
    """The apps and everything derived from them, behind one lock."""

    def __init__(self, apps):
        self.lock = threading.Lock()
        self.apps = {}
        self.bindings = []
        self.failures = []
        self.requests = {}
        self.statuses = {}
        self.tokens = {}
        for app in apps:
            self.add(app)

    def add(self, app):
        required = ["guid", "name", "state", "instances", "routes", "space", "org"]
        missing = [k for k in required if k not in app]
        if missing:
            raise ValueError(f"app {app.get('guid', '?')} lacks {', '.join(missing)}")
        if app["state"] not in ("STARTED", "STOPPED"):
            raise ValueError(f"app {app['guid']}: state must be STARTED or STOPPED")
        for url in app["routes"]:
            parse_route(url)
        self.apps[app["guid"]] = dict(app)
        self.apps[app["guid"]]["created_order"] = len(self.apps)

    def change(self, guid, change):
        app = self.apps.get(guid)
        if app is None:
            raise KeyError(guid)
        action = change.get("action")
        if action == "scale":
            app["instances"] = int(change["instances"])
        elif action in ("stop", "start"):
            app["state"] = "STOPPED" if action == "stop" else "STARTED"
        elif action == "rename":
            app["name"] = str(change["name"])
        elif action == "routes":
            for url in change["routes"]:
                parse_route(url)
            app["routes"] = list(change["routes"])
        elif action in ("unlist", "list"):
            app["unlisted"] = action == "unlist"
        elif action == "delete":
            del self.apps[guid]
            self.bindings = [b for b in self.bindings if b["app_guid"] != guid]
        else:
            raise ValueError(f"unknown action {action!r}")

    # The resources, as the v3 API shows them.

    def app_resource(self, app, base):
        return {
            "guid": app["guid"],
            "name": app["name"],
            "state": app["state"],
            "created_at": CREATED_AT,
            "updated_at": CREATED_AT,
            "lifecycle": {"type": "buildpack", "data": {"buildpacks": [], "stack": "cflinuxfs4"}},
            "relationships": {"space": {"data": {"guid": guid_for("space", (app["org"], app["space"]))}}},
            "metadata": {"labels": {}, "annotations": {}},
            "links": {
                "self": {"href": f"{base}/v3/apps/{app['guid']}"},
                "space": {"href": f"{base}/v3/spaces/{guid_for('space', (app['org'], app['space']))}"},
                "processes": {"href": f"{base}/v3/apps/{app['guid']}/processes"},
            },
        }

    def space_resource(self, org, space, base):
        guid = guid_for("space", (org, space))
        return {
            "guid": guid,
            "name": space,
            "created_at": CREATED_AT,
            "updated_at": CREATED_AT,
            "relationships": {"organization": {"data": {"guid": guid_for("org", org)}}, "quota": {"data": None}},
            "metadata": {"labels": {}, "annotations": {}},
            "links": {"self": {"href": f"{base}/v3/spaces/{guid}"}},
        }

    def org_resource(self, org, base):
        guid = guid_for("org", org)
        return {
            "guid": guid,
            "name": org,
            "suspended": False,
            "created_at": CREATED_AT,
            "updated_at": CREATED_AT,
            "relationships": {"quota": {"data": None}},
            "metadata": {"labels": {}, "annotations": {}},
            "links": {"self": {"href": f"{base}/v3/organizations/{guid}"}},
        }

    def process_resource(self, app, base):
        guid = guid_for("process", app["guid"])
        return {
            "guid": guid,
            "type": "web",
            "command": "[PRIVATE DATA HIDDEN IN LISTS]",
            "instances": app["instances"],
            "memory_in_mb": 256,
            "disk_in_mb": 1024,
            "health_check": {"type": "port", "data": {"timeout": None}},
            "created_at": CREATED_AT,
            "updated_at": CREATED_AT,
            "relationships": {"revision": {"data": None}},
            "metadata": {"labels": {}, "annotations": {}},
            "links": {
                "self": {"href": f"{base}/v3/processes/{guid}"},
                "app": {"href": f"{base}/v3/apps/{app['guid']}"},
                "space": {"href": f"{base}/v3/spaces/{guid_for('space', (app['org'], app['space']))}"},
            },
        }

    def routes(self):
        """Every route, oldest app first: url, host, domain, path, port, protocol, org,
        space and the GUIDs of the apps it leads to."""
        by_url = {}
        for app in sorted(self.apps.values(), key=lambda a: a["created_order"]):
            for url in app["routes"]:
                entry = by_url.setdefault(url, {**parse_route(url), "org": app["org"], "space": app["space"],
                                                "apps": []})
                entry["apps"].append(app["guid"])
        return list(by_url.values())

    def route_resource(self, route, base):
        guid = guid_for("route", route["url"])
        return {
            "guid": guid,
            "protocol": route["protocol"],
            "port": route["port"],
            "host": route["host"],
            "path": route["path"],
            "url": route["url"],
            "created_at": CREATED_AT,
            "updated_at": CREATED_AT,
            "destinations": [
                {"guid": guid_for("destination", (route["url"], app)), "app": {"guid": app, "process": {"type": "web"}},
                 "weight": None, "port": 8080, "protocol": "http1" if route["protocol"] == "http" else None}
                for app in route["apps"]
            ],
            "options": {},
            "relationships": {
                "space": {"data": {"guid": guid_for("space", (route["org"], route["space"]))}},
                "domain": {"data": {"guid": guid_for("domain", route["domain"])}},
            },
            "metadata": {"labels": {}, "annotations": {}},
            "links": {"self": {"href": f"{base}/v3/routes/{guid}"},
                      "domain": {"href": f"{base}/v3/domains/{guid_for('domain', route['domain'])}"}},
        }

    def domain_resource(self, name, protocol, base):
        guid = guid_for("domain", name)
        return {
            "guid": guid,
            "name": name,
            "internal": name == "apps.internal" or name.endswith(".internal"),
            "router_group": {"guid": guid_for("router_group", "default-tcp")} if protocol == "tcp" else None,
            "supported_protocols": [protocol],
            "created_at": CREATED_AT,
            "updated_at": CREATED_AT,
            "relationships": {"organization": {"data": None}, "shared_organizations": {"data": []}},
            "metadata": {"labels": {}, "annotations": {}},
            "links": {"self": {"href": f"{base}/v3/domains/{guid}"}},
        }

    def domains_of(self, routes, base):
        """The domains of `routes`, each once, by name."""
        protocols = {r["domain"]: r["protocol"] for r in routes}
        return [self.domain_resource(name, protocols[name], base) for name in sorted(protocols)]

    def spaces_and_orgs_of(self, apps, base, with_orgs):
        """`included` for apps: their spaces and, with `with_orgs`, their organizations."""
        pairs = sorted({(a["org"], a["space"]) for a in apps})
        included = {"spaces": [self.space_resource(o, s, base) for o, s in pairs]}
        if with_orgs:
            included["organizations"] = [self.org_resource(o, base) for o in sorted({o for o, _ in pairs})]
        return included

    def spaces_and_orgs(self):
        return sorted({(a["org"], a["space"]) for a in self.apps.values()})


def parse_route(url):
    """`host.domain[/path]` (HTTP) or `domain:port` (TCP), as the v3 API shows them."""
    address, slash, path = url.partition("/")
    name, colon, port = address.partition(":")
    if colon:
        if slash or not port.isdigit():
            raise ValueError(f"route {url!r}: a TCP route is `domain:port`, without a path")
        return {"url": url, "host": "", "domain": name, "path": "", "port": int(port), "protocol": "tcp"}
    host, _, domain = name.partition(".")
    if not domain:
        raise ValueError(f"route {url!r}: give `host.domain[/path]` or `domain:port`")
    return {"url": url, "host": host, "domain": domain, "path": f"/{path}" if slash else "", "port": None,
            "protocol": "http"}


def page(base, path, query, items, render=lambda item: item, included_for=None, cap=MAX_PER_PAGE):
    """One page of a v3 list of `items` (each shown with `render`), with `pagination` links
    that keep every filter and, from `included_for`, the resources the page's items include."""
    try:
        per_page = int(query.get("per_page", ["50"])[0])
        number = int(query.get("page", ["1"])[0])
    except ValueError:
        return 400, bad_query("Per page and page must be integers")
    if not 1 <= per_page <= MAX_PER_PAGE:
        return 400, bad_query(f"Per page must be between 1 and {MAX_PER_PAGE}")
    if number < 1:
        return 400, bad_query("Page must be greater than 0")
    size = min(per_page, cap)
    total = len(items)
    pages = max(1, -(-total // size))

    def link(n):
        kept = {k: v[0] for k, v in query.items() if k not in ("page", "per_page")}
        kept.update(page=n, per_page=size)
        return {"href": f"{base}{path}?{urlencode(kept)}"}

    shown = items[(number - 1) * size:number * size]
    body = {
        "pagination": {
            "total_results": total,
            "total_pages": pages,
            "first": link(1),
            "last": link(pages),
            "next": link(number + 1) if number < pages else None,
            "previous": link(number - 1) if number > 1 else None,
        },
        "resources": [render(item) for item in shown],
    }
    if included_for is not None:
        body["included"] = included_for(shown)
    return 200, body


def bad_query(detail):
    return error_body("CF-BadQueryParameter", f"The query parameter is invalid: {detail}", 10005)


def error_body(title, detail, code):
    return {"errors": [{"detail": detail, "title": title, "code": code}]}


def filtered(query, name, items, key):
    wanted = query.get(name)
    if not wanted:
        return items
    values = set(",".join(wanted).split(","))
    return [item for item in items if key(item) in values]


class Handler(BaseHTTPRequestHandler):
    world = None
    options = None
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: tests read stdout for the ready line only
        pass

    @property
    def base(self):
        return f"http://{self.headers.get('Host', f'127.0.0.1:{self.server.server_address[1]}')}"

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body_json(self):
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def injected_failure(self, path, query):
        asked_page = query.get("page", ["1"])[0]
        for failure in self.world.failures:
            wanted_page = failure["page"]
            if (path.startswith(failure["path"]) and failure["count"] > 0
                    and (wanted_page is None or str(wanted_page) == asked_page)):
                failure["count"] -= 1
                return failure["status"]
        return None

    def authorized(self):
        header = self.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        expires = self.world.tokens.get(token) if scheme.lower() == "bearer" else None
        return expires is not None and expires > time.time()

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def dispatch(self, method):
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        with self.world.lock:
            self.world.requests[url.path] = self.world.requests.get(url.path, 0) + 1
            try:
                status, body = self.route(method, url.path, query)
            except (ValueError, KeyError, TypeError, json.JSONDecodeError) as e:
                status, body = 422, error_body("CF-UnprocessableEntity", str(e), 10008)
            if url.path.startswith("/v3/"):
                self.world.statuses[str(status)] = self.world.statuses.get(str(status), 0) + 1
        self.reply(status, body)

    def route(self, method, path, query):
        if path.startswith("/admin/"):
            return self.admin(method, path)
        failure = self.injected_failure(path, query)
        if failure:
            return failure, error_body("CF-ServiceUnavailable", "injected failure", 10015)
        if method == "GET" and path == "/":
            return 200, {"links": {
                "self": {"href": self.base},
                "cloud_controller_v3": {"href": f"{self.base}/v3", "meta": {"version": "3.180.0"}},
                "login": {"href": self.base},
                "uaa": {"href": self.base},
            }}
        if method == "POST" and path == "/oauth/token":
            return self.token()
        if not path.startswith("/v3/"):
            return 404, error_body("CF-NotFound", "Unknown request", 10000)
        if not self.authorized():
            return 401, error_body("CF-InvalidAuthToken", "Invalid Auth Token", 1000)
        return self.v3(method, path, query)

    def token(self):
        scheme, _, encoded = self.headers.get("Authorization", "").partition(" ")
        try:
            client, _, secret = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            client, secret = "", ""
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode())
        if scheme.lower() != "basic" or (client, secret) != (self.options.client_id, self.options.client_secret):
            return 401, {"error": "unauthorized", "error_description": "Bad credentials"}
        if form.get("grant_type") != ["client_credentials"]:
            return 400, {"error": "unsupported_grant_type", "error_description": "use client_credentials"}
        token = secrets.token_urlsafe(24)
        self.world.tokens[token] = time.time() + self.options.token_lifetime
        return 200, {"access_token": token, "token_type": "bearer", "expires_in": self.options.token_lifetime,
                     "scope": "cloud_controller.global_auditor", "jti": secrets.token_hex(8)}

    def v3(self, method, path, query):
        world, base = self.world, self.base
        apps = sorted((a for a in world.apps.values() if not a.get("unlisted")), key=lambda a: a["created_order"])
        parts = path.strip("/").split("/")
        if method == "POST" and path == "/v3/service_credential_bindings":
            return self.create_binding()
        if method != "GET":
            return 405, error_body("CF-NotAuthorized", "method not allowed", 10003)

        def listing(items, render=lambda item: item, included_for=None):
            return page(base, path, query, items, render, included_for, self.options.max_per_page)

        if parts[1:] == ["apps"]:
            chosen = filtered(query, "guids", apps, lambda a: a["guid"])
            chosen = filtered(query, "names", chosen, lambda a: a["name"])
            include = ",".join(query.get("include", [])).split(",")
            included_for = None
            if "space" in include or "space.organization" in include:
                with_orgs = "space.organization" in include
                included_for = lambda shown: world.spaces_and_orgs_of(shown, base, with_orgs)  # noqa: E731
            return listing(chosen, lambda a: world.app_resource(a, base), included_for)
        if len(parts) in (3, 4) and parts[1] == "apps":
            app = world.apps.get(parts[2])
            if app is None:
                return 404, error_body("CF-ResourceNotFound", "App not found", 10010)
            if len(parts) == 3:
                return 200, world.app_resource(app, base)
            if parts[3] == "processes":
                return listing([app], lambda a: world.process_resource(a, base))
            return 404, error_body("CF-NotFound", "Unknown request", 10000)
        if parts[1:] == ["processes"]:
            chosen = filtered(query, "app_guids", apps, lambda a: a["guid"])
            types = set(",".join(query.get("types", ["web"])).split(","))
            return listing(chosen if "web" in types else [], lambda a: world.process_resource(a, base))
        if parts[1:] == ["routes"]:
            routes = world.routes()
            if query.get("app_guids"):
                wanted = set(",".join(query["app_guids"]).split(","))
                routes = [r for r in routes if wanted & set(r["apps"])]
            included_for = None
            if "domain" in ",".join(query.get("include", [])).split(","):
                included_for = lambda shown: {"domains": world.domains_of(shown, base)}  # noqa: E731
            return listing(routes, lambda r: world.route_resource(r, base), included_for)
        if parts[1:] == ["domains"]:
            domains = world.domains_of(world.routes(), base)
            return listing(filtered(query, "guids", domains, lambda d: d["guid"]))
        if parts[1:] == ["spaces"]:
            resources = [world.space_resource(o, s, base) for o, s in world.spaces_and_orgs()]
            return listing(filtered(query, "guids", resources, lambda s: s["guid"]))
        if parts[1:] == ["organizations"]:
            resources = [world.org_resource(o, base) for o in sorted({o for o, _ in world.spaces_and_orgs()})]
            return listing(filtered(query, "guids", resources, lambda o: o["guid"]))
        if parts[1:] == ["service_credential_bindings"]:
            chosen = filtered(query, "app_guids", world.bindings, lambda b: b["app_guid"])
            return listing(chosen, self.binding_resource)
        return 404, error_body("CF-NotFound", "Unknown request", 10000)

    def create_binding(self):
        body = self.body_json()
        binding = {
            "guid": body.get("guid") or str(uuid.uuid4()),
            "name": body.get("name"),
            "app_guid": body["relationships"]["app"]["data"]["guid"],
            "instance_guid": body["relationships"]["service_instance"]["data"]["guid"],
        }
        if binding["app_guid"] not in self.world.apps:
            return 422, error_body("CF-UnprocessableEntity", "The app could not be found", 10008)
        self.world.bindings.append(binding)
        return 201, self.binding_resource(binding)

    def binding_resource(self, binding):
        return {
            "guid": binding["guid"],
            "type": "app",
            "name": binding["name"],
            "created_at": CREATED_AT,
            "updated_at": CREATED_AT,
            "last_operation": {"type": "create", "state": "succeeded", "description": "",
                               "created_at": CREATED_AT, "updated_at": CREATED_AT},
            "relationships": {"app": {"data": {"guid": binding["app_guid"]}},
                              "service_instance": {"data": {"guid": binding["instance_guid"]}}},
            "metadata": {"labels": {}, "annotations": {}},
            "links": {"self": {"href": f"{self.base}/v3/service_credential_bindings/{binding['guid']}"}},
        }

    def admin(self, method, path):
        world = self.world
        if method == "GET" and path == "/admin/requests":
            return 200, dict(world.requests)
        if method == "GET" and path == "/admin/statuses":
            return 200, dict(world.statuses)
        if method == "GET" and path == "/admin/tokens":
            return 200, sorted(world.tokens)
        if method != "POST":
            return 405, {"error": "use POST"}
        if path == "/admin/apps":
            world.add(self.body_json())
            return 201, {}
        if path.startswith("/admin/apps/"):
            guid = path.rsplit("/", 1)[1]
            if guid not in world.apps:
                return 404, {"error": f"no app {guid}"}
            world.change(guid, self.body_json())
            return 200, {}
        if path == "/admin/fail":
            body = self.body_json()
            world.failures.append({"path": body["path"], "status": int(body.get("status", 500)),
                                   "count": int(body.get("count", 1)), "page": body.get("page")})
            return 200, {}
        if path == "/admin/revoke":
            self.body_json()
            world.tokens = {token: 0 for token in world.tokens}
            return 200, {}
        return 404, {"error": "unknown admin call"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--apps", required=True, help="JSON list of apps")
    parser.add_argument("--client-id", default="prometheus-broker")
    parser.add_argument("--client-secret", default="prometheus-broker-secret")
    parser.add_argument("--token-lifetime", type=int, default=600, help="seconds a token is valid")
    parser.add_argument("--max-per-page", type=int, default=MAX_PER_PAGE,
                        help=f"at most this many resources per page, whatever per_page asks (1 to {MAX_PER_PAGE})")
    options = parser.parse_args()
    if not 1 <= options.max_per_page <= MAX_PER_PAGE:
        parser.error(f"--max-per-page must be between 1 and {MAX_PER_PAGE}")
    with open(options.apps) as f:
        apps = json.load(f)
    Handler.world = World(apps)
    Handler.options = options
    server = ThreadingHTTPServer((options.host, options.port), Handler)
    server.daemon_threads = True
    print(f"listening on http://{options.host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
