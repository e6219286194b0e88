// Calls to the API on this origin. The session lives in the HttpOnly __Host-lp_session cookie,
// which the browser attaches by itself (credentials: 'same-origin'); this code never sees it.
// CSRF: every write is JSON (or the multipart upload) and the browser adds Origin on every
// non-GET fetch, which app/identity/csrf.py checks against the allowed origins.

export class Problem extends Error {
  constructor(status, body) {
    const title = (body && (body.detail || body.title)) || `HTTP ${status}`;
    super(title);
    this.status = status;
    this.code = body && body.code;
    this.body = body;
  }
}

async function parse(response) {
  if (response.status === 204) return null;
  const type = response.headers.get('content-type') || '';
  const body = type.includes('json') ? await response.json() : await response.text();
  if (!response.ok) throw new Problem(response.status, typeof body === 'object' ? body : null);
  return body;
}

/**
 * Set by main.js. `stepUp()` prompts for a factor and resolves true once the session is
 * stepped up; `problem(error)` sees every other refusal first (the second-factor policies send
 * the user to enrolment).
 */
export const hooks = { stepUp: null, problem: null };

export async function call(method, path, body, retried = false) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  try {
    return await parse(await fetch(path, init));
  } catch (error) {
    if (!(error instanceof Problem)) throw error;
    // 401 step_up_required: the session's factor is too old for this action. Ask for a code,
    // step up, and send the same call once more (once: a second refusal is shown as is).
    if (error.code === 'step_up_required' && !retried && hooks.stepUp && await hooks.stepUp()) {
      return call(method, path, body, true);
    }
    if (hooks.problem) hooks.problem(error);
    throw error;
  }
}

export const get = (path) => call('GET', path);
export const post = (path, body = {}) => call('POST', path, body);
export const patch = (path, body) => call('PATCH', path, body);
export const del = (path) => call('DELETE', path);

/** multipart/form-data, part `file` (the one route the CSRF check lets skip JSON). */
export async function upload(path, file) {
  const data = new FormData();
  data.append('file', file, file.name);
  return parse(await fetch(path, { method: 'POST', credentials: 'same-origin', body: data }));
}

/** Every item of a cursor-paginated list (capped: a console, not an export). */
export async function all(path, max = 500) {
  const items = [];
  let cursor = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page = await get(cursor ? `${path}${sep}cursor=${encodeURIComponent(cursor)}` : path);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && items.length < max);
  return items;
}

/**
 * POST a chat message and read the answer as Server-Sent Events (EventSource cannot POST).
 * `on(event, data)` is called for delta, tool_call, done and error events.
 */
export async function stream(path, body, on) {
  const response = await fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: {
      'Content-Type': 'application/json',
      Accept: 'text/event-stream',
      'Idempotency-Key': crypto.randomUUID(),
    },
    body: JSON.stringify(body),
  });
  if (!response.ok) return parse(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      dispatch(buffer.slice(0, end), on);
      buffer = buffer.slice(end + 2);
    }
  }
  return null;
}

function dispatch(frame, on) {
  let event = 'message';
  const data = [];
  for (const line of frame.split('\n')) {
    if (line.startsWith(':')) continue; // keep-alive comment
    if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
  }
  if (data.length) on(event, JSON.parse(data.join('\n')));
}
