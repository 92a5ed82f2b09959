'use strict';
/*
 * zendesk_client_test.js — drives zendesk-sim with node-zendesk (a Zendesk
 * client keywarden did not write), with its default settings: ".json"
 * URLs, page[size]=100 on list calls, following links.next.
 *
 *   ZSIM_URL=http://127.0.0.1:PORT ZSIM_ADMIN_TOKEN=... \
 *       node tests/node/zendesk_client_test.js
 *
 * Started by tests/e2e/test_node_client.py, which runs the simulator and
 * checks its access log afterwards.  Prints one line per step and exits
 * non-zero on the first failure.
 */
const assert = require('node:assert/strict');
const zendesk = require('node-zendesk');

const base = process.env.ZSIM_URL;
const adminToken = process.env.ZSIM_ADMIN_TOKEN;
const ticketCount = 205;	/* three pages of node-zendesk's 100 */

function client(token) {
	return zendesk.createClient({
		endpointUri: `${base}/api/v2`, token, oauth: true,
	});
}

/* A control-plane call of the simulator (not Zendesk's API). */
async function control(method, path, body) {
	const res = await fetch(`${base}/_sim/${path}`, {
		method,
		headers: body ? { 'Content-Type': 'application/json' } : {},
		body: body ? JSON.stringify(body) : undefined,
	});
	assert.ok(res.ok, `${method} /_sim/${path}: ${res.status}`);
	return res.status === 204 ? null : res.json();
}

const steps = [];
function step(name, fn) {
	steps.push({ name, fn });
}

const admin = client(adminToken);
const state = {};

step('users.me as the admin', async () => {
	const { response, result } = await admin.users.me();
	assert.equal(response.status, 200);
	assert.equal(result.role, 'admin');
	assert.equal(typeof result.id, 'number');
	assert.ok(response.headers.get('x-rate-limit'));
	state.adminId = result.id;
});

step('oauthclients.create returns the secret once', async () => {
	const { response, result } = await admin.oauthclients.create({
		name: 'node-zendesk check', identifier: 'node-zendesk-check',
		kind: 'confidential',
	});
	assert.equal(response.status, 201);
	const c = result.client;
	assert.equal(c.identifier, 'node-zendesk-check');
	assert.equal(c.secret.length, 64);
	state.client = c;
	const shown = await admin.oauthclients.show(c.id);
	assert.equal(shown.result.client.secret, c.secret.slice(0, 6) + '...');
});

step('oauthtokens.create returns full_token', async () => {
	const { response, result } = await admin.oauthtokens.create({
		token: { client_id: state.client.id, scopes: ['read'] },
	});
	assert.equal(response.status, 201);
	assert.equal(result.client_id, state.client.id);
	assert.equal(result.full_token.length, 64);
	assert.equal(result.expires_at, null);
	state.token = result;
});

step('the new token authenticates: users.me and oauthtokens.current',
    async () => {
	const bot = client(state.token.full_token);
	const me = await bot.users.me();
	assert.equal(me.result.id, state.adminId);
	const cur = await bot.oauthtokens.current();
	assert.equal(cur.response.status, 200);
	assert.equal(cur.result.id, state.token.id);
	assert.equal(cur.result.token, state.token.full_token.slice(0, 10));
	assert.equal(cur.result.full_token, undefined);
});

step('tickets.list follows links.next over three pages', async () => {
	await control('POST', 'tickets', { count: ticketCount });
	const before = (await control('GET', 'state')).requests.by_endpoint;
	const tickets = await client(state.token.full_token).tickets.list();
	assert.equal(tickets.length, ticketCount);
	assert.deepEqual(tickets.map((t) => t.id),
	    Array.from({ length: ticketCount }, (_, i) => i + 1));
	const after = (await control('GET', 'state')).requests.by_endpoint;
	const calls = (after['GET /api/v2/tickets'] || 0) -
	    (before['GET /api/v2/tickets'] || 0);
	assert.equal(calls, 3);
});

step('a token without tickets:read is refused', async () => {
	const { result } = await admin.oauthtokens.create({
		token: { client_id: state.client.id, scopes: ['users:read'] },
	});
	await assert.rejects(client(result.full_token).tickets.list(),
	    /\(403\)/);
});

step('oauthclients.list and oauthtokens.list', async () => {
	for (let i = 0; i < 3; i++)
		await admin.oauthclients.create({
			name: `extra ${i}`, identifier: `node-extra-${i}`,
		});
	const clients = await admin.oauthclients.list();
	assert.equal(clients.length, 4);
	assert.ok(clients.every((c) => c.secret.endsWith('...')));
	/* "tokens" is not among node-zendesk's jsonAPINames for this
	 * resource, so list() hands back the page bodies themselves. */
	const pages = await admin.oauthtokens.list();
	assert.equal(pages.length, 1);
	assert.equal(pages[0].meta.has_more, false);
	const tokens = pages.flatMap((p) => p.tokens);
	assert.equal(tokens.length, 2);
	assert.ok(tokens.every((t) => t.full_token === undefined));
});

step('oauthclients.delete kills the client and its tokens', async () => {
	await admin.oauthclients.delete(state.client.id);
	await assert.rejects(admin.oauthclients.show(state.client.id),
	    /\(404\)/);
	await assert.rejects(client(state.token.full_token).users.me(),
	    /\(401\)/);
	assert.equal((await admin.oauthclients.list()).length, 3);
});

step('an injected 429 reaches the client with Retry-After', async () => {
	await control('POST', 'faults', {
		status: 429, retry_after: 7, count: 1,
		path_prefix: '/api/v2/users/me',
	});
	const { response, result } = await admin.users.me();
	assert.equal(response.status, 429);
	assert.equal(response.headers.get('retry-after'), '7');
	assert.ok(response.headers.get('content-type').startsWith(
	    'text/plain'));
	assert.equal(result.statusCode, 429);	/* node-zendesk's verdict */
	assert.equal((await admin.users.me()).response.status, 200);
});

step('the account rate limit answers 429 with Retry-After', async () => {
	await control('POST', 'options', { rate_limit: 1 });
	let res;
	for (let i = 0; i < 2; i++) {
		res = await admin.users.me();
		if (res.response.status === 429)
			break;
	}
	assert.equal(res.response.status, 429);
	assert.equal(res.response.headers.get('x-rate-limit'), '1');
	assert.equal(res.response.headers.get('x-rate-limit-remaining'), '0');
	const wait = Number(res.response.headers.get('retry-after'));
	assert.ok(wait >= 1 && wait <= 60, `Retry-After ${wait}`);
	assert.equal(res.result.statusCode, 429);
	await control('POST', 'options', { rate_limit: 100000000 });
	assert.equal((await admin.users.me()).response.status, 200);
});

async function main() {
	assert.ok(base && adminToken, 'set ZSIM_URL and ZSIM_ADMIN_TOKEN');
	for (const { name, fn } of steps) {
		try {
			await fn();
		} catch (e) {
			console.log(`not ok - ${name}\n${e.stack}`);
			process.exit(1);
		}
		console.log(`ok - ${name}`);
	}
	console.log(`node-zendesk: ${steps.length} steps passed`);
}

main();
