// requests.js — requests: "Waiting for me" (approve / deny queue), "My
// requests", a request's page (facts, history timeline, the decision,
// fulfilment and withdraw forms where they apply) and "New request".

import { api, qs, ApiError } from './api.js';
import { session, go } from './app.js';
import {
  h, title, badge, when, facts, field, clearErrors, showErrors, errorBox,
  notice, pager, table, link,
} from './ui.js';

const PAGE = 25;
const SPARSE_FOLLOW_MAX = 8;	// more calls for one short page, at most

function requestRows(items) {
  return items.map((r) => [
    link('/requests/' + r.id, r.id), r.instance, r.kind === 'integration' ? 'Integration' : 'API token',
    badge(r.state), r.requester, when(r.created_at),
  ]);
}

/** A paged list of requests from the query q, drawn into a section. */
async function requestList(caption, q, empty) {
  const box = h('div');
  async function load(cursor) {
    // A sparse filter ("actionable" among many pending requests) may
    // answer a short page with a cursor: the server examines a bounded
    // number of requests per call.  Go on until the page is full.
    let page = await api('GET', '/v1/requests' + qs({ ...q, limit: PAGE, cursor }));
    const items = page.items;
    for (let n = 0; items.length < PAGE && page.next_cursor && n < SPARSE_FOLLOW_MAX; n++) {
      page = await api('GET', '/v1/requests' + qs({ ...q, limit: PAGE - items.length, cursor: page.next_cursor }));
      items.push(...page.items);
    }
    const rows = requestRows(items);
    box.replaceChildren(rows.length ? table(caption,
      ['Request', 'Instance', 'Kind', 'State', 'Requester', 'Filed'], rows) :
      h('p', { class: 'muted' }, empty), pager(page.next_cursor, (c) => load(c).catch(showErr)));
  }
  const showErr = (e) => box.replaceChildren(errorBox(e));
  await load(undefined);
  return box;
}

export async function waiting() {
  return h('div', null, title('Waiting for me'),
    h('p', { class: 'lead' }, 'Requests that wait for your decision as a manager or provisioner.'),
    await requestList('Requests waiting for you', { actionable: 'true' }, 'Nothing waits for you.'));
}

export async function myRequests() {
  const params = new URLSearchParams(location.search);
  const state = params.get('state') || '';
  const filter = h('form', { class: 'inline', role: 'search' },
    field({ label: 'State', name: 'state', type: 'select', value: state, options: [
      { value: '', label: 'Any' }, { value: 'pending_manager', label: 'Waiting for manager' },
      { value: 'pending_provisioner', label: 'Waiting for provisioner' },
      { value: 'awaiting_fulfilment', label: 'Awaiting fulfilment' }, { value: 'issued', label: 'Issued' },
      { value: 'denied', label: 'Denied' }, { value: 'withdrawn', label: 'Withdrawn' },
      { value: 'expired', label: 'Expired' }, { value: 'failed', label: 'Failed' }] }),
    h('button', { type: 'submit', class: 'secondary' }, 'Filter'));
  filter.addEventListener('submit', (ev) => {
    ev.preventDefault();
    go('/requests' + qs({ state: filter.elements.state.value }));
  });
  return h('div', null, title('My requests'),
    h('p', { class: 'actions' }, link('/new', 'File a new request')), filter,
    await requestList('Your requests', { requester: session.person.email, state },
      'You have filed no requests' + (state ? ' in this state.' : '.')));
}

function timeline(history) {
  if (!history || !history.length) return null;
  return h('section', { 'aria-labelledby': 'hist' }, h('h2', { id: 'hist' }, 'History'),
    h('ol', { class: 'timeline' }, history.map((e) => h('li', null,
      h('time', { datetime: e.at }, when(e.at)), ' ',
      h('strong', null, e.action.replace(/_/g, ' ')), ' by ', e.actor,
      e.comment ? h('blockquote', null, e.comment) : null))));
}

/** The decision form (Approve / Deny with a Comment), for the person the
 *  request waits for. */
function decisionForm(r, redraw) {
  const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'decide' },
    h('h2', { id: 'decide' }, 'Your decision'),
    h('div', { class: 'form-error', tabindex: '-1' }),
    field({ label: 'Comment', name: 'comment', type: 'textarea',
      hint: 'Required to deny; the requester sees it.' }),
    r.kind === 'integration' ? h('div', { class: 'field check', 'data-field': 'acknowledge_risk' },
      h('input', { type: 'checkbox', id: 'f-ack', name: 'acknowledge_risk' }),
      h('label', { for: 'f-ack' }, 'I acknowledge the risk'),
      h('p', { class: 'hint' }, 'An integration can act as the users who authorise it.'),
      h('p', { class: 'error', 'aria-live': 'polite' })) : null,
    h('div', { class: 'actions' },
      h('button', { type: 'submit', value: 'approve' }, 'Approve'),
      h('button', { type: 'submit', value: 'deny', class: 'danger' }, 'Deny')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const action = ev.submitter ? ev.submitter.value : 'approve';
    const body = { comment: form.elements.comment.value };
    if (action === 'approve' && form.elements.acknowledge_risk) {
      body.acknowledge_risk = form.elements.acknowledge_risk.checked;
    }
    try {
      const res = await api('POST', `/v1/requests/${r.id}/${action}`, body);
      redraw(action === 'approve' ? 'Approved. The request is now: ' + res.state.replace(/_/g, ' ') + '.' :
        'Denied. The requester is told, with your comment.');
    } catch (e) {
      if (e instanceof ApiError) showErrors(form, e); else throw e;
    }
  });
  return form;
}

function fulfilForm(r, redraw) {
  const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'fulfil' },
    h('h2', { id: 'fulfil' }, 'Fulfil on the instance'),
    r.fulfilment ? h('pre', { class: 'instructions' }, JSON.stringify(r.fulfilment, null, 2)) : null,
    h('div', { class: 'form-error', tabindex: '-1' }),
    field({ label: 'Secret', name: 'secret', type: 'password',
      hint: 'The token or client secret you created; it is sealed and handed to the requester once.' }),
    field({ label: 'External id', name: 'external_id', hint: 'Its id on the instance.' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Fulfil')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const body = { secret: form.elements.secret.value, external_id: form.elements.external_id.value };
    try {
      await api('POST', `/v1/requests/${r.id}/fulfil`, body);
      form.elements.secret.value = '';
      redraw('Fulfilled. The requester can now reveal the credential once.');
    } catch (e) {
      if (e instanceof ApiError) showErrors(form, e); else throw e;
    }
  });
  return form;
}

export async function requestPage(id) {
  const root = h('div');
  async function draw(msg) {
    const r = await api('GET', '/v1/requests/' + encodeURIComponent(id));
    const me = session.person.email;
    let provisioner = false;
    if ((r.state === 'pending_provisioner' || r.state === 'awaiting_fulfilment') && r.requester !== me) {
      try {
        const inst = await api('GET', '/v1/instances/' + encodeURIComponent(r.instance));
        provisioner = (inst.provisioners || []).includes(me);
      } catch { provisioner = false; }
    }
    const decide = (r.state === 'pending_manager' && r.manager === me) ||
      (r.state === 'pending_provisioner' && provisioner);
    const open = ['pending_manager', 'pending_provisioner', 'awaiting_fulfilment'].includes(r.state);
    const parts = [title('Request ' + r.id), msg ? notice(msg) : null,
      facts([
        ['State', badge(r.state)], ['Instance', r.instance],
        ['Kind', r.kind === 'integration' ? 'Integration' : 'API token'],
        ['Requester', r.requester], ['Manager', r.manager],
        ['Justification', r.justification], ['Use case', r.use_case],
        ['Scopes', (r.scopes || []).join(', ')], ['Lifetime', r.lifetime_days + ' days'],
        r.delivery ? ['Delivery', r.delivery] : null,
        r.integration ? ['Integration', r.integration.name + ' (' + r.integration.client_kind + ')'] : null,
        ['Link', r.link], ['Filed', when(r.created_at)],
        open ? ['Expires if undecided', when(r.expires_at)] : null,
        r.credential_id ? ['Credential', link('/credentials/' + r.credential_id, r.credential_id)] : null,
      ])];
    if (decide) parts.push(decisionForm(r, redraw));
    if (r.state === 'awaiting_fulfilment' && provisioner) parts.push(fulfilForm(r, redraw));
    if (open && r.requester === me && r.state !== 'awaiting_fulfilment') {
      const b = h('button', { type: 'button', class: 'secondary' }, 'Withdraw');
      const err = h('div');
      b.addEventListener('click', async () => {
        try {
          await api('POST', `/v1/requests/${r.id}/withdraw`, {});
          redraw('Withdrawn.');
        } catch (e) { err.replaceChildren(errorBox(e)); }
      });
      parts.push(h('div', { class: 'actions' }, b), err);
    }
    parts.push(timeline(r.history));
    root.replaceChildren(...parts.filter(Boolean));
  }
  function redraw(msg) {
    draw(msg).then(() => {
      const n = root.querySelector('.notice');
      if (n) n.setAttribute('tabindex', '-1'), n.focus();
    }).catch((e) => root.replaceChildren(errorBox(e)));
  }
  await draw(null);
  return root;
}

// Scopes offered when an instance does not restrict them.
const ZENDESK_SCOPES = ['read', 'write', 'tickets:read', 'tickets:write', 'users:read', 'users:write',
  'organizations:read', 'organizations:write', 'hc:read', 'hc:write'];

function policyPanel(inst) {
  return h('section', { class: 'card policy', 'aria-labelledby': 'policy-h', 'aria-live': 'polite' },
    h('h2', { id: 'policy-h' }, 'Policy of ' + (inst.display_name || inst.name)),
    facts([
      ['Issuance', inst.issuance === 'manual' ? 'Manual: a provisioner creates it on the instance' :
        'Automatic after both approvals'],
      ['Integrations', inst.allow_integrations ? 'Allowed' : 'Not allowed'],
      ['Longest lifetime', inst.max_lifetime_days + ' days'],
      ['Rotation', 'every ' + inst.rotation_days + ' days'],
      ['Allowed scopes', inst.allowed_scopes ? inst.allowed_scopes.join(', ') : 'Any'],
      inst.allowed_deliveries ? ['Delivery modes', inst.allowed_deliveries.join(', ')] : null,
      ['Provisioners', (inst.provisioners || []).join(', ')],
      ['Approvals', 'Your manager, then a provisioner of the instance'],
    ]));
}

const DELIVERY = {
  broker: 'Broker: keywarden keeps the secret and hands out short-lived access tokens',
  client_secret: 'Client secret: identifier and secret shown once, for automations',
  token: 'Token: one token shown once (Zendesk may expire it)',
};

export async function newRequest() {
  const list = await api('GET', '/v1/instances' + qs({ limit: 500 }));
  const instances = list.items || [];
  if (!instances.length) {
    return h('div', null, title('New request'), h('p', null, 'No instances are configured yet.'));
  }
  const pre = new URLSearchParams(location.search).get('instance');
  let inst = instances.find((i) => i.name === pre) || instances[0];
  const policy = h('div');
  const scopes = h('fieldset', { class: 'field scopes', 'data-field': 'scopes' });
  const delivery = h('div');
  const integ = h('div');
  const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'page-title' },
    h('div', { class: 'form-error', tabindex: '-1' }),
    field({ label: 'Instance', name: 'instance', type: 'select', value: inst.name,
      options: instances.map((i) => ({ value: i.name, label: (i.display_name || i.name) + ' (' + i.name + ')' })) }),
    field({ label: 'Kind', name: 'kind', type: 'select', value: 'api_token', options: [
      { value: 'api_token', label: 'API token' }, { value: 'integration', label: 'Integration (OAuth client)' }] }),
    field({ label: 'Justification', name: 'justification', type: 'textarea',
      hint: 'Why you need it; your manager and the provisioners read this.' }),
    field({ label: 'Use case', name: 'use_case', hint: 'What will use it, e.g. "nightly ticket export".' }),
    scopes,
    field({ label: 'Lifetime (days)', name: 'lifetime_days', type: 'number', value: '90', min: '1',
      hint: 'At most the instance allows.' }),
    delivery, integ,
    field({ label: 'Access request URL (optional)', name: 'access_request_url', type: 'url',
      hint: 'A ticket or page that names this need; otherwise keywarden links to the request.' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Submit request')));

  function drawInstance() {
    policy.replaceChildren(policyPanel(inst));
    const allowed = inst.allowed_scopes || ZENDESK_SCOPES;
    scopes.replaceChildren(h('legend', null, 'Scopes'),
      h('div', { class: 'checks' }, allowed.map((sc, i) => h('span', { class: 'check' },
        h('input', { type: 'checkbox', id: 'sc-' + i, name: 'scope', value: sc }),
        h('label', { for: 'sc-' + i }, sc)))),
      h('p', { class: 'hint' }, 'Ask for the fewest that do the job.'),
      h('p', { class: 'error', 'aria-live': 'polite' }));
    form.querySelector('#f-lifetime-days-hint').textContent =
      'At most ' + inst.max_lifetime_days + ' days on this instance.';
    drawDelivery();
  }
  function drawDelivery() {
    const kind = form.elements.kind.value;
    // delivery modes exist where the server has the broker (the instance
    // says which it allows)
    if (kind !== 'api_token' || !(inst.default_delivery || inst.allowed_deliveries)) {
      delivery.replaceChildren();
    } else {
      const modes = inst.allowed_deliveries || ['broker', 'client_secret', 'token'];
      delivery.replaceChildren(field({ label: 'Delivery', name: 'delivery', type: 'select',
        value: inst.default_delivery || modes[0],
        options: modes.map((m) => ({ value: m, label: DELIVERY[m] || m })) }));
    }
    integ.replaceChildren(...(kind === 'integration' ? [
      field({ label: 'Integration name', name: 'integration.name' }),
      field({ label: 'Redirect URIs', name: 'integration.redirect_uris', type: 'textarea',
        hint: 'One https URL per line.' }),
      field({ label: 'Client kind', name: 'integration.client_kind', type: 'select', value: 'confidential',
        options: [{ value: 'confidential', label: 'Confidential (has a secret)' },
          { value: 'public', label: 'Public (no secret)' }] }),
    ] : []));
  }
  form.elements.instance.addEventListener('change', () => {
    inst = instances.find((i) => i.name === form.elements.instance.value) || inst;
    drawInstance();
  });
  form.elements.kind.addEventListener('change', drawDelivery);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const el = form.elements;
    const body = {
      instance: el.instance.value,
      kind: el.kind.value,
      justification: el.justification.value,
      use_case: el.use_case.value,
      scopes: [...form.querySelectorAll('input[name="scope"]:checked')].map((c) => c.value),
      lifetime_days: el.lifetime_days.value === '' ? null : Number(el.lifetime_days.value),
      access_request_url: el.access_request_url.value || null,
    };
    if (el.delivery) body.delivery = el.delivery.value;
    if (body.kind === 'integration') {
      body.integration = {
        name: el['integration.name'].value,
        redirect_uris: el['integration.redirect_uris'].value.split(/\s+/).filter(Boolean),
        client_kind: el['integration.client_kind'].value,
      };
    }
    try {
      const r = await api('POST', '/v1/requests', body);
      go('/requests/' + r.id);
    } catch (e) {
      if (e instanceof ApiError) showErrors(form, e); else throw e;
    }
  });
  drawInstance();
  return h('div', null, title('New request'),
    h('p', { class: 'lead' }, 'Ask for a credential on an instance. Your manager approves, then a provisioner.'),
    h('div', { class: 'two' }, form, policy));
}
