// ui.js — small DOM helpers shared by the pages: element building (text is
// always set as text, never parsed as HTML), dates, state badges, forms
// that show the API's refusals next to the field, and the one-time secret
// box (Copy / Dismiss).

/** Create an element: h('a', {href: '/x', class: 'c'}, 'text', child...).
 *  Props starting with "on" are listeners; "text" sets textContent;
 *  false/null props and children are skipped. */
export function h(tag, props, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else if (k === 'class') el.className = v;
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid === null || kid === undefined || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}

/** An SVG element with presentation attributes (no style attributes: the
 *  page's CSP forbids them). */
export function s(tag, attrs, ...kids) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid === null || kid === undefined) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}

/** "2026-12-02 09:00 UTC" for an RFC 3339 time, "—" for none. */
export function when(iso) {
  if (!iso) return '—';
  return iso.replace('T', ' ').replace(/:\d\dZ$/, ' UTC');
}

/** Days from now to iso (negative: past), or null. */
export function daysUntil(iso) {
  if (!iso) return null;
  return Math.round((Date.parse(iso) - Date.now()) / 86400000);
}

const STATE_LABELS = {
  pending_manager: 'Waiting for manager',
  pending_provisioner: 'Waiting for provisioner',
  awaiting_fulfilment: 'Awaiting fulfilment',
  issued: 'Issued', denied: 'Denied', withdrawn: 'Withdrawn',
  expired: 'Expired', failed: 'Failed', active: 'Active', revoked: 'Revoked',
  pending: 'Pending', delivered: 'Delivered', not_applicable: 'Not applicable',
};

/** A state as a badge: the words, with a class for its colour. */
export function badge(state) {
  return h('span', { class: 'badge st-' + state }, STATE_LABELS[state] || state);
}

/** A page heading that takes the focus, so keyboard and screen-reader
 *  users start at the new page. */
export function title(text) {
  document.title = text + ' — keywarden';
  return h('h1', { tabindex: '-1', id: 'page-title' }, text);
}

/** A definition list from [label, value] pairs (value: text or node). */
export function facts(pairs) {
  return h('dl', { class: 'facts' }, pairs.filter(Boolean).map(([k, v]) =>
    [h('dt', null, k), h('dd', null, v === null || v === undefined || v === '' ? '—' : v)]));
}

/** A labelled form field: {label, name, type, value, hint, options,
 *  required, ...}.  Returns the wrapper; its error slot is filled by
 *  showErrors. */
export function field(f) {
  const id = 'f-' + f.name.replace(/[^a-z0-9]/gi, '-');
  const hintId = f.hint ? id + '-hint' : null;
  const errId = id + '-err';
  let input;
  const common = { id, name: f.name, 'aria-describedby': [hintId, errId].filter(Boolean).join(' ') };
  if (f.type === 'select') {
    input = h('select', common, (f.options || []).map((o) =>
      h('option', { value: o.value, selected: o.value === f.value, disabled: o.disabled }, o.label)));
  } else if (f.type === 'textarea') {
    input = h('textarea', { ...common, rows: f.rows || 3 }, f.value || '');
  } else {
    input = h('input', {
      ...common, type: f.type || 'text', value: f.value ?? '', autocomplete: f.autocomplete || 'off',
      min: f.min, max: f.max, placeholder: f.placeholder, spellcheck: f.type === 'password' ? 'false' : null,
    });
  }
  if (f.required) input.setAttribute('aria-required', 'true');
  return h('div', { class: 'field', 'data-field': f.name },
    h('label', { for: id }, f.label),
    input,
    f.hint ? h('p', { class: 'hint', id: hintId }, f.hint) : null,
    h('p', { class: 'error', id: errId, 'aria-live': 'polite' }));
}

/** Clear a form's error messages. */
export function clearErrors(form) {
  for (const e of form.querySelectorAll('.error')) e.textContent = '';
  for (const e of form.querySelectorAll('[aria-invalid]')) e.removeAttribute('aria-invalid');
  const top = form.querySelector('.form-error');
  if (top) top.replaceChildren();
}

/** Show an ApiError on a form: next to the field it names (the part of
 *  details.field before any '.' or '[', matched to data-field), and
 *  always in the form's alert at the top. */
export function showErrors(form, err) {
  const top = form.querySelector('.form-error');
  const name = err.field ? String(err.field) : '';
  let slot = null;
  if (name) {
    const candidates = [name, name.split(/[.[]/)[0]];
    for (const c of candidates) {
      slot = form.querySelector(`[data-field="${CSS.escape(c)}"]`);
      if (slot) break;
    }
  }
  if (slot) {
    slot.querySelector('.error').textContent = err.message;
    const input = slot.querySelector('input, select, textarea');
    if (input) input.setAttribute('aria-invalid', 'true');
  }
  if (top) {
    top.replaceChildren(h('p', { role: 'alert' }, refusal(err)));
    if (!slot) top.focus();
  }
}

/** The words of a refusal: the API's message, with what kind it is. */
export function refusal(err) {
  const what = {
    policy_violation: 'Refused by policy', forbidden: 'Not allowed', validation_failed: 'Check the form',
    conflict: 'Not possible now', gone: 'Gone', not_found: 'Not found', upstream_error: 'The instance failed',
    unavailable: 'keywarden is unavailable', rate_limited: 'Too many attempts', unauthenticated: 'Signed out',
  }[err.code];
  return (what ? what + ': ' : '') + err.message;
}

/** A page-level error box for an ApiError. */
export function errorBox(err) {
  return h('div', { class: 'alert', role: 'alert' }, refusal(err));
}

/** A notice (polite live region). */
export function notice(text) {
  return h('div', { class: 'notice', role: 'status' }, text);
}

async function copyText(text, button) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // no clipboard API (plain http on another host): select it instead
    const ta = h('textarea', { class: 'offscreen', 'aria-hidden': 'true', tabindex: '-1' });
    ta.value = text;
    document.body.append(ta);
    ta.select();
    try { document.execCommand('copy'); } catch { /* the person copies by hand */ }
    ta.value = '';
    ta.remove();
  }
  button.textContent = 'Copied';
  setTimeout(() => { button.textContent = 'Copy'; }, 2000);
}

/**
 * Show a secret once: label, the value(s) in read-only code, a "Copy"
 * button per value and one "Dismiss" that removes the whole box (and the
 * only references to the values) from the page.  Nothing is stored.
 * items: [{label, value}], extra: more nodes (expiry, ...).
 */
export function secretBox(heading, items, extra) {
  const box = h('section', { class: 'secret', 'aria-label': heading, tabindex: '-1' });
  const rows = items.map((it) => {
    const code = h('code', { class: 'secret-value' }, it.value);
    const copy = h('button', { type: 'button', class: 'secondary' }, 'Copy');
    copy.addEventListener('click', () => copyText(code.textContent, copy));
    if (items.length > 1) copy.setAttribute('aria-label', 'Copy ' + it.label);
    return h('div', { class: 'secret-row' }, h('span', { class: 'secret-label' }, it.label), code, copy);
  });
  const dismiss = h('button', { type: 'button' }, 'Dismiss');
  dismiss.addEventListener('click', () => {
    for (const c of box.querySelectorAll('code')) c.textContent = '';
    const next = box.parentElement;
    box.remove();
    if (next) next.dispatchEvent(new CustomEvent('secret-dismissed', { bubbles: true }));
  });
  box.append(...[h('h2', null, heading),
    h('p', { class: 'warn' }, 'Shown once. Copy it now; keywarden cannot show it again.'),
    ...rows, extra, h('div', { class: 'actions' }, dismiss)].filter(Boolean));
  return box;
}

/** A "Next page" control for a list answer with next_cursor. */
export function pager(next, load) {
  if (!next) return null;
  return h('div', { class: 'actions' },
    h('button', { type: 'button', class: 'secondary', onclick: () => load(next) }, 'Next page'));
}

/** A table from column headings and rows of cells; caption for screen
 *  readers. */
export function table(caption, heads, rows) {
  if (!rows.length) return h('p', { class: 'muted' }, 'Nothing to show.');
  return h('div', { class: 'table-wrap' }, h('table', null,
    h('caption', null, caption),
    h('thead', null, h('tr', null, heads.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', null, rows.map((r) => h('tr', null, r.map((c) => h('td', null, c ?? '—')))))));
}

/** An in-app link (handled by the router, no reload). */
export function link(href, text) {
  return h('a', { href, 'data-link': '' }, text);
}
