// DOM building without any HTML parsing. Trusted Types are enforced with no policy allowed
// (CSP `trusted-types 'none'`), so innerHTML, outerHTML, insertAdjacentHTML and
// document.write throw: every string reaches the page as a Text node, inert by construction.

const EVENT_ATTRIBUTE = /^on/i;

/** Build an element: h('p', {class: 'x', on: {click: f}}, 'text', childNode, ...). */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'on') {
      for (const [event, handler] of Object.entries(value)) el.addEventListener(event, handler);
    } else if (key === 'class') {
      el.className = value;
    } else if (EVENT_ATTRIBUTE.test(key)) {
      throw new Error('inline event handlers are not allowed: use on: {...}');
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(parent, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Replace the children of `el` (replaceChildren never parses markup). */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

// Each navigation gets a number. A screen that awaits the API takes the number first
// (`const shown = navigation()`) and renders into `view(shown)`: when the reviewer has moved on
// meanwhile, its late render goes into a detached element instead of painting over the screen
// they are on now.
let navigations = 0;

/** Called by the router on every navigation. */
export function navigated() {
  navigations += 1;
}

/** The current navigation's number. */
export function navigation() {
  return navigations;
}

/** The view to render into: the page's, unless `shown` is an earlier navigation's number. */
export function view(shown = navigations) {
  return shown === navigations ? document.getElementById('view') : document.createElement('main');
}

export function flash(message, kind = 'info') {
  const el = document.getElementById('flash');
  el.textContent = message;
  el.className = `flash ${kind}`;
  el.hidden = !message;
}

/** A labelled input. */
export function field(label, attrs) {
  const input = h(attrs.tag || 'input', { ...attrs, tag: undefined });
  return { input, el: h('label', { class: 'field' }, h('span', {}, label), input) };
}

/** A form whose submit runs `handler(form)` and shows a thrown problem in the flash line. */
export function form(attrs, children, handler) {
  const el = h('form', attrs, ...children);
  el.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = el.querySelector('button[type=submit]');
    if (button) button.disabled = true;
    try {
      await handler(el);
    } catch (error) {
      flash(error.message || String(error), 'error');
    } finally {
      if (button) button.disabled = false;
    }
  });
  return el;
}

export function table(headers, rows) {
  return h(
    'table',
    {},
    h('thead', {}, h('tr', {}, headers.map((name) => h('th', {}, name)))),
    h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map((cell) => h('td', {}, cell))))),
  );
}

export function when(iso) {
  return iso ? new Date(iso).toLocaleString() : '—';
}
