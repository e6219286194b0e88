// Workspace administration: files (scan status), API keys (shown once), webhook endpoints
// (deliveries, redeliver), members and invitations.
import * as api from './api.js';
import { field, flash, form, h, replace, table, when } from './dom.js';
import { go } from './main.js';

const enc = encodeURIComponent;
const SCOPES = ['workspace:read', 'bots:read', 'bots:write', 'conversations:read',
  'conversations:write', 'files:read', 'files:write', 'webhooks:manage'];
const EVENTS = ['conversation.created', 'message.created', 'file.scanned', 'member.added'];
const ROLES = ['owner', 'admin', 'member', 'viewer'];

function button(label, onClick, attrs = {}) {
  return h('button', { type: 'button', ...attrs, on: { click: async () => {
    try { await onClick(); } catch (error) { flash(error.message, 'error'); }
  } } }, label);
}

/** A secret the API shows once: displayed in a box, never stored anywhere by the page. */
function secretOnce(title, secret) {
  return h('div', { class: 'card secret', id: 'secret-once' }, h('h3', {}, title),
    h('p', {}, 'Shown once: copy it now. It cannot be shown again.'),
    h('code', { class: 'secret-value' }, secret));
}

export async function files(ws, body) {
  const items = await api.all(`/v1/workspaces/${enc(ws.id)}/files`);
  const input = h('input', { type: 'file', name: 'file', required: true, id: 'file-input' });
  replace(body,
    items.length
      ? table(['File', 'Type', 'Size', 'Scan', 'Uploaded', ''], items.map((f) => [
        h('span', { class: 'file-name' }, f.name), f.content_type, `${f.size_bytes} B`,
        h('span', { class: `tag scan-${f.status}` }, f.scan_engine === 'disabled' ? `${f.status} (scanner off)` : f.status),
        when(f.created_at),
        h('span', {},
          f.status === 'clean' ? h('a', { href: `/v1/files/${enc(f.id)}/content`, download: '' }, 'Download') : null,
          ' ', button('Delete', async () => { await api.del(`/v1/files/${enc(f.id)}`); await go(`#/w/${enc(ws.id)}/files`); })),
      ]))
      : h('p', { class: 'muted' }, 'No files yet.'),
    form({ id: 'upload-form', class: 'card inline' }, [input, h('button', { type: 'submit' }, 'Upload')], async () => {
      const uploaded = await api.upload(`/v1/workspaces/${enc(ws.id)}/files`, input.files[0]);
      await go(`#/w/${enc(ws.id)}/files`);
      flash(`Uploaded; scan status: ${uploaded.status}.`);
    }));
}

export async function keys(ws, body) {
  const items = await api.all(`/v1/workspaces/${enc(ws.id)}/api-keys`);
  const name = field('Name', { type: 'text', required: true, maxlength: 100 });
  const boxes = SCOPES.map((scope) => h('input', { type: 'checkbox', value: scope }));
  const shown = h('div');
  replace(body, shown,
    table(['Key', 'Prefix', 'Scopes', 'Expires', 'Last used', ''], items.map((k) => [
      k.name, h('code', {}, k.prefix), k.scopes.join(', '), when(k.expires_at), when(k.last_used_at),
      k.revoked_at ? 'revoked' : button('Revoke', async () => {
        await api.del(`/v1/workspaces/${enc(ws.id)}/api-keys/${enc(k.id)}`);
        await go(`#/w/${enc(ws.id)}/keys`);
      }),
    ])),
    form({ id: 'key-form', class: 'card' }, [h('h3', {}, 'New API key'), name.el,
      h('fieldset', {}, h('legend', {}, 'Scopes'), SCOPES.map((s, i) => h('label', { class: 'check' }, boxes[i], s))),
      h('button', { type: 'submit' }, 'Create key')], async () => {
      const created = await api.post(`/v1/workspaces/${enc(ws.id)}/api-keys`, {
        name: name.input.value, scopes: boxes.filter((b) => b.checked).map((b) => b.value),
      });
      await keys(ws, body); // re-render the list, then show the secret above it, once
      replace(body.firstChild, secretOnce(`API key ${created.name}`, created.key));
    }));
}

export async function webhooks(ws, body) {
  const items = await api.all(`/v1/workspaces/${enc(ws.id)}/webhook-endpoints`);
  const url = field('URL (https)', { type: 'url', required: true, id: 'webhook-url' });
  const boxes = EVENTS.map((e) => h('input', { type: 'checkbox', value: e }));
  const shown = h('div');
  const deliveries = h('div', { id: 'deliveries' });
  replace(body, shown,
    table(['Endpoint', 'Events', 'State', ''], items.map((e) => [
      h('code', {}, e.url), e.event_types.join(', '), e.enabled ? 'enabled' : `disabled (${e.disabled_reason || ''})`,
      h('span', {},
        button('Send test', async () => { await api.post(`/v1/webhook-endpoints/${enc(e.id)}/test`); await showDeliveries(e, deliveries); }),
        ' ', button('Deliveries', () => showDeliveries(e, deliveries)),
        ' ', button('Delete', async () => { await api.del(`/v1/webhook-endpoints/${enc(e.id)}`); await go(`#/w/${enc(ws.id)}/webhooks`); })),
    ])),
    deliveries,
    form({ id: 'webhook-form', class: 'card' }, [h('h3', {}, 'New endpoint'), url.el,
      h('fieldset', {}, h('legend', {}, 'Events'), EVENTS.map((e, i) => h('label', { class: 'check' }, boxes[i], e))),
      h('button', { type: 'submit' }, 'Add endpoint')], async () => {
      const created = await api.post(`/v1/workspaces/${enc(ws.id)}/webhook-endpoints`, {
        url: url.input.value, event_types: boxes.filter((b) => b.checked).map((b) => b.value),
      });
      await webhooks(ws, body);
      replace(body.firstChild, secretOnce('Signing secret', created.secret));
    }));
}

async function showDeliveries(endpoint, into) {
  const items = await api.all(`/v1/webhook-endpoints/${enc(endpoint.id)}/deliveries`, 50);
  replace(into, h('h3', {}, 'Deliveries to ', h('code', {}, endpoint.url)),
    table(['Event', 'Status', 'Attempts', 'Last code', 'Created', ''], items.map((d) => [
      d.event_type, h('span', { class: 'delivery-status' }, d.status), String(d.attempts),
      d.last_status_code === null ? '—' : String(d.last_status_code), when(d.created_at),
      button('Redeliver', async () => {
        await api.post(`/v1/webhook-endpoints/${enc(endpoint.id)}/deliveries/${enc(d.id)}/redeliver`);
        flash('Queued again.');
        await showDeliveries(endpoint, into);
      }, { class: 'redeliver' }),
    ])));
}

export async function members(ws, body) {
  const items = await api.all(`/v1/workspaces/${enc(ws.id)}/members`);
  const email = field('E-mail', { type: 'email', required: true, id: 'invite-email' });
  const role = field('Role', { tag: 'select' });
  role.input.append(...ROLES.filter((r) => r !== 'owner').map((r) => h('option', { value: r, selected: r === 'member' }, r)));
  replace(body,
    table(['Member', 'E-mail', 'Role', 'Joined', ''], items.map((m) => {
      const select = h('select', { 'aria-label': 'role' }, ROLES.map((r) => h('option', { value: r, selected: r === m.role }, r)));
      return [h('span', { class: 'member-name' }, m.display_name || '—'), m.email, select, when(m.joined_at),
        h('span', {},
          button('Change role', async () => {
            await api.patch(`/v1/workspaces/${enc(ws.id)}/members/${enc(m.user_id)}`, { role: select.value });
            flash('Role changed.');
          }),
          ' ', button('Remove', async () => {
            await api.del(`/v1/workspaces/${enc(ws.id)}/members/${enc(m.user_id)}`);
            await go(`#/w/${enc(ws.id)}/members`);
          }))];
    })),
    form({ id: 'invite-form', class: 'card inline' }, [email.el, role.el, h('button', { type: 'submit' }, 'Invite')], async () => {
      await api.post(`/v1/workspaces/${enc(ws.id)}/invitations`, { email: email.input.value, role: role.input.value });
      flash(`Invitation sent to ${email.input.value}.`);
    }),
    ws.role === 'owner' ? factorPolicy(ws) : null);
}

/** The owner's switch: members without a second factor lose the workspace until they enrol.
 * The API asks for a fresh factor (the step-up prompt) and a factor of the owner's own. */
function factorPolicy(ws) {
  const box = h('input', { type: 'checkbox', id: 'require-second-factor', checked: ws.require_second_factor });
  return form({ id: 'policy-form', class: 'card' }, [
    h('h3', {}, 'Second-factor policy'),
    h('label', { class: 'check' }, box, 'Members must use a second factor to open this workspace'),
    h('p', { class: 'muted' }, 'Members without one are refused until they set up an authenticator app.'),
    h('button', { type: 'submit' }, 'Save policy'),
  ], async () => {
    const updated = await api.patch(`/v1/workspaces/${enc(ws.id)}`, { require_second_factor: box.checked });
    ws.require_second_factor = updated.require_second_factor;
    flash(updated.require_second_factor ? 'Members now need a second factor.' : 'Members no longer need a second factor.');
  });
}
