// app.js — the shell: who is signed in (GET /v1/sessions/current), the
// sign-in page, the navigation for the person's roles, and a small router
// over the paths keywarden's links use (/requests/{id}, /credentials/{id})
// and the UI's own (/waiting, /new, ...).  Pages are modules loaded on
// first use, so a page only costs what it draws.

import { api, setCsrf, whenSignedOut, ApiError } from './api.js';
import { h, title, field, clearErrors, showErrors, errorBox } from './ui.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');

/** The session: {person, expires_at}; null when signed out. */
export const session = { person: null, expires_at: null };

export function isAdmin() {
  return !!session.person && session.person.roles.includes('admin');
}
export function isReader() {
  return !!session.person && (session.person.roles.includes('admin') || session.person.roles.includes('auditor'));
}

// path pattern -> [module, export]; the first match wins
const ROUTES = [
  [/^\/$/, 'requests', 'waiting'],
  [/^\/waiting$/, 'requests', 'waiting'],
  [/^\/requests$/, 'requests', 'myRequests'],
  [/^\/requests\/([a-z0-9_]+)$/, 'requests', 'requestPage'],
  [/^\/new$/, 'requests', 'newRequest'],
  [/^\/credentials$/, 'credentials', 'myCredentials'],
  [/^\/credentials\/([a-z0-9_]+)$/, 'credentials', 'credentialPage'],
  [/^\/instances$/, 'instances', 'instances'],
  [/^\/instances\/([A-Za-z0-9_.-]+)$/, 'instances', 'instancePage'],
  [/^\/audit$/, 'admin', 'audit'],
  [/^\/people$/, 'admin', 'people'],
  [/^\/settings$/, 'admin', 'settings'],
];

const MODULES = {
  requests: () => import('./requests.js'),
  credentials: () => import('./credentials.js'),
  instances: () => import('./instances.js'),
  admin: () => import('./admin.js'),
};

function navLinks() {
  const p = session.person;
  const links = [
    ['/waiting', 'Waiting for me'],
    ['/requests', 'My requests'],
    ['/credentials', 'My credentials'],
    ['/new', 'New request'],
    ['/instances', 'Instances'],
  ];
  if (isReader()) links.push(['/audit', 'Audit']);
  if (p.roles.includes('admin')) links.push(['/people', 'People'], ['/settings', 'Settings']);
  nav.replaceChildren(h('ul', null, links.map(([href, text]) =>
    h('li', null, h('a', { href, 'data-link': '' }, text)))));
  const out = h('button', { type: 'button', class: 'link-button' }, 'Sign out');
  out.addEventListener('click', signOut);
  who.replaceChildren(h('span', { class: 'me' }, p.name || p.email), ' ', out);
  markCurrent();
}

function markCurrent() {
  const path = location.pathname;
  for (const a of nav.querySelectorAll('a')) {
    const here = a.getAttribute('href') === path ||
      (path === '/' && a.getAttribute('href') === '/waiting');
    if (here) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

/** Go to an in-app path (push history) and draw it. */
export function go(path) {
  history.pushState(null, '', path);
  route();
}

let drawing = 0;

/** Draw the page for the current location. */
export async function route() {
  const mine = ++drawing;
  if (!session.person) {
    signInPage();
    return;
  }
  markCurrent();
  const path = location.pathname;
  for (const [re, mod, fn] of ROUTES) {
    const m = re.exec(path);
    if (!m) continue;
    main.setAttribute('aria-busy', 'true');
    try {
      const page = (await MODULES[mod]())[fn];
      const view = await page(...m.slice(1).map(decodeURIComponent));
      if (mine !== drawing) return;
      main.replaceChildren(view);
    } catch (e) {
      if (mine !== drawing) return;
      if (e instanceof ApiError && e.status === 401) return;
      main.replaceChildren(title('Something went wrong'),
        e instanceof ApiError ? errorBox(e) : h('p', { role: 'alert' }, String(e)));
    } finally {
      main.removeAttribute('aria-busy');
    }
    focusTitle();
    return;
  }
  main.replaceChildren(title('Not found'), h('p', null, 'There is no page at ' + path + '.'));
  focusTitle();
}

function focusTitle() {
  const t = document.getElementById('page-title');
  if (t) t.focus({ preventScroll: false });
}

/** The path to come back to after signing in: the page the person was
 *  sent to (a link), or ?return_to= on /signin; same origin only. */
function returnPath() {
  if (location.pathname === '/signin') {
    const r = new URLSearchParams(location.search).get('return_to') || '/';
    return r.startsWith('/') && !r.startsWith('//') && !r.startsWith('/\\') ? r : '/';
  }
  return location.pathname + location.search;
}

async function signInPage() {
  nav.replaceChildren();
  who.replaceChildren();
  const back = returnPath();
  const form = h('form', { class: 'card signin', novalidate: true },
    h('div', { class: 'form-error', tabindex: '-1' }),
    field({ label: 'Personal token', name: 'token', type: 'password', autocomplete: 'off',
      hint: 'A keywarden personal token (kw_…). It opens a session and is not kept by this page.' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Sign in')));
  const sso = h('div', { class: 'sso' });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const input = form.elements.token;
    const token = input.value.trim();
    try {
      const s = await api('POST', '/v1/sessions', { token }, { quiet401: true });
      input.value = '';
      start(s);
      history.replaceState(null, '', back);
      route();
    } catch (e) {
      if (e instanceof ApiError) {
        e.field = 'token';
        showErrors(form, e);
      }
    }
  });
  main.replaceChildren(title('Sign in'), sso, form);
  focusTitle();
  try {
    const cfg = await fetch('/ui/config', { headers: { Accept: 'application/json' } }).then((r) => r.json());
    if (cfg.sso) {
      sso.replaceChildren(h('a', { class: 'button', href: '/auth/login?return_to=' + encodeURIComponent(back) },
        'Sign in with SSO'), h('p', { class: 'muted' }, 'or use a personal token:'));
    }
  } catch { /* without the config the token form still works */ }
}

function start(s) {
  session.person = s.person;
  session.expires_at = s.expires_at;
  setCsrf(s.csrf_token);
  navLinks();
}

async function signOut() {
  try {
    await api('DELETE', '/v1/sessions/current');
  } catch { /* signed out either way */ }
  session.person = null;
  setCsrf(null);
  history.pushState(null, '', '/');
  route();
}

whenSignedOut(() => {
  if (!session.person) return;
  session.person = null;
  setCsrf(null);
  route();
});

// in-app links: no reload
document.addEventListener('click', (ev) => {
  const a = ev.target.closest && ev.target.closest('a[data-link]');
  if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin) return;
  ev.preventDefault();
  go(url.pathname + url.search);
});
window.addEventListener('popstate', route);

async function boot() {
  try {
    start(await api('GET', '/v1/sessions/current', undefined, { quiet401: true }));
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 401) {
      main.replaceChildren(title('keywarden is unavailable'), errorBox(e));
      return;
    }
  }
  if (session.person && location.pathname === '/signin') history.replaceState(null, '', returnPath());
  route();
}

boot();
