// credentials.js — "My credentials" (and, for managers and provisioners,
// every credential they may see) and a credential's page: "Reveal secret"
// (once), "Get access token" (broker), "Rotate", "Revoke", and bound
// tokens for automations.  A shown secret lives only in the page until
// "Dismiss" removes it.

import { api, qs, ApiError } from './api.js';
import { session, go } from './app.js';
import {
  h, title, badge, when, daysUntil, facts, field, clearErrors, showErrors, errorBox,
  notice, pager, table, link, secretBox,
} from './ui.js';

const PAGE = 25;
const KIND = { api_token: 'API token', integration: 'Integration', legacy_api_token: 'Legacy API token' };

function expiry(iso) {
  if (!iso) return '—';
  const d = daysUntil(iso);
  return when(iso) + (d === null ? '' : d >= 0 ? ` (in ${d} days)` : ` (${-d} days ago)`);
}

/** A credential's name when it is one (an integration's, a legacy
 *  token's description), else its id: most names are the request link. */
function label(c) {
  return c.name && !/^https?:/.test(c.name) ? c.name : c.id;
}

function deliveryText(c) {
  const d = c.delivery || {};
  const mode = d.mode ? d.mode.replace('_', ' ') : null;
  const state = d.state && d.state !== 'not_applicable' ? d.state : null;
  return [mode, state].filter(Boolean).join(', ') || '—';
}

export async function myCredentials() {
  const params = new URLSearchParams(location.search);
  const all = params.get('whose') === 'all';
  const box = h('div');
  async function load(cursor) {
    const page = await api('GET', '/v1/credentials' + qs({
      owner: all ? '' : session.person.email, limit: PAGE, cursor,
    }));
    const rows = page.items.map((c) => [
      link('/credentials/' + c.id, label(c)), c.instance, KIND[c.kind] || c.kind,
      badge(c.state), all ? c.owner : null, expiry(c.expires_at), when(c.last_used_at), deliveryText(c),
    ].filter((x, i) => all || i !== 4));
    const heads = ['Credential', 'Instance', 'Kind', 'State', 'Owner', 'Expires', 'Last used', 'Delivery']
      .filter((x, i) => all || i !== 4);
    box.replaceChildren(rows.length ? table(all ? 'Credentials you may see' : 'Your credentials', heads, rows) :
      h('p', { class: 'muted' }, 'No credentials yet. ', link('/new', 'File a request'), ' to get one.'),
    pager(page.next_cursor, (c) => load(c).catch((e) => box.replaceChildren(errorBox(e)))));
  }
  await load(undefined);
  const whose = h('form', { class: 'inline', role: 'search' },
    field({ label: 'Show', name: 'whose', type: 'select', value: all ? 'all' : 'mine', options: [
      { value: 'mine', label: 'Mine' }, { value: 'all', label: 'All I may see (reports, instances)' }] }),
    h('button', { type: 'submit', class: 'secondary' }, 'Apply'));
  whose.addEventListener('submit', (ev) => {
    ev.preventDefault();
    go('/credentials' + qs({ whose: whose.elements.whose.value === 'all' ? 'all' : '' }));
  });
  return h('div', null, title('My credentials'), whose, box);
}

/** Bound tokens of a broker credential: list, create (shown once), delete. */
async function boundTokens(c, reveal) {
  const sec = h('section', { class: 'card', 'aria-labelledby': 'bound-h' });
  async function draw(msg) {
    let list;
    try {
      list = await api('GET', `/v1/credentials/${c.id}/bound-tokens`);
    } catch (e) {
      if (e instanceof ApiError && (e.status === 404 || e.status === 405)) return false;
      throw e;
    }
    const items = (list && list.items) || [];
    const form = h('form', { class: 'inline', novalidate: true },
      h('div', { class: 'form-error', tabindex: '-1' }),
      field({ label: 'Label', name: 'label', hint: 'What will use it, e.g. "nightly export".' }),
      h('button', { type: 'submit' }, 'Create bound token'));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearErrors(form);
      try {
        const t = await api('POST', `/v1/credentials/${c.id}/bound-tokens`, { label: form.elements.label.value });
        reveal(secretBox('Bound token', [{ label: 'Token', value: t.token }],
          h('p', { class: 'hint' }, 'It can only get access tokens for this credential: ' +
            'KEYWARDEN_TOKEN=… keywarden credential token ' + c.id)));
        draw('Bound token created.');
      } catch (e) {
        if (e instanceof ApiError) showErrors(form, e); else throw e;
      }
    });
    sec.replaceChildren(h('h2', { id: 'bound-h' }, 'Bound tokens for automations'),
      msg ? notice(msg) : null,
      table('Bound tokens', ['Label', 'Created', 'Last used', ''], items.map((t) => {
        const del = h('button', { type: 'button', class: 'secondary', 'aria-label': 'Delete bound token ' + t.label },
          'Delete');
        del.addEventListener('click', async () => {
          try {
            await api('DELETE', `/v1/credentials/${c.id}/bound-tokens/${t.id}`);
            draw('Deleted.');
          } catch (e) { sec.append(errorBox(e)); }
        });
        return [t.label, when(t.created_at), when(t.last_used_at), del];
      })), form);
    return true;
  }
  return (await draw(null)) ? sec : null;
}

export async function credentialPage(id) {
  const root = h('div');
  const secrets = h('div', { class: 'secrets' });
  function reveal(box) {
    secrets.replaceChildren(box);
    box.focus();
  }
  secrets.addEventListener('secret-dismissed', () => {
    const t = document.getElementById('page-title');
    if (t) t.focus();
  });
  async function draw(msg) {
    const c = await api('GET', '/v1/credentials/' + encodeURIComponent(id));
    const me = session.person.email;
    const owner = c.owner === me;
    const active = c.state === 'active';
    const mode = c.delivery && c.delivery.mode;
    const actions = h('div', { class: 'actions' });
    const errs = h('div');
    const fail = (e) => errs.replaceChildren(errorBox(e));

    if (owner && active && c.delivery && c.delivery.state === 'pending' && mode !== 'broker') {
      const b = h('button', { type: 'button' }, 'Reveal secret');
      b.addEventListener('click', async () => {
        errs.replaceChildren();
        try {
          const s = await api('POST', `/v1/credentials/${c.id}/reveal`, {});
          const items = s.secret !== undefined ? [{ label: 'Secret', value: s.secret }] :
            [{ label: 'Client identifier', value: s.client_id }, { label: 'Client secret', value: s.client_secret }];
          b.remove();
          reveal(secretBox('Secret of credential ' + c.id, items));
        } catch (e) { fail(e); }
      });
      actions.append(b);
    }
    if (owner && active && mode === 'broker') {
      const ttl = field({ label: 'Access token lifetime (minutes)', name: 'ttl', type: 'number', value: '30', min: '5' });
      const b = h('button', { type: 'button' }, 'Get access token');
      b.addEventListener('click', async () => {
        errs.replaceChildren();
        const minutes = Number(ttl.querySelector('input').value) || 30;
        try {
          const t = await api('POST', `/v1/credentials/${c.id}/access-token`, { ttl_seconds: Math.round(minutes * 60) });
          reveal(secretBox('Access token', [{ label: 'Access token', value: t.access_token }],
            facts([['Expires', when(t.expires_at)], ['Scopes', (t.scopes || []).join(', ')],
              ['Instance', t.instance_url], ['Use as', 'Authorization: Bearer <token>']])));
        } catch (e) { fail(e); }
      });
      actions.append(ttl, b);
    }
    if (active && c.kind !== 'legacy_api_token') {
      const b = h('button', { type: 'button', class: 'secondary' }, 'Rotate');
      b.addEventListener('click', async () => {
        errs.replaceChildren();
        try {
          const n = await api('POST', `/v1/credentials/${c.id}/rotate`, {});
          if (n.id === c.id) draw('Rotated: same credential, new secret on the instance.');
          else go('/credentials/' + n.id);
        } catch (e) { fail(e); }
      });
      actions.append(b);
    }
    let revokeForm = null;
    if (active) {
      revokeForm = h('form', { class: 'card danger-zone', novalidate: true, 'aria-labelledby': 'revoke-h' },
        h('h2', { id: 'revoke-h' }, 'Give back or revoke'),
        h('div', { class: 'form-error', tabindex: '-1' }),
        field({ label: 'Reason', name: 'reason', hint: 'Recorded in the audit log.' }),
        h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'danger' }, 'Revoke')));
      revokeForm.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        clearErrors(revokeForm);
        try {
          await api('POST', `/v1/credentials/${c.id}/revoke`, { reason: revokeForm.elements.reason.value });
          secrets.replaceChildren();
          draw('Revoked on the instance.');
        } catch (e) {
          if (e instanceof ApiError) showErrors(revokeForm, e); else throw e;
        }
      });
    }
    const bound = owner && active && mode === 'broker' ? await boundTokens(c, reveal) : null;
    root.replaceChildren(...[title('Credential ' + c.id), msg ? notice(msg) : null,
      facts([
        ['Name', c.name], ['State', badge(c.state)], ['Instance', c.instance], ['Kind', KIND[c.kind] || c.kind],
        ['Owner', c.owner], ['Purpose', c.purpose], ['Scopes', (c.scopes || []).join(', ')],
        ['Delivery', deliveryText(c)],
        c.delivery && c.delivery.expires_at ? ['Reveal before', when(c.delivery.expires_at)] : null,
        ['Created', when(c.created_at)], ['Expires', expiry(c.expires_at)], ['Last used', when(c.last_used_at)],
        c.revoked_at ? ['Revoked', when(c.revoked_at) + (c.revoke_reason ? ' — ' + c.revoke_reason : '')] : null,
        c.fingerprint ? ['Fingerprint', h('code', null, c.fingerprint)] : null,
        c.request_id ? ['Request', link('/requests/' + c.request_id, c.request_id)] : null,
        c.rotated_from ? ['Rotated from', link('/credentials/' + c.rotated_from, c.rotated_from)] : null,
        c.rotated_to ? ['Rotated to', link('/credentials/' + c.rotated_to, c.rotated_to)] : null,
      ]), secrets, actions.childNodes.length ? actions : null, errs, bound, revokeForm].filter(Boolean));
  }
  await draw(null);
  return root;
}
