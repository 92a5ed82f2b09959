// api.js — the one way the UI talks to keywarden: same-origin fetch of the
// JSON API with the session cookie, the CSRF token on every write, and the
// API's error object turned into an ApiError the pages show as it is.

let csrf = null;

/** Remember the session's CSRF token (from POST /v1/sessions or
 *  GET /v1/sessions/current); it lives in memory only. */
export function setCsrf(token) {
  csrf = token || null;
}

/** An answer other than 2xx: status, the API's code and message, and the
 *  field it names (details.field) when there is one. */
export class ApiError extends Error {
  constructor(status, code, message, field, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field || null;
    this.details = details || null;
  }
}

// Called when an answer says the session is gone (401), so the shell can
// show the sign-in page.
let onUnauthenticated = null;
export function whenSignedOut(fn) {
  onUnauthenticated = fn;
}

/** Call the API: method, path (with query), optional JSON body.  Resolves
 *  to the parsed answer (null when empty); rejects with ApiError. */
export async function api(method, path, body, { quiet401 = false } = {}) {
  const headers = { Accept: 'application/json' };
  const opt = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    opt.body = JSON.stringify(body);
  }
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  let res;
  try {
    res = await fetch(path, opt);
  } catch (e) {
    throw new ApiError(0, 'network', 'keywarden cannot be reached: ' + e.message);
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (res.ok) return data;
  const e = (data && data.error) || {};
  const err = new ApiError(res.status, e.code || 'http_' + res.status,
    e.message || 'keywarden answered ' + res.status,
    e.details && e.details.field, e.details);
  if (res.status === 401 && !quiet401 && onUnauthenticated) onUnauthenticated();
  throw err;
}

/** Build a query string from an object, leaving out empty values. */
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  }
  const s = u.toString();
  return s ? '?' + s : '';
}
