// instances.js — the instances: their policies (and, for admins, a form
// to add one), and one instance's page: its credential inventory, its
// legacy API tokens with the migration deadlines, and an expiry timeline
// drawn as inline SVG (credentials expiring in the next 90 days, legacy
// tokens up to Zendesk's shutdown of 2027-04-30).

import { api, qs, ApiError } from './api.js';
import { isAdmin, go } from './app.js';
import {
  h, s, title, when, daysUntil, facts, field, clearErrors, showErrors, table, link,
} from './ui.js';

const SHUTDOWN = '2027-04-30T00:00:00Z';
const DAY = 86400000;

export async function instances() {
  const list = await api('GET', '/v1/instances' + qs({ limit: 500 }));
  const rows = (list.items || []).map((i) => [
    link('/instances/' + encodeURIComponent(i.name), i.display_name || i.name), i.name, i.url,
    i.issuance, i.allow_integrations ? 'Yes' : 'No', i.max_lifetime_days + ' days',
    (i.provisioners || []).join(', '),
  ]);
  return h('div', null, title('Instances'),
    table('Instances', ['Instance', 'Name', 'URL', 'Issuance', 'Integrations', 'Longest lifetime', 'Provisioners'], rows),
    isAdmin() ? addInstanceForm() : null);
}

function addInstanceForm() {
  const form = h('form', { class: 'card', novalidate: true },
    h('div', { class: 'form-error', tabindex: '-1' }),
    field({ label: 'Name', name: 'name', hint: 'Short id, e.g. "global".' }),
    field({ label: 'Display name', name: 'display_name' }),
    field({ label: 'URL', name: 'url', type: 'url', placeholder: 'https://example.zendesk.com' }),
    field({ label: 'Provisioners', name: 'provisioners', hint: 'E-mail addresses, separated by commas.' }),
    field({ label: 'Issuance', name: 'issuance', type: 'select', value: 'automatic',
      options: [{ value: 'automatic', label: 'Automatic' }, { value: 'manual', label: 'Manual' }] }),
    field({ label: 'Longest lifetime (days)', name: 'max_lifetime_days', type: 'number', value: '365' }),
    field({ label: 'Bot e-mail', name: 'bot.email', type: 'email' }),
    field({ label: 'Bot OAuth token', name: 'bot.oauth_token', type: 'password' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Add instance')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const el = form.elements;
    const body = {
      name: el.name.value, display_name: el.display_name.value, provider: 'zendesk', url: el.url.value,
      provisioners: el.provisioners.value.split(',').map((x) => x.trim()).filter(Boolean),
      issuance: el.issuance.value, max_lifetime_days: Number(el.max_lifetime_days.value),
      allow_integrations: false, rotation_days: 90,
    };
    if (el['bot.email'].value || el['bot.oauth_token'].value) {
      body.bot = { email: el['bot.email'].value, oauth_token: el['bot.oauth_token'].value };
    }
    try {
      const i = await api('POST', '/v1/instances', body);
      el['bot.oauth_token'].value = '';
      go('/instances/' + encodeURIComponent(i.name));
    } catch (e) {
      if (e instanceof ApiError) showErrors(form, e); else throw e;
    }
  });
  return h('details', { class: 'add' }, h('summary', null, 'Add an instance'), form);
}

/**
 * The expiry timeline: from today to the later of today+90 days and the
 * legacy shutdown.  Credentials expiring within 90 days are counted per
 * week (bars); each legacy token is a mark at its deactivation date (or
 * the shutdown), on its own row.  The chart is described by its title and
 * by the tables beside it, which hold the same facts.
 */
export function timelineChart(creds, tokens, now = Date.now()) {
  const W = 760; const H = 220; const L = 40; const R = 20; const T = 24;
  const end = Math.max(now + 90 * DAY, Date.parse(SHUTDOWN) + 7 * DAY);
  const x = (t) => L + ((t - now) / (end - now)) * (W - L - R);
  const horizon = now + 90 * DAY;
  const weeks = new Array(13).fill(0);
  for (const c of creds) {
    const t = Date.parse(c.expires_at);
    if (!c.expires_at || t < now || t > horizon) continue;
    weeks[Math.min(12, Math.floor((t - now) / (7 * DAY)))]++;
  }
  const max = Math.max(1, ...weeks);
  const barTop = T + 10; const barBase = 120;
  const bars = weeks.map((n, i) => {
    const x0 = x(now + i * 7 * DAY) + 1; const x1 = x(now + (i + 1) * 7 * DAY) - 1;
    const hgt = (n / max) * (barBase - barTop);
    return n ? s('rect', { x: x0.toFixed(1), y: (barBase - hgt).toFixed(1), width: (x1 - x0).toFixed(1),
      height: hgt.toFixed(1), class: 'bar' }, s('title', null, `${n} expiring in week ${i + 1}`)) : null;
  });
  const marks = tokens.filter((t) => t.active).map((t, i) => {
    const due = Date.parse(t.deactivation_due || SHUTDOWN);
    const at = Math.min(due, Date.parse(SHUTDOWN));
    const y = 150 + (i % 4) * 12;
    return s('g', null,
      s('line', { x1: x(now).toFixed(1), x2: x(Math.max(now, at)).toFixed(1), y1: y, y2: y, class: 'legacy-line' }),
      s('circle', { cx: x(Math.max(now, at)).toFixed(1), cy: y, r: 4, class: at < now + 14 * DAY ? 'mark-soon' : 'mark' },
        s('title', null, `${t.name || t.api_token_id}: stops ${when(new Date(at).toISOString().replace(/\.\d+Z$/, 'Z'))}`)));
  });
  const ticks = [];
  for (let t = now; t <= end; t += 30 * DAY) {
    ticks.push(s('line', { x1: x(t), x2: x(t), y1: T, y2: H - 28, class: 'grid' }),
      s('text', { x: x(t), y: H - 12, class: 'tick', 'text-anchor': 'middle' },
        new Date(t).toISOString().slice(0, 10)));
  }
  return s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-labelledby': 'chart-t chart-d' },
    s('title', { id: 'chart-t' }, 'Expiry timeline'),
    s('desc', { id: 'chart-d' }, `${weeks.reduce((a, b) => a + b, 0)} credentials expire in the next 90 days; ` +
      `${tokens.filter((t) => t.active).length} active legacy tokens stop by 2027-04-30 at the latest.`),
    ...ticks,
    s('line', { x1: L, x2: W - R, y1: barBase, y2: barBase, class: 'axis' }),
    s('text', { x: L, y: T - 8, class: 'label' }, 'Credentials expiring per week (next 90 days)'),
    s('text', { x: L, y: 140, class: 'label' }, 'Legacy API tokens: until deactivation or shutdown'),
    s('line', { x1: x(horizon), x2: x(horizon), y1: T, y2: H - 28, class: 'limit' }),
    s('text', { x: x(horizon) + 4, y: T + 8, class: 'label' }, '90 days'),
    s('line', { x1: x(Date.parse(SHUTDOWN)), x2: x(Date.parse(SHUTDOWN)), y1: T, y2: H - 28, class: 'shutdown' }),
    s('text', { x: x(Date.parse(SHUTDOWN)) - 4, y: T + 8, class: 'label', 'text-anchor': 'end' }, 'Shutdown 2027-04-30'),
    ...bars, ...marks);
}

export async function instancePage(name) {
  const creds = await api('GET', '/v1/credentials' + qs({ instance: name, state: 'active', limit: 500 }));
  let report = null; let reportErr = null;
  try {
    report = await api('GET', '/v1/reports/migration' + qs({ instance: name }));
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    reportErr = e;
  }
  const sec = report && (report.instances || []).find((i) => i.instance === name);
  const tokens = sec ? sec.tokens : [];
  const items = (creds.items || []).filter((c) => c.kind !== 'legacy_api_token');
  const inventory = table('Active credentials on ' + name,
    ['Credential', 'Owner', 'Kind', 'Scopes', 'Expires', 'Last used', 'Delivery'],
    items.map((c) => [link('/credentials/' + c.id, c.name && !/^https?:/.test(c.name) ? c.name : c.id), c.owner, c.kind,
      (c.scopes || []).join(', '), when(c.expires_at), when(c.last_used_at),
      c.delivery && c.delivery.mode ? c.delivery.mode : '—']));
  const legacy = reportErr ? h('p', { class: 'muted' }, 'The migration report is for admins, auditors and ' +
    'the instance\'s provisioners (' + reportErr.message + ').') :
    table('Legacy API tokens on ' + name, ['Token', 'Active', 'Last used', 'Deactivation due', 'Shutdown', 'Replaced by'],
      tokens.map((t) => {
        const d = daysUntil(t.deactivation_due);
        return [t.name || t.api_token_id, t.active ? 'Yes' : 'No', when(t.last_used_at),
          t.deactivation_due ? when(t.deactivation_due) + (d !== null && d < 14 ? ' (soon)' : '') : '—',
          when(t.shutdown), t.replacement ? link('/credentials/' + t.replacement.id, t.replacement.name || t.replacement.id) :
            h('span', { class: 'badge st-denied' }, 'Not replaced')];
      }));
  return h('div', null, title('Instance ' + name),
    h('p', { class: 'actions' }, link('/new?instance=' + encodeURIComponent(name), 'Request a credential here')),
    sec ? facts([['Legacy tokens', String(sec.summary.total)], ['Active', String(sec.summary.active)],
      ['Replaced', String(sec.summary.replaced)],
      ['Deactivating within 14 days', String(sec.summary.deactivation_within_14_days)]]) : null,
    h('section', { 'aria-labelledby': 'tl-h' }, h('h2', { id: 'tl-h' }, 'Expiry timeline'),
      h('div', { class: 'chart-wrap' }, timelineChart(items, tokens))),
    h('section', { 'aria-labelledby': 'inv-h' }, h('h2', { id: 'inv-h' }, 'Inventory'), inventory,
      creds.next_cursor ? h('p', { class: 'muted' }, 'Showing the first 500.') : null),
    h('section', { 'aria-labelledby': 'leg-h' }, h('h2', { id: 'leg-h' }, 'Legacy API tokens and their migration'),
      h('p', null, 'Zendesk deactivates a legacy token 30 days after its last use and shuts them all down on 2027-04-30.'),
      legacy));
}


