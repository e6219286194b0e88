// Platform staff: users (suspension) and the audit log. The API enforces staff-only; these
// screens are merely hidden from others.
import * as api from './api.js';
import { field, flash, form, h, navigation, replace, table, view, when } from './dom.js';

const enc = encodeURIComponent;

export async function users(prefix = '') {
  const shown = navigation();
  const query = prefix ? `?email_prefix=${enc(prefix)}` : '';
  const items = (await api.get(`/v1/admin/users${query}`)).items;
  const search = field('E-mail starts with', { type: 'search', value: prefix });
  replace(view(shown), h('h2', {}, 'Users'),
    form({ class: 'card inline', id: 'user-search' }, [search.el, h('button', { type: 'submit' }, 'Search')],
      () => users(search.input.value.trim())),
    table(['E-mail', 'Name', 'Verified', 'Staff', 'Created', 'Suspended'], items.map((u) => [
      u.email, h('span', { class: 'user-name' }, u.display_name || '—'), u.email_verified ? 'yes' : 'no',
      u.is_staff ? 'yes' : 'no', when(u.created_at),
      u.suspended_at ? when(u.suspended_at) : h('button', { type: 'button', class: 'suspend', 'data-email': u.email, on: { click: async () => {
        try {
          await api.post(`/v1/admin/users/${enc(u.id)}/suspend`);
          flash(`${u.email} suspended: every session and key ended.`);
          await users(prefix);
        } catch (error) { flash(error.message, 'error'); }
      } } }, 'Suspend'),
    ])));
}

export async function audit() {
  const shown = navigation();
  const items = (await api.get('/v1/admin/audit-events?limit=100')).items;
  replace(view(shown), h('h2', { id: 'audit-log' }, 'Audit log'),
    table(['When', 'Action', 'Outcome', 'Actor', 'Target', 'IP', 'Request'], items.map((e) => [
      when(e.occurred_at), h('code', {}, e.action), e.outcome, e.actor_user_id || e.actor_api_key_id || '—',
      e.target_type ? `${e.target_type} ${e.target_id || ''}` : '—', e.client_ip || '—', e.request_id || '—',
    ])));
}
