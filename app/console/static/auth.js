// Accounts: sign in, sign up, e-mail verification, password reset, invitations, the profile.
import * as api from './api.js';
import { field, flash, form, h, navigation, replace, view } from './dom.js';
import * as factors from './factors.js';
import { go, refreshMe, session } from './main.js';

function credentials() {
  const email = field('E-mail', { type: 'email', name: 'email', required: true, autocomplete: 'username' });
  const password = field('Password', {
    type: 'password', name: 'password', required: true, autocomplete: 'current-password',
  });
  return { email, password };
}

function signInForm(after, restart = signIn) {
  const { email, password } = credentials();
  return form({ id: 'signin-form', class: 'card' }, [
    h('h2', {}, 'Sign in'), email.el, password.el,
    h('button', { type: 'submit' }, 'Sign in'),
  ], async () => {
    const answer = await api.post('/v1/auth/login', { email: email.input.value, password: password.input.value });
    const done = async () => { await refreshMe(); await after(); };
    // 202 for an account with a factor, whether or not the password was right: step 2 tells.
    if (answer && answer.status === 'second_factor_required') return factors.signInCode(done, restart);
    await done();
  });
}

export function signIn() {
  replace(view(), signInForm(() => go('#/')),
    h('p', {}, h('a', { href: '/#/signup' }, 'Create an account'), ' · ',
      h('a', { href: '/#/forgot' }, 'Forgot your password?')));
}

export function signUp() {
  const email = field('E-mail', { type: 'email', required: true, autocomplete: 'username' });
  const name = field('Display name (optional)', { type: 'text', maxlength: 100 });
  const password = field('Password (at least 8 characters)', {
    type: 'password', required: true, minlength: 8, autocomplete: 'new-password',
  });
  replace(view(), form({ id: 'signup-form', class: 'card' }, [
    h('h2', {}, 'Create an account'), email.el, name.el, password.el,
    h('button', { type: 'submit' }, 'Sign up'),
  ], async () => {
    const body = { email: email.input.value, password: password.input.value };
    if (name.input.value.trim()) body.display_name = name.input.value;
    const answer = await api.post('/v1/auth/signup', body);
    replace(view(), h('div', { class: 'card', id: 'signup-done' },
      h('h2', {}, 'Check your e-mail'), h('p', {}, answer.detail),
      h('p', {}, 'Open the link in the message to verify your address, then sign in.')));
  }));
}

export async function verifyEmail(token) {
  const shown = navigation();
  if (!token) return resendVerification();
  replace(view(shown), h('p', { class: 'muted' }, 'Verifying…'));
  try {
    await api.post('/v1/auth/verify-email', { token });
  } catch (error) {
    flash(error.message, 'error');
    return resendVerification();
  }
  replace(view(shown), h('div', { class: 'card', id: 'verified' }, h('h2', {}, 'Address verified'),
    h('p', {}, h('a', { href: '/#/signin' }, 'Sign in'))));
}

function resendVerification() {
  const email = field('E-mail', { type: 'email', required: true });
  replace(view(), form({ class: 'card' }, [
    h('h2', {}, 'Send a new verification link'), email.el,
    h('button', { type: 'submit' }, 'Send'),
  ], async () => {
    const answer = await api.post('/v1/auth/verify-email', { email: email.input.value });
    flash(answer.detail);
  }));
}

export function forgotPassword() {
  const email = field('E-mail', { type: 'email', required: true, autocomplete: 'username' });
  replace(view(), form({ id: 'forgot-form', class: 'card' }, [
    h('h2', {}, 'Reset your password'), email.el, h('button', { type: 'submit' }, 'Send link'),
  ], async () => {
    const answer = await api.post('/v1/auth/password-reset', { email: email.input.value });
    flash(answer.detail);
  }));
}

export function resetPassword(token) {
  if (!token) return forgotPassword();
  const password = field('New password', {
    type: 'password', required: true, minlength: 8, autocomplete: 'new-password',
  });
  replace(view(), form({ id: 'reset-form', class: 'card' }, [
    h('h2', {}, 'Choose a new password'), password.el, h('button', { type: 'submit' }, 'Save'),
  ], async () => {
    await api.post('/v1/auth/password-reset/confirm', { token, new_password: password.input.value });
    replace(view(), h('div', { class: 'card', id: 'reset-done' }, h('h2', {}, 'Password changed'),
      h('p', {}, 'Every session was signed out. ', h('a', { href: '/#/signin' }, 'Sign in'))));
  }));
}

export function acceptInvitation(token) {
  if (!token) {
    replace(view(), h('p', { class: 'error' }, 'This invitation link has no token.'));
    return;
  }
  const accept = async () => {
    const { id } = await api.post('/v1/invitations/accept', { token });
    replace(view(), h('div', { class: 'card', id: 'invitation-accepted' },
      h('h2', {}, 'Invitation accepted'),
      h('p', {}, h('a', { href: `/#/w/${encodeURIComponent(id)}` }, 'Open the workspace'))));
  };
  if (!session.me) {
    replace(view(), h('p', {}, 'Sign in with the invited address to accept the invitation.'),
      signInForm(accept, () => acceptInvitation(token)));
    return;
  }
  replace(view(), h('div', { class: 'card' }, h('h2', {}, 'Join a workspace'),
    h('p', {}, `Signed in as ${session.me.email}.`),
    h('button', { type: 'button', id: 'accept', on: { click: () => accept().catch((e) => flash(e.message, 'error')) } }, 'Accept the invitation')));
}

export function account() {
  const me = session.me;
  const name = field('Display name', { type: 'text', maxlength: 100, value: me.display_name || '' });
  const current = field('Current password', { type: 'password', required: true, autocomplete: 'current-password' });
  const next = field('New password', { type: 'password', required: true, minlength: 8, autocomplete: 'new-password' });
  replace(view(), h('h2', {}, 'Account'), h('p', {}, me.email, ' · ',
    h('a', { href: '/#/security', id: 'security-link' }, 'Second factor and recovery codes')),
    form({ id: 'profile-form', class: 'card' }, [name.el, h('button', { type: 'submit' }, 'Save')], async () => {
      await api.patch('/v1/me', { display_name: name.input.value });
      await refreshMe();
      flash('Saved.');
    }),
    form({ id: 'password-form', class: 'card' }, [h('h3', {}, 'Change password'), current.el, next.el,
      h('button', { type: 'submit' }, 'Change')], async () => {
      await api.post('/v1/auth/password-change', {
        current_password: current.input.value, new_password: next.input.value,
      });
      flash('Password changed.');
    }));
}
