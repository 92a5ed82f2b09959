"""End-to-end: SCIM 2.0 at /scim/v2 as an identity provider (Okta, Entra ID)
drives it — provisioning with a manager, renames, deactivation (PUT and both
PATCH styles) offboarding exactly like the People API, reactivation,
deletion, filters, pagination, errors in RFC 7644's shape, token scoping."""
import json
import unittest

from harness import (Server, make_person, store_downgrade, store_version,
                     token_for)
from zendesk_sim import ADMIN_EMAIL, ADMIN_TOKEN, ZendeskSim

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
SCIM_JSON = "application/scim+json"


def user(email, name=None, manager=None, **extra):
    """A User resource as Okta sends it."""
    body = {"schemas": [CORE], "userName": email,
            "name": {"givenName": (name or email).split(" ")[0],
                     "familyName": "X"},
            "displayName": name or email.split("@")[0],
            "emails": [{"value": email, "type": "work", "primary": True}],
            "active": True}
    if manager is not None:
        body["schemas"].append(ENT)
        body[ENT] = {"manager": {"value": manager}, "department": "Ops"}
    body.update(extra)
    return body


class Base(unittest.TestCase):
    def setUp(self):
        self.srv = Server().start()
        st, tok, hdrs = self.srv.request("POST", "/v1/scim-tokens",
                                         {"label": "Okta"})
        self.assertEqual(st, 201, tok)
        self.assertTrue(tok["token"].startswith("kw_"))
        self.scim_id, self.scim_token = tok["id"], tok["token"]
        self.actor = "scim:" + self.scim_id

    def tearDown(self):
        self.srv.close()

    def scim(self, method, path, body=None, token=None, expect=None,
             content_type=SCIM_JSON, raw=None):
        st, obj, hdrs = self.srv.request(
            method, "/scim/v2" + path, body, raw=raw,
            token=token or self.scim_token, content_type=content_type)
        if expect is not None:
            self.assertEqual(st, expect, obj)
        if obj is not None:
            self.assertTrue(hdrs["Content-Type"].startswith(SCIM_JSON),
                            hdrs["Content-Type"])
        return st, obj

    def create(self, email, **kw):
        st, u, hdrs = self.srv.request("POST", "/scim/v2/Users",
                                       user(email, **kw),
                                       token=self.scim_token,
                                       content_type=SCIM_JSON)
        self.assertEqual(st, 201, u)
        # RFC 7644 §3.3: Location and meta.location name the new User
        self.assertEqual(hdrs["Location"], u["meta"]["location"])
        return u

    def assert_error(self, obj, status, scim_type=None):
        """RFC 7644 §3.12: schemas, status as a string, scimType."""
        self.assertEqual(obj["schemas"], [ERROR])
        self.assertEqual(obj["status"], str(status))
        self.assertIsInstance(obj["detail"], str)
        if scim_type is None:
            self.assertNotIn("scimType", obj)
        else:
            self.assertEqual(obj.get("scimType"), scim_type, obj)

    def person(self, key):
        st, p, _ = self.srv.request("GET", "/v1/people/" + key)
        self.assertEqual(st, 200, p)
        return p

    def audit(self, action):
        st, page, _ = self.srv.request("GET", "/v1/audit?limit=500")
        self.assertEqual(st, 200)
        return [e for e in page["items"] if e["action"] == action]


class Provisioning(Base):
    def test_create_with_manager_shapes_and_people_api_view(self):
        mgr = self.create("maria@example.com", name="Maria Lopez")
        u = self.create("rick@example.com", name="Rick Deckard",
                        manager=mgr["id"], externalId="00u1okta",
                        title="ignored", **{"urn:example:custom": {"x": 1}})
        self.assertEqual(u["schemas"], [CORE, ENT])
        self.assertEqual(u["userName"], "rick@example.com")
        self.assertEqual(u["displayName"], "Rick Deckard")
        self.assertEqual(u["name"]["formatted"], "Rick Deckard")
        self.assertEqual(u["externalId"], "00u1okta")
        self.assertIs(u["active"], True)
        self.assertEqual(u["emails"][0]["value"], "rick@example.com")
        self.assertEqual(u[ENT]["manager"]["value"], mgr["id"])
        self.assertTrue(u[ENT]["manager"]["$ref"].endswith(
            "/scim/v2/Users/" + mgr["id"]))
        meta = u["meta"]
        self.assertEqual(meta["resourceType"], "User")
        self.assertTrue(meta["location"].endswith("/scim/v2/Users/" + u["id"]))
        self.assertTrue(meta["created"] and meta["lastModified"])
        self.assertNotIn("title", u)
        # the SCIM id is the person id; People API sees the same person
        p = self.person("rick@example.com")
        self.assertEqual((p["id"], p["name"], p["manager"], p["managed_by"]),
                         (u["id"], "Rick Deckard", "maria@example.com",
                          "scim"))
        _, again = self.scim("GET", "/Users/" + u["id"], expect=200)
        self.assertEqual(again, u)
        # audited with the SCIM token as actor
        ev = [e for e in self.audit("person.create")
              if e["subject"] == "rick@example.com"]
        self.assertEqual([e["actor"] for e in ev], [self.actor])
        # people created by admins are not SCIM-managed
        self.assertIsNone(self.person("admin@example.com")["managed_by"])

    def test_name_falls_back_to_given_and_family(self):
        body = {"schemas": [CORE], "userName": "ann@example.com",
                "name": {"givenName": "Ann", "familyName": "Lee"}}
        _, u = self.scim("POST", "/Users", body, expect=201)
        self.assertEqual(u["displayName"], "Ann Lee")
        self.assertIs(u["active"], True)

    def test_rename_put_and_patch(self):
        u = self.create("rick@example.com", name="Rick")
        body = user("rick@example.com", name="Richard Deckard")
        _, v = self.scim("PUT", "/Users/" + u["id"], body, expect=200)
        self.assertEqual(v["displayName"], "Richard Deckard")
        self.assertEqual(self.person(u["id"])["name"], "Richard Deckard")
        # Entra ID style: replace with a path
        self.scim("PATCH", "/Users/" + u["id"], {
            "schemas": [PATCH], "Operations": [
                {"op": "Replace", "path": "displayName", "value": "R. D."}]},
            expect=200)
        self.assertEqual(self.person(u["id"])["name"], "R. D.")
        # Okta style: no path, a value object; also a new email
        _, v = self.scim("PATCH", "/Users/" + u["id"], {
            "schemas": [PATCH], "Operations": [
                {"op": "replace", "value": {
                    "name": {"formatted": "Rick D."},
                    "userName": "rdeckard@example.com"}}]}, expect=200)
        self.assertEqual((v["displayName"], v["userName"]),
                         ("Rick D.", "rdeckard@example.com"))
        self.assertEqual(self.person(u["id"])["email"],
                         "rdeckard@example.com")
        # attributes keywarden does not keep change nothing
        _, w = self.scim("PATCH", "/Users/" + u["id"], {
            "schemas": [PATCH], "Operations": [
                {"op": "add", "path": "title", "value": "CTO"},
                {"op": "replace", "path": "emails[type eq \"work\"].value",
                 "value": "x@example.com"}]}, expect=200)
        self.assertEqual(w, v)
        ups = [e for e in self.audit("person.update")
               if e["details"]["id"] == u["id"]]
        self.assertEqual(len(ups), 3)
        self.assertTrue(all(e["actor"] == self.actor for e in ups))

    def test_manager_change_and_removal_by_patch(self):
        a = self.create("a@example.com")
        b = self.create("b@example.com")
        u = self.create("rick@example.com", manager=a["id"])
        self.scim("PATCH", "/Users/" + u["id"], {
            "schemas": [PATCH], "Operations": [
                {"op": "Replace", "path": ENT + ":manager",
                 "value": b["id"]}]}, expect=200)
        self.assertEqual(self.person(u["id"])["manager"], "b@example.com")
        self.scim("PATCH", "/Users/" + u["id"], {
            "schemas": [PATCH], "Operations": [
                {"op": "remove", "path": ENT + ":manager"}]}, expect=200)
        self.assertIsNone(self.person(u["id"])["manager"])
        # a manager that does not exist, or a loop
        st, err = self.scim("PATCH", "/Users/" + u["id"], {
            "schemas": [PATCH], "Operations": [
                {"op": "add", "path": ENT + ":manager",
                 "value": {"value": "per_nobody"}}]}, expect=400)
        self.assert_error(err, 400, "invalidValue")
        self.scim("PATCH", "/Users/" + a["id"], {
            "schemas": [PATCH], "Operations": [
                {"op": "add", "path": ENT + ":manager.value",
                 "value": u["id"]}]}, expect=200)
        st, err = self.scim("PATCH", "/Users/" + u["id"], {
            "schemas": [PATCH], "Operations": [
                {"op": "add", "path": ENT + ":manager.value",
                 "value": a["id"]}]}, expect=400)
        self.assert_error(err, 400, "invalidValue")

    def test_put_keeps_what_it_does_not_assert(self):
        # Okta pushes profiles by PUT without the enterprise extension
        # when the manager is not mapped: a manager set by an admin stays
        make_person(self.srv, "maria@example.com")
        u = self.create("rick@example.com", externalId="00u1")
        st, p, _ = self.srv.request("PATCH", "/v1/people/" + u["id"],
                                    {"manager": "maria@example.com"})
        self.assertEqual(st, 200, p)
        body = user("rick@example.com", name="Rick D.")
        _, v = self.scim("PUT", "/Users/" + u["id"], body, expect=200)
        self.assertEqual(v["externalId"], "00u1")
        self.assertEqual(self.person(u["id"])["manager"], "maria@example.com")
        self.assertIs(v["active"], True)
        # given as null, they are cleared
        body = dict(user("rick@example.com"), externalId=None,
                    **{ENT: {"manager": None}})
        _, v = self.scim("PUT", "/Users/" + u["id"], body, expect=200)
        self.assertNotIn("externalId", v)
        self.assertNotIn(ENT, v)
        self.assertIsNone(self.person(u["id"])["manager"])

    def test_people_api_may_still_edit_scim_people(self):
        u = self.create("rick@example.com")
        st, p, _ = self.srv.request("PATCH", "/v1/people/" + u["id"],
                                    {"teams": ["support-ops"]})
        self.assertEqual(st, 200, p)
        self.assertEqual(p["managed_by"], "scim")


class Filtering(Base):
    def test_filter_by_user_name(self):
        u = self.create("ann.o'neil@example.com")
        self.create("bob@example.com")
        for f in ('userName eq "ann.o\'neil@example.com"',
                  'USERNAME EQ "ANN.O\'NEIL@example.com"',
                  'userName eq "ann.o\'neil\\u0040example.com"',
                  CORE + ':userName eq "ann.o\'neil@example.com"'):
            st, page = self.scim("GET", "/Users?filter=" + quote(f))
            self.assertEqual(st, 200, (f, page))
            self.assertEqual(page["schemas"], [LIST])
            self.assertEqual((page["totalResults"], page["itemsPerPage"],
                              page["startIndex"]), (1, 1, 1), f)
            self.assertEqual([r["id"] for r in page["Resources"]], [u["id"]])
        st, page = self.scim("GET", "/Users?filter=" + quote(
            'userName eq "nobody@example.com"'), expect=200)
        self.assertEqual((page["totalResults"], page["Resources"]), (0, []))
        st, page = self.scim("GET", "/Users?filter=" + quote(
            'userName eq "a \\"quoted\\" name"'), expect=200)
        self.assertEqual(page["totalResults"], 0)

    def test_other_filters_are_invalid(self):
        for f in ('displayName eq "Ann"', 'userName sw "ann"',
                  'userName eq ann@example.com', 'userName eq "a" and '
                  'active eq true', 'userName eq "unterminated',
                  'emails[type eq "work"]', 'userName eq'):
            st, err = self.scim("GET", "/Users?filter=" + quote(f))
            self.assertEqual(st, 400, f)
            self.assert_error(err, 400, "invalidFilter")

    def test_pagination(self):
        ids = [self.create("p%d@example.com" % i)["id"] for i in range(5)]
        seen = []
        start = 1
        while True:
            st, page = self.scim("GET", "/Users?startIndex=%d&count=2"
                                 % start, expect=200)
            self.assertEqual(page["totalResults"], 6)   # and the admin
            self.assertEqual(page["startIndex"], start)
            self.assertEqual(page["itemsPerPage"], len(page["Resources"]))
            self.assertLessEqual(len(page["Resources"]), 2)
            if not page["Resources"]:
                break
            seen += [r["id"] for r in page["Resources"]]
            start += len(page["Resources"])
        self.assertEqual(len(seen), 6)
        self.assertEqual(len(set(seen)), 6)
        self.assertTrue(set(ids) <= set(seen))
        _, page = self.scim("GET", "/Users?count=0", expect=200)
        self.assertEqual((page["totalResults"], page["Resources"]), (6, []))
        st, err = self.scim("GET", "/Users?count=many")
        self.assertEqual(st, 400)
        self.assert_error(err, 400, "invalidValue")


def quote(s):
    import urllib.parse
    return urllib.parse.quote(s, safe="")


class Errors(Base):
    def test_duplicate_user_name_is_409_uniqueness(self):
        self.create("rick@example.com")
        st, err = self.scim("POST", "/Users", user("RICK@example.com"))
        self.assertEqual(st, 409)
        self.assert_error(err, 409, "uniqueness")
        u = self.create("pat@example.com")
        st, err = self.scim("PUT", "/Users/" + u["id"],
                            user("rick@example.com"))
        self.assertEqual(st, 409)
        self.assert_error(err, 409, "uniqueness")
        # people added through the People API count too
        make_person(self.srv, "quinn@example.com")
        st, err = self.scim("POST", "/Users", user("quinn@example.com"))
        self.assert_error(err, 409, "uniqueness")

    def test_wrong_types_and_missing_attributes(self):
        u = self.create("rick@example.com")
        bad = [dict(user("x@example.com"), userName=42), dict(user("x@example.com"), active="maybe"),
               dict(user("x@example.com"), name="Rick"),
               dict(user("x@example.com"), displayName=7),
               dict(user("x@example.com"), emails="x@example.com"),
               dict(user("x@example.com"), externalId=["a"]),
               {"schemas": [CORE], "displayName": "No user name"},
               user("not-an-email")]
        for body in bad:
            st, err = self.scim("POST", "/Users", body)
            self.assertEqual(st, 400, body)
            self.assert_error(err, 400, "invalidValue")
        st, err = self.scim("PATCH", "/Users/" + u["id"], {
            "schemas": [PATCH], "Operations": [
                {"op": "replace", "path": "active", "value": "nope"}]})
        self.assert_error(err, 400, "invalidValue")
        st, err = self.scim("PATCH", "/Users/" + u["id"],
                            {"schemas": [PATCH]})
        self.assert_error(err, 400, "invalidSyntax")
        st, err = self.scim("PATCH", "/Users/" + u["id"], {
            "schemas": [PATCH], "Operations": [{"op": "move"}]})
        self.assert_error(err, 400, "invalidSyntax")
        st, err = self.scim("PATCH", "/Users/" + u["id"], {
            "schemas": [PATCH], "Operations": [{"op": "remove"}]})
        self.assert_error(err, 400, "noTarget")
        st, err = self.scim("POST", "/Users", raw=b"{not json")
        self.assertEqual(st, 400)
        self.assert_error(err, 400, "invalidSyntax")
        # nothing was changed by any of it
        self.assertEqual(self.person(u["id"])["active"], True)
        st, err = self.scim("GET", "/Users/per_nobody")
        self.assertEqual(st, 404)
        self.assert_error(err, 404)

    def test_body_over_the_limit_is_413_in_scim_shape(self):
        body = user("big@example.com", title="x" * (70 * 1024))
        st, err = self.scim("POST", "/Users", body)
        self.assertEqual(st, 413)
        self.assert_error(err, 413)

    def test_media_types(self):
        st, u = self.scim("POST", "/Users", user("plain@example.com"),
                          content_type="application/json")
        self.assertEqual(st, 201, u)
        st, err = self.scim("POST", "/Users", user("t@example.com"),
                            content_type="text/plain")
        self.assertEqual(st, 415)
        self.assert_error(err, 415)


class Tokens(Base):
    def test_scim_token_works_only_on_scim(self):
        st, obj, _ = self.srv.request("GET", "/v1/me",
                                      token=self.scim_token)
        self.assertEqual(st, 401, obj)
        st, obj, _ = self.srv.request("GET", "/v1/people",
                                      token=self.scim_token)
        self.assertEqual(st, 401, obj)
        # a personal token (even an admin's) does not open /scim/v2
        st, err = self.scim("GET", "/Users", token=self.srv.admin_token)
        self.assertEqual(st, 401)
        self.assert_error(err, 401)
        st, obj, _ = self.srv.request("GET", "/scim/v2/Users", token=None)
        self.assertEqual(st, 401)
        self.assert_error(obj, 401)
        self.scim("GET", "/Users", expect=200)

    def test_token_admin_list_delete_audit(self):
        st, page, _ = self.srv.request("GET", "/v1/scim-tokens")
        self.assertEqual(st, 200)
        [t] = page["items"]
        self.assertEqual(set(t), {"id", "label", "created_at",
                                  "last_used_at"})
        self.assertEqual((t["id"], t["label"], t["last_used_at"]),
                         (self.scim_id, "Okta", None))
        self.assertNotIn(self.scim_token, json.dumps(page))
        self.scim("GET", "/Users", expect=200)
        _, page, _ = self.srv.request("GET", "/v1/scim-tokens")
        self.assertIsNotNone(page["items"][0]["last_used_at"])
        # only admins manage them
        make_person(self.srv, "pat@example.com")
        pat = token_for(self.srv, "pat@example.com")
        st, _, _ = self.srv.request("POST", "/v1/scim-tokens", {}, token=pat)
        self.assertEqual(st, 403)
        st, _, _ = self.srv.request("GET", "/v1/scim-tokens", token=pat)
        self.assertEqual(st, 403)
        st, obj, _ = self.srv.request("DELETE",
                                      "/v1/scim-tokens/" + self.scim_id)
        self.assertEqual(st, 200, obj)
        st, err = self.scim("GET", "/Users")
        self.assertEqual(st, 401)
        st, _, _ = self.srv.request("DELETE",
                                    "/v1/scim-tokens/" + self.scim_id)
        self.assertEqual(st, 404)
        self.assertEqual(len(self.audit("scim_token.create")), 1)
        self.assertEqual(len(self.audit("scim_token.delete")), 1)
        # the token is nowhere in the audit log or the server log
        _, page, _ = self.srv.request("GET", "/v1/audit?limit=500")
        self.assertNotIn(self.scim_token, json.dumps(page))
        self.assertNotIn(self.scim_token, self.srv.log())


    def test_cli_creates_lists_and_deletes_scim_tokens(self):
        env = {"KEYWARDEN_TOKEN": self.srv.admin_token}
        r = self.srv.cli("scim-tokens", "create", "--label", "Entra ID",
                         "--server", self.srv.url, env=env)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        tok = [w for w in r.stdout.split() if w.startswith("kw_")]
        self.assertEqual(len(tok), 1, r.stdout)
        st, _ = self.scim("GET", "/Users", token=tok[0])
        self.assertEqual(st, 200)
        r = self.srv.cli("scim-tokens", "list", "--json", "--server",
                         self.srv.url, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        items = json.loads(r.stdout)["items"]
        [new] = [t for t in items if t["label"] == "Entra ID"]
        self.assertNotIn(tok[0], r.stdout)
        r = self.srv.cli("scim-tokens", "delete", new["id"], "--server",
                         self.srv.url, env=env)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        st, _ = self.scim("GET", "/Users", token=tok[0])
        self.assertEqual(st, 401)


class SchemaUpgrade(Base):
    def test_a_store_from_before_scim_is_upgraded(self):
        make_person(self.srv, "pat@example.com", name="Pat")
        self.srv.stop()
        self.assertEqual(store_version(self.srv), 8)
        # undo 8 (sessions and token expiry), then 7 (SCIM)
        store_downgrade(self.srv,
                        "DROP INDEX tokens_expiry; DROP TABLE sessions;"
                        "ALTER TABLE tokens DROP COLUMN label;"
                        "ALTER TABLE tokens DROP COLUMN expires_at;"
                        "ALTER TABLE tokens DROP COLUMN last_used_at;"
                        "ALTER TABLE tokens DROP COLUMN warned_at;"
                        "DROP TABLE scim_tokens;"
                        "ALTER TABLE people DROP COLUMN external_id;"
                        "ALTER TABLE people DROP COLUMN managed_by;"
                        "ALTER TABLE people DROP COLUMN scim_deleted_at", 6)
        self.srv.start()
        p = self.person("pat@example.com")
        self.assertEqual((p["name"], p["managed_by"]), ("Pat", None))
        st, tok, _ = self.srv.request("POST", "/v1/scim-tokens", {})
        self.assertEqual(st, 201, tok)
        self.scim_token = tok["token"]
        _, page = self.scim("GET", "/Users?filter=" + quote(
            'userName eq "pat@example.com"'), expect=200)
        self.assertEqual(page["Resources"][0]["id"], p["id"])


class Throttling(Base):
    def setUp(self):
        self.srv = Server(extra_args=["--auth-fail-limit", "3"]).start()
        st, tok, _ = self.srv.request("POST", "/v1/scim-tokens", {})
        self.assertEqual(st, 201, tok)
        self.scim_token = tok["token"]

    def test_failed_scim_authentications_are_throttled_not_the_valid_token(self):
        bad = "kw_" + "A" * 43
        statuses = [self.scim("GET", "/Users", token=bad)[0]
                    for _ in range(6)]
        self.assertEqual(statuses[0], 401)
        self.assertEqual(statuses[-1], 429)
        st, err, hdrs = self.srv.request("GET", "/scim/v2/Users", token=bad)
        self.assertEqual(st, 429)
        self.assert_error(err, 429)
        self.assertTrue(int(hdrs["Retry-After"]) > 0)
        # the provider's own token is never locked out by others' failures
        self.scim("GET", "/Users", expect=200)


class Discovery(Base):
    def test_service_provider_config_resource_types_schemas(self):
        _, spc = self.scim("GET", "/ServiceProviderConfig", expect=200)
        self.assertEqual(spc["schemas"], [
            "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"])
        self.assertIs(spc["patch"]["supported"], True)
        self.assertIs(spc["bulk"]["supported"], False)
        self.assertEqual(spc["filter"], {"supported": True,
                                         "maxResults": 200})
        for k in ("changePassword", "sort", "etag"):
            self.assertIs(spc[k]["supported"], False)
        self.assertEqual(spc["authenticationSchemes"][0]["type"],
                         "oauthbearertoken")
        _, rts = self.scim("GET", "/ResourceTypes", expect=200)
        self.assertEqual(rts["schemas"], [LIST])
        [rt] = rts["Resources"]
        self.assertEqual((rt["id"], rt["endpoint"], rt["schema"]),
                         ("User", "/Users", CORE))
        self.assertEqual(rt["schemaExtensions"],
                         [{"schema": ENT, "required": False}])
        self.scim("GET", "/ResourceTypes/User", expect=200)
        _, schemas = self.scim("GET", "/Schemas", expect=200)
        ids = [s["id"] for s in schemas["Resources"]]
        self.assertEqual(ids, [CORE, ENT])
        attrs = {a["name"]: a for a in schemas["Resources"][0]["attributes"]}
        self.assertEqual(set(attrs), {"userName", "name", "displayName",
                                      "emails", "active"})
        self.assertIs(attrs["userName"]["required"], True)
        self.assertEqual(attrs["userName"]["uniqueness"], "server")
        _, ent = self.scim("GET", "/Schemas/" + ENT, expect=200)
        self.assertEqual([a["name"] for a in ent["attributes"]], ["manager"])
        st, err = self.scim("GET", "/Schemas/urn:nope")
        self.assert_error(err, 404)
        # what keywarden does not serve answers in SCIM's shape too
        for method, path in (("GET", "/Groups"), ("POST", "/Bulk"),
                             ("GET", "/Users/x/y"), ("POST", "/Users/x")):
            st, err = self.scim(method, path, {} if method == "POST"
                                else None)
            self.assertIn(st, (404, 405), (method, path))
            self.assert_error(err, st)


class Offboarding(Base):
    """Deactivation through SCIM is the People API's offboarding."""

    def setUp(self):
        super().setUp()
        self.sim = ZendeskSim().start()
        self.mgr = self.create("maria@example.com", name="Maria")
        make_person(self.srv, "pat@example.com", name="Pat")
        self.tok = {"pat@example.com": token_for(self.srv, "pat@example.com"),
                    "maria@example.com": token_for(self.srv,
                                                   "maria@example.com")}
        st, obj, _ = self.srv.request("POST", "/v1/instances", {
            "name": "global", "url": self.sim.url, "issuance": "automatic",
            "provisioners": ["pat@example.com"],
            "bot": {"email": ADMIN_EMAIL, "oauth_token": ADMIN_TOKEN}})
        self.assertEqual(st, 201, obj)

    def tearDown(self):
        super().tearDown()
        self.sim.close()

    def as_(self, who, method, path, body=None):
        return self.srv.request(method, path, body, token=self.tok[who])

    def clients(self):
        return [c for c in self.sim.state()["clients"]
                if c["identifier"].startswith("keywarden-")]

    def file(self, who):
        st, r, _ = self.as_(who, "POST", "/v1/requests", {
            "instance": "global", "kind": "api_token",
            "justification": "export", "use_case": "reporting",
            "scopes": ["tickets:read"], "lifetime_days": 30})
        self.assertEqual(st, 201, r)
        return r

    def world(self, email):
        """A SCIM person with a token, an issued credential (a client on
        the simulator) and an open request."""
        u = self.create(email, manager=self.mgr["id"])
        self.tok[email] = token_for(self.srv, email)
        r = self.file(email)
        for who in ("maria@example.com", "pat@example.com"):
            st, r, _ = self.as_(who, "POST",
                                "/v1/requests/%s/approve" % r["id"], {})
            self.assertEqual(st, 200, r)
        self.assertEqual(r["state"], "issued")
        cred = r["credential_id"]
        pending = self.file(email)
        self.assertIn("keywarden-" + cred,
                      [c["identifier"] for c in self.clients()])
        return u, cred, pending["id"]

    def assert_offboarded(self, email, u, cred, pending):
        # the person is inactive, their token dead
        self.assertIs(self.person(u["id"])["active"], False)
        st, _, _ = self.srv.request("GET", "/v1/me", token=self.tok[email])
        self.assertEqual(st, 401)
        # the open request withdrawn, the credential revoked on Zendesk
        st, r, _ = self.srv.request("GET", "/v1/requests/" + pending)
        self.assertEqual(r["state"], "withdrawn")
        st, c, _ = self.srv.request("GET", "/v1/credentials/" + cred)
        self.assertEqual(c["state"], "revoked")
        self.assertNotIn("keywarden-" + cred,
                         [c["identifier"] for c in self.clients()])
        ev = [e for e in self.audit("person.offboard")
              if e["subject"] == email]
        self.assertEqual(len(ev), 1)
        self.assertEqual(ev[0]["actor"], self.actor)
        self.assertEqual(ev[0]["details"]["requests_withdrawn"], [pending])
        self.assertEqual(ev[0]["details"]["tokens_revoked"], 1)

    def test_deactivate_by_put_and_both_patch_styles(self):
        styles = {
            "put": lambda u: ("PUT", dict(user(u["userName"],
                              manager=self.mgr["id"]), active=False)),
            "entra": lambda u: ("PATCH", {"schemas": [PATCH], "Operations": [
                {"op": "Replace", "path": "active", "value": "False"}]}),
            "okta": lambda u: ("PATCH", {"schemas": [PATCH], "Operations": [
                {"op": "replace", "value": {"active": False}}]}),
        }
        for style, make in styles.items():
            with self.subTest(style=style):
                email = "rick-%s@example.com" % style
                u, cred, pending = self.world(email)
                method, body = make(u)
                _, v = self.scim(method, "/Users/" + u["id"], body,
                                 expect=200)
                self.assertIs(v["active"], False)
                self.assert_offboarded(email, u, cred, pending)

    def test_reactivate(self):
        u, cred, pending = self.world("rick@example.com")
        self.scim("PATCH", "/Users/" + u["id"], {
            "schemas": [PATCH], "Operations": [
                {"op": "replace", "value": {"active": False}}]}, expect=200)
        _, v = self.scim("PATCH", "/Users/" + u["id"], {
            "schemas": [PATCH], "Operations": [
                {"op": "Replace", "path": "active", "value": "True"}]},
            expect=200)
        self.assertIs(v["active"], True)
        self.assertIs(self.person(u["id"])["active"], True)
        # a new token works; the old one stays dead
        new = token_for(self.srv, "rick@example.com")
        st, _, _ = self.srv.request("GET", "/v1/me", token=new)
        self.assertEqual(st, 200)
        st, _, _ = self.srv.request("GET", "/v1/me",
                                    token=self.tok["rick@example.com"])
        self.assertEqual(st, 401)
        [ev] = self.audit("person.reactivate")
        self.assertEqual(ev["actor"], self.actor)

    def test_delete_offboards_then_404_then_recreate_restores(self):
        u, cred, pending = self.world("rick@example.com")
        st, obj, _ = self.srv.request("DELETE", "/scim/v2/Users/" + u["id"],
                                      token=self.scim_token)
        self.assertEqual(st, 204, obj)
        self.assert_offboarded("rick@example.com", u, cred, pending)
        st, err = self.scim("GET", "/Users/" + u["id"])
        self.assertEqual(st, 404)
        self.assert_error(err, 404)
        _, page = self.scim("GET", "/Users?filter=" + quote(
            'userName eq "rick@example.com"'), expect=200)
        self.assertEqual(page["totalResults"], 0)
        st, _ = self.scim("DELETE", "/Users/" + u["id"])
        self.assertEqual(st, 404)
        # keywarden keeps the person (inactive) with their history
        self.assertIs(self.person(u["id"])["active"], False)
        # the provider creates them again: the same person comes back
        v = self.create("rick@example.com", manager=self.mgr["id"])
        self.assertEqual(v["id"], u["id"])
        self.assertIs(self.person(u["id"])["active"], True)

    def test_people_api_offboarding_unchanged(self):
        u, cred, pending = self.world("rick@example.com")
        st, out, _ = self.srv.request(
            "POST", "/v1/people/rick@example.com/offboard", {})
        self.assertEqual(st, 200, out)
        self.assertEqual(out["requests_withdrawn"], [pending])
        self.assertEqual(out["credentials_revoked"],
                         [{"id": cred, "result": "revoked"}])
        self.assertEqual(self.clients(), [])
        # SCIM sees the person inactive
        _, v = self.scim("GET", "/Users/" + u["id"], expect=200)
        self.assertIs(v["active"], False)

    def test_last_admin_cannot_be_deactivated(self):
        st, page = self.scim("GET", "/Users?filter=" + quote(
            'userName eq "admin@example.com"'), expect=200)
        admin = page["Resources"][0]
        st, err = self.scim("PATCH", "/Users/" + admin["id"], {
            "schemas": [PATCH], "Operations": [
                {"op": "replace", "value": {"active": False}}]})
        self.assertEqual(st, 400, err)
        self.assert_error(err, 400, "mutability")
        self.assertIs(self.person(admin["id"])["active"], True)
        st, err = self.scim("DELETE", "/Users/" + admin["id"])
        self.assertEqual(st, 400, err)
        self.assert_error(err, 400, "mutability")
        self.assertIs(self.person(admin["id"])["active"], True)
        st, _, _ = self.srv.request("GET", "/v1/me")
        self.assertEqual(st, 200)


if __name__ == "__main__":
    unittest.main()
