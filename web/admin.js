// admin.js — the admin's and auditor's pages: the audit log (filters, the
// chain's verification and head hash, export as JSON lines), people
// (read-only where SCIM manages them), and the Slack and e-mail settings.

import { api, qs, ApiError } from './api.js';
import { isAdmin, go } from './app.js';
import {
  h, title, when, facts, field, clearErrors, showErrors, errorBox, notice, table,
} from './ui.js';

const PAGE = 50;
const SPARSE_FOLLOW_MAX = 8;	// more calls for one short page, at most
const FILTERS = ['actor', 'action', 'subject', 'since', 'until'];

/** The filters of the audit page, from the location's query. */
function auditFilters() {
  const p = new URLSearchParams(location.search);
  const f = {};
  for (const k of FILTERS) f[k] = p.get(k) || '';
  return f;
}

/** A date field (YYYY-MM-DD) as the RFC 3339 bound the API filters on. */
function bound(date, end) {
  if (!date) return '';
  return /^\d{4}-\d{2}-\d{2}$/.test(date) ? date + (end ? 'T23:59:59Z' : 'T00:00:00Z') : date;
}

export async function audit() {
  const f = auditFilters();
  const query = { actor: f.actor, action: f.action, subject: f.subject, since: bound(f.since, false), until: bound(f.until, true) };
  const list = h('div');
  async function load(cursor) {
    // a filter examines a bounded number of events per call: a short page
    // with a cursor goes on until it is full (bounded too)
    let page = await api('GET', '/v1/audit' + qs({ ...query, limit: PAGE, after_seq: cursor }));
    const items = page.items;
    for (let n = 0; items.length < PAGE && page.next_cursor && n < SPARSE_FOLLOW_MAX; n++) {
      page = await api('GET', '/v1/audit' + qs({ ...query, limit: PAGE - items.length, after_seq: page.next_cursor }));
      items.push(...page.items);
    }
    list.replaceChildren(table('Audit events', ['#', 'At', 'Actor', 'Action', 'Subject', 'Details'],
      items.map((e) => [String(e.seq), when(e.at), e.actor, e.action, e.subject,
        h('code', { class: 'details' }, JSON.stringify(e.details))])),
    page.next_cursor ? h('div', { class: 'actions' }, h('button', { type: 'button', class: 'secondary',
      onclick: () => load(page.next_cursor).catch((e) => list.replaceChildren(errorBox(e))) }, 'Next page')) : null);
  }
  const [verify] = await Promise.all([api('GET', '/v1/audit/verify'), load(undefined)]);
  const form = h('form', { class: 'card filters', role: 'search', 'aria-label': 'Filter the audit log' },
    field({ label: 'Actor', name: 'actor', value: f.actor, hint: 'E-mail, exactly.' }),
    field({ label: 'Action', name: 'action', value: f.action, hint: 'e.g. request.approve, or request. for all.' }),
    field({ label: 'Subject', name: 'subject', value: f.subject, hint: 'A request, credential or person id.' }),
    field({ label: 'From', name: 'since', type: 'date', value: f.since }),
    field({ label: 'To', name: 'until', type: 'date', value: f.until }),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Filter')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = {};
    for (const k of FILTERS) q[k] = form.elements[k].value.trim();
    go('/audit' + qs(q));
  });
  const exportBtn = h('button', { type: 'button', class: 'secondary' }, 'Export as JSON lines');
  const exportMsg = h('p', { role: 'status' });
  exportBtn.addEventListener('click', async () => {
    exportBtn.disabled = true;
    exportMsg.textContent = 'Exporting…';
    try {
      const lines = [];
      let cursor;
      do {
        const page = await api('GET', '/v1/audit' + qs({ ...query, limit: 500, after_seq: cursor }));
        for (const e of page.items) lines.push(JSON.stringify(e));
        cursor = page.next_cursor;
      } while (cursor);
      const blob = new Blob([lines.join('\n') + (lines.length ? '\n' : '')], { type: 'application/x-ndjson' });
      const a = h('a', { href: URL.createObjectURL(blob), download: 'keywarden-audit.jsonl' });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 10000);
      exportMsg.textContent = `Exported ${lines.length} events.`;
    } catch (e) {
      exportMsg.textContent = e.message;
    } finally {
      exportBtn.disabled = false;
    }
  });
  const chain = verify.ok ?
    h('div', { class: 'notice ok', role: 'status' }, `Chain intact: ${verify.events} events verified. Head hash `,
      h('code', { class: 'hash' }, verify.head)) :
    h('div', { class: 'alert', role: 'alert' }, `Chain broken at event ${verify.first_bad_seq}: ${verify.reason}`);
  return h('div', null, title('Audit'), chain, form,
    h('div', { class: 'actions' }, exportBtn), exportMsg, list);
}

export async function people() {
  if (!isAdmin()) return h('div', null, title('People'), h('p', null, 'Only admins manage people.'));
  const box = h('div');
  async function load(cursor) {
    const page = await api('GET', '/v1/people' + qs({ limit: PAGE, cursor }));
    box.replaceChildren(table('People', ['Name', 'E-mail', 'Manager', 'Roles', 'Teams', 'Active', 'Managed by'],
      page.items.map((p) => [p.name, p.email, p.manager, (p.roles || []).join(', ') || '—',
        (p.teams || []).join(', ') || '—', p.active ? 'Yes' : 'No',
        p.scim_id || p.managed_by === 'scim' ? 'SCIM (read-only here)' : 'keywarden'])),
    page.next_cursor ? h('div', { class: 'actions' }, h('button', { type: 'button', class: 'secondary',
      onclick: () => load(page.next_cursor).catch((e) => box.replaceChildren(errorBox(e))) }, 'Next page')) : null);
  }
  await load(undefined);
  const form = h('form', { class: 'card', novalidate: true },
    h('div', { class: 'form-error', tabindex: '-1' }),
    field({ label: 'E-mail', name: 'email', type: 'email' }),
    field({ label: 'Full name', name: 'name' }),
    field({ label: 'Manager', name: 'manager', type: 'email', hint: 'Their manager\'s e-mail; approves their requests.' }),
    field({ label: 'Teams', name: 'teams', hint: 'Separated by commas.' }),
    field({ label: 'Role', name: 'roles', type: 'select', value: '', options: [
      { value: '', label: 'None' }, { value: 'auditor', label: 'Auditor' }, { value: 'admin', label: 'Admin' }] }),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Add person')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const el = form.elements;
    try {
      await api('POST', '/v1/people', {
        email: el.email.value, name: el.name.value, manager: el.manager.value || null,
        teams: el.teams.value.split(',').map((x) => x.trim()).filter(Boolean),
        roles: el.roles.value ? [el.roles.value] : [],
      });
      form.reset();
      await load(undefined);
      box.prepend(notice('Added.'));
    } catch (e) {
      if (e instanceof ApiError) showErrors(form, e); else throw e;
    }
  });
  return h('div', null, title('People'),
    h('p', { class: 'lead' }, 'People kept in sync by your identity provider (SCIM) are changed there, not here.'),
    box, h('details', { class: 'add' }, h('summary', null, 'Add a person'), form));
}

/** A settings form: fields, the current (secret-free) values, PUT path. */
function settingsForm(heading, path, current, fields, build) {
  const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': path.replace(/\W/g, '') },
    h('h2', { id: path.replace(/\W/g, '') }, heading),
    current ? facts(Object.entries(current).map(([k, v]) => [k.replace(/_/g, ' '),
      typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)])) : h('p', { class: 'muted' }, 'Not configured.'),
    h('div', { class: 'form-error', tabindex: '-1' }), ...fields.map(field),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Save ' + heading.toLowerCase())));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    try {
      await api('PUT', path, build(form.elements));
      for (const f of fields) if (f.type === 'password') form.elements[f.name].value = '';
      form.querySelector('.form-error').replaceChildren(notice('Saved.'));
    } catch (e) {
      if (e instanceof ApiError) showErrors(form, e); else throw e;
    }
  });
  return form;
}

export async function settings() {
  if (!isAdmin()) return h('div', null, title('Settings'), h('p', null, 'Only admins change settings.'));
  const get = (p) => api('GET', p).catch((e) => (e instanceof ApiError && e.status === 404 ? null : Promise.reject(e)));
  const [slack, email] = await Promise.all([get('/v1/settings/slack'), get('/v1/settings/email')]);
  return h('div', null, title('Settings'),
    h('p', { class: 'lead' }, 'Secrets are sealed when saved and never shown again; leave them empty to keep them.'),
    settingsForm('Slack', '/v1/settings/slack', slack, [
      { label: 'Bot token', name: 'bot_token', type: 'password' },
      { label: 'Signing secret', name: 'signing_secret', type: 'password' },
      { label: 'API base URL', name: 'api_base_url', type: 'url', value: (slack && slack.api_base_url) || 'https://slack.com/api' },
      { label: 'Webhook URL', name: 'webhook_url', type: 'url', hint: 'Optional channel webhook.' },
    ], (el) => ({
      bot_token: el.bot_token.value, signing_secret: el.signing_secret.value,
      api_base_url: el.api_base_url.value, webhook_url: el.webhook_url.value || null,
    })),
    settingsForm('E-mail', '/v1/settings/email', email, [
      { label: 'SMTP URL', name: 'smtp_url', type: 'url', value: (email && email.smtp_url) || '', placeholder: 'smtp://host:25' },
      { label: 'From', name: 'from', type: 'email', value: (email && email.from) || '' },
      { label: 'Username', name: 'username', value: (email && email.username) || '' },
      { label: 'Password', name: 'password', type: 'password' },
    ], (el) => ({ smtp_url: el.smtp_url.value, from: el.from.value, username: el.username.value, password: el.password.value })));
}
