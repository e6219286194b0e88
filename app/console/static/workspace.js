// Workspaces, bots and the chat screen (streamed answers, tool calls, attached files).
import * as api from './api.js';
import { field, flash, form, h, navigation, replace, table, view, when } from './dom.js';
import { go } from './main.js';
import * as manage from './manage.js';

const TABS = { bots, files: manage.files, keys: manage.keys, webhooks: manage.webhooks, members: manage.members };
const enc = encodeURIComponent;

export async function list() {
  const shown = navigation();
  const items = await api.all('/v1/workspaces');
  const name = field('Name', { type: 'text', required: true, maxlength: 100 });
  replace(view(shown), h('h2', {}, 'Workspaces'),
    items.length
      ? h('ul', { class: 'list', id: 'workspaces' }, items.map((w) =>
        h('li', {}, h('a', { href: `/#/w/${enc(w.id)}` }, w.name), ' ', h('span', { class: 'tag' }, w.role))))
      : h('p', { class: 'muted' }, 'No workspace yet.'),
    form({ id: 'workspace-form', class: 'card inline' }, [name.el, h('button', { type: 'submit' }, 'Create workspace')], async () => {
      const created = await api.post('/v1/workspaces', { name: name.input.value });
      await go(`#/w/${enc(created.id)}`);
    }));
}

export async function open(workspaceId, rest) {
  const shown = navigation();
  const ws = await api.get(`/v1/workspaces/${enc(workspaceId)}`);
  if (rest[0] === 'chat' && rest[1]) return chat(ws, rest[1], rest[2], shown);
  const tab = TABS[rest[0]] ? rest[0] : 'bots';
  const body = h('section', { id: `tab-${tab}` });
  replace(view(shown), h('h2', {}, ws.name, ' ', h('span', { class: 'tag' }, ws.role)),
    h('nav', { class: 'tabs' }, Object.keys(TABS).map((name) =>
      h('a', { href: `/#/w/${enc(ws.id)}/${name}`, class: name === tab ? 'active' : '' }, name))),
    body);
  await TABS[tab](ws, body);
}

async function bots(ws, body) {
  const [items, models, tools] = await Promise.all([
    api.all(`/v1/workspaces/${enc(ws.id)}/bots`), api.get('/v1/models'), api.get('/v1/tools'),
  ]);
  const name = field('Name', { type: 'text', required: true, maxlength: 100 });
  const prompt = field('System prompt', { tag: 'textarea', required: true, maxlength: 8000, rows: 3 });
  const model = field('Model', { tag: 'select', required: true });
  model.input.append(...models.items.map((m) => h('option', { value: m }, m)));
  const toolBoxes = tools.items.map((t) => h('input', { type: 'checkbox', value: t.name }));
  replace(body,
    items.length
      ? table(['Bot', 'Model', 'Tools', ''], items.map((b) => [
        h('span', { class: 'bot-name' }, b.name), b.model, b.tools.join(', ') || '—',
        h('a', { href: `/#/w/${enc(ws.id)}/chat/${enc(b.id)}`, class: 'button' }, 'Chat'),
      ]))
      : h('p', { class: 'muted' }, 'No bots yet.'),
    form({ id: 'bot-form', class: 'card' }, [
      h('h3', {}, 'New bot'), name.el, prompt.el, model.el,
      h('fieldset', {}, h('legend', {}, 'Tools (from the server\'s catalogue)'),
        tools.items.map((t, i) => h('label', { class: 'check' }, toolBoxes[i], t.name))),
      h('button', { type: 'submit' }, 'Create bot'),
    ], async () => {
      await api.post(`/v1/workspaces/${enc(ws.id)}/bots`, {
        name: name.input.value, system_prompt: prompt.input.value, model: model.input.value,
        tools: toolBoxes.filter((box) => box.checked).map((box) => box.value),
      });
      await go(`#/w/${enc(ws.id)}/bots`);
      flash('Bot created.');
    }));
}

async function chat(ws, botId, conversationId, shown) {
  const [bot, allFiles, conversations] = await Promise.all([
    api.get(`/v1/bots/${enc(botId)}`),
    api.all(`/v1/workspaces/${enc(ws.id)}/files`),
    api.all(`/v1/workspaces/${enc(ws.id)}/conversations`, 100),
  ]);
  const files = allFiles.filter((f) => f.status !== 'infected');
  const here = `/#/w/${enc(ws.id)}/chat/${enc(botId)}`;
  const earlier = h('nav', { class: 'conversations', 'aria-label': 'Conversations' },
    h('a', { href: here, class: conversationId ? '' : 'active' }, 'New conversation'),
    conversations.filter((c) => c.bot_id === botId).map((c) =>
      h('a', { href: `${here}/${enc(c.id)}`, class: c.id === conversationId ? 'active' : '' },
        `${c.title} · ${when(c.last_message_at || c.created_at)}`)));
  const log = h('ol', { class: 'chat', id: 'chat-log' });
  const state = { conversationId };
  if (conversationId) {
    const past = await api.all(`/v1/conversations/${enc(conversationId)}/messages`);
    // The API lists newest first; a transcript reads oldest first.
    for (const m of past.reverse()) log.append(bubble(m.role, m.content, m.status));
  }
  const text = field('Message', { tag: 'textarea', required: true, rows: 2, id: 'chat-input' });
  const attach = field('Attach clean files', { tag: 'select', multiple: true, id: 'chat-files' });
  attach.input.append(...files.map((f) =>
    h('option', { value: f.id, disabled: f.status === 'pending_scan' }, `${f.name} (${f.status})`)));
  replace(view(shown),
    h('p', {}, h('a', { href: `/#/w/${enc(ws.id)}/bots` }, `← ${ws.name}`)),
    h('h2', {}, 'Chat with ', h('span', { class: 'bot-name', id: 'chat-bot' }, bot.name), ' ',
      h('span', { class: 'tag' }, bot.model)),
    earlier,
    log,
    form({ id: 'chat-form', class: 'card' }, [text.el, files.length ? attach.el : null,
      h('button', { type: 'submit' }, 'Send')], async () => {
      if (!state.conversationId) {
        const c = await api.post(`/v1/bots/${enc(bot.id)}/conversations`, {});
        state.conversationId = c.id;
        history.replaceState(null, '', `/#/w/${enc(ws.id)}/chat/${enc(bot.id)}/${enc(c.id)}`);
      }
      const content = text.input.value;
      text.input.value = '';
      log.append(bubble('user', content));
      const answer = bubble('assistant', '', 'streaming');
      log.append(answer);
      const file_ids = [...attach.input.selectedOptions].map((o) => o.value);
      await api.stream(`/v1/conversations/${enc(state.conversationId)}/messages`, { content, file_ids },
        (event, data) => onEvent(answer, event, data));
    }));
}

function bubble(role, content, status = 'complete') {
  // Model output is untrusted: a Text node, never markup (see dom.js).
  return h('li', { class: `msg ${role}`, 'data-status': status },
    h('span', { class: 'role' }, role), h('div', { class: 'content' }, content),
    h('span', { class: 'status' }, status === 'complete' ? '' : status));
}

function onEvent(answer, event, data) {
  const content = answer.querySelector('.content');
  const status = answer.querySelector('.status');
  if (event === 'delta') content.append(document.createTextNode(data.text));
  else if (event === 'tool_call') {
    answer.insertBefore(h('details', { class: 'tool-call' },
      h('summary', {}, `tool ${data.tool}: ${data.outcome}`),
      h('pre', {}, JSON.stringify(data.arguments, null, 2)),
      data.detail ? h('p', {}, data.detail) : null), content);
  } else if (event === 'done') {
    answer.dataset.status = data.message.status;
    status.textContent = data.message.status === 'complete' ? '' : data.message.status;
    if (!content.textContent) content.textContent = data.message.content;
  } else if (event === 'error') {
    answer.dataset.status = 'failed';
    status.textContent = `failed: ${data.code}`;
  }
}
