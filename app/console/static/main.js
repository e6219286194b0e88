// The console's entry point: who is signed in, which screen the URL names, the top bar.
import * as api from './api.js';
import { flash, h, navigated, replace, view } from './dom.js';
import * as auth from './auth.js';
import * as factors from './factors.js';
import * as staff from './staff.js';
import * as workspace from './workspace.js';

export const session = { me: null };

// Refusals that enrolling a factor cures send the user to the security page, saying why.
const ENROL = {
  second_factor_enrolment_required: 'A second factor is required here (staff, or to set this policy): set up an authenticator app first.',
  workspace_requires_second_factor: 'This workspace requires its members to use a second factor: set up an authenticator app to open it.',
};
api.hooks.stepUp = factors.stepUp;
api.hooks.problem = (error) => {
  if (session.me && ENROL[error.code]) factors.sendToEnrolment(ENROL[error.code]);
};

export async function refreshMe() {
  try {
    session.me = await api.get('/v1/me');
  } catch (error) {
    if (error.status !== 401) throw error;
    session.me = null;
  }
  renderNav();
  return session.me;
}

function renderNav() {
  const me = session.me;
  const links = me
    ? [
        h('a', { href: '/#/' }, 'Workspaces'),
        me.is_staff ? h('a', { href: '/#/admin/users' }, 'Users') : null,
        me.is_staff ? h('a', { href: '/#/admin/audit' }, 'Audit log') : null,
        h('a', { href: '/#/security', id: 'security-nav' }, 'Security'),
        h('a', { href: '/#/account', id: 'whoami' }, me.display_name || me.email),
        h('button', { type: 'button', id: 'signout', on: { click: signOut } }, 'Sign out'),
      ]
    : [h('a', { href: '/#/signin' }, 'Sign in'), h('a', { href: '/#/signup' }, 'Sign up')];
  replace(document.getElementById('nav'), links);
}

async function signOut() {
  await api.post('/v1/auth/logout');
  session.me = null;
  renderNav();
  location.hash = '#/signin';
  flash('Signed out.');
}

// Screens reached by the links the platform mails: the token is in the fragment (never sent to
// a server, never in a Referer); it is read once and scrubbed from the address bar and history.
const MAILED = {
  '/verify-email': auth.verifyEmail,
  '/reset-password': auth.resetPassword,
  '/invitations': auth.acceptInvitation,
};

const mailedTokens = {};

const PUBLIC = { signin: auth.signIn, signup: auth.signUp, forgot: auth.forgotPassword };

async function route() {
  flash('');
  const mailed = MAILED[location.pathname];
  if (mailed) {
    const token = new URLSearchParams(location.hash.slice(1)).get('token');
    if (token) {
      mailedTokens[location.pathname] = token;
      history.replaceState(null, '', location.pathname);
    }
    return mailed(mailedTokens[location.pathname]);
  }
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  const [first = '', ...rest] = parts;
  if (PUBLIC[first]) return PUBLIC[first]();
  if (!session.me) return auth.signIn();
  if (first === 'account') return auth.account();
  if (first === 'security') return factors.security();
  if (first === 'admin' && rest[0] === 'users') return staff.users();
  if (first === 'admin' && rest[0] === 'audit') return staff.audit();
  if (first === 'w' && rest[0]) return workspace.open(rest[0], rest.slice(1));
  return workspace.list();
}

export async function go(hash) {
  if (location.pathname !== '/') {
    location.assign('/' + hash);
    return;
  }
  if (location.hash === hash) await show();
  else location.hash = hash;
}

async function show() {
  navigated();
  try {
    await route();
  } catch (error) {
    if (error.status === 401 && error.code !== 'step_up_required') {
      session.me = null;
      renderNav();
      return auth.signIn();
    }
    replace(view(), h('p', { class: 'error' }, error.message || String(error)));
  }
}

window.addEventListener('hashchange', show);
refreshMe().then(show, (error) => flash(error.message, 'error'));
