// Second factors (docs/mfa.md): the code prompt of the two-step sign-in, the security page
// (enrol an authenticator app, recovery codes shown once, regenerate, disable) and the step-up
// prompt any API call answered 401 step_up_required opens. The TOTP secret and the recovery
// codes live only in this screen's DOM and closures: nothing is stored, and leaving the screen
// (replace(view(), ...)) drops them.
import * as api from './api.js';
import { field, flash, form, h, navigation, replace, view } from './dom.js';
import { go } from './main.js';

// Why the security page was opened on the user's behalf (a refusal), shown once on it.
let notice = '';

/** Fields for a proof: a 6-digit app code, or (after a click) a recovery code instead. */
function proofFields(prefix) {
  const code = field('Code from your authenticator app', {
    type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6}',
    maxlength: 6, required: true, id: `${prefix}-code`,
  });
  const recovery = field('Recovery code', {
    type: 'text', autocomplete: 'off', maxlength: 20, id: `${prefix}-recovery`,
  });
  recovery.el.hidden = true;
  const toggle = h('button', { type: 'button', class: 'link', id: `${prefix}-use-recovery`, on: { click: () => {
    const useRecovery = recovery.el.hidden;
    recovery.el.hidden = !useRecovery;
    code.el.hidden = useRecovery;
    recovery.input.required = useRecovery;
    code.input.required = !useRecovery;
    toggle.textContent = useRecovery ? 'Use the authenticator app' : 'Use a recovery code instead';
    (useRecovery ? recovery : code).input.focus();
  } } }, 'Use a recovery code instead');
  const proof = () => (recovery.el.hidden
    ? { code: code.input.value.trim() }
    : { recovery_code: recovery.input.value.trim() });
  const clear = () => { code.input.value = ''; recovery.input.value = ''; };
  return { els: [code.el, recovery.el, toggle], proof, clear, focus: () => code.input.focus() };
}

/** Sign-in step 2, after 202 second_factor_required: the half-session cookie is HttpOnly. */
export function signInCode(after, restart) {
  const fields = proofFields('signin');
  replace(view(), form({ id: 'second-factor-form', class: 'card' }, [
    h('h2', {}, 'Second factor'),
    h('p', {}, 'Enter the code your authenticator app shows, or one of your recovery codes.'),
    ...fields.els,
    h('p', {}, h('button', { type: 'submit' }, 'Verify')),
  ], async () => {
    try {
      await api.post('/v1/auth/login/second-factor', fields.proof());
    } catch (error) {
      fields.clear();
      if (error.code === 'login_challenge_invalid') {
        restart();
        flash('That sign-in attempt is over: sign in again.', 'error');
        return;
      }
      throw error;
    }
    await after();
  }), h('p', {}, h('button', { type: 'button', class: 'link', id: 'signin-restart', on: { click: () => restart() } }, 'Start again')));
  fields.focus();
}

let pendingStepUp = null;

/**
 * The step-up prompt (a modal <dialog>): resolves true once POST /v1/auth/step-up succeeded,
 * false when cancelled. Calls made at the same time share one prompt.
 */
export function stepUp() {
  if (!pendingStepUp) {
    pendingStepUp = new Promise((resolve) => {
      const fields = proofFields('step-up');
      const error = h('p', { class: 'error', role: 'alert' });
      const dialog = h('dialog', { id: 'step-up', 'aria-labelledby': 'step-up-title' });
      const close = (ok) => { fields.clear(); dialog.close(); dialog.remove(); pendingStepUp = null; resolve(ok); };
      const prompt = form({ id: 'step-up-form' }, [
        h('h2', { id: 'step-up-title' }, 'Confirm it is you'),
        h('p', {}, 'This action needs your second factor again.'),
        ...fields.els, error,
        h('p', {}, h('button', { type: 'submit' }, 'Confirm'), ' ',
          h('button', { type: 'button', class: 'secondary', id: 'step-up-cancel', on: { click: () => close(false) } }, 'Cancel')),
      ], async () => {
        try {
          await api.post('/v1/auth/step-up', fields.proof());
        } catch (problem) {
          fields.clear();
          error.textContent = problem.message;
          return;
        }
        close(true);
      });
      dialog.addEventListener('cancel', (event) => { event.preventDefault(); close(false); });
      dialog.append(prompt);
      document.body.append(dialog);
      dialog.showModal();
      fields.focus();
    });
  }
  return pendingStepUp;
}

/** Send the user to the security page, saying why (a refusal that enrolling cures). */
export function sendToEnrolment(message) {
  notice = message;
  return go('#/security');
}

/** Recovery codes: shown once, in the page only; gone when the screen is left. */
function codesOnce(codes) {
  return h('div', { class: 'card secret', id: 'recovery-codes' },
    h('h3', {}, 'Recovery codes'),
    h('p', {}, 'Shown once: store them offline. Each one signs you in once if you lose the app. ',
      'They cannot be shown again; new ones replace them all.'),
    h('ol', { class: 'codes secret-value' }, codes.map((c) => h('li', {}, h('code', {}, c)))),
    h('p', {}, h('a', { href: '/#/', class: 'button', id: 'codes-saved' }, 'I have saved them')));
}

function copyButton(label, text) {
  return h('button', { type: 'button', class: 'secondary', on: { click: async () => {
    try {
      await navigator.clipboard.writeText(text);
      flash('Copied.');
    } catch {
      flash('Copying is not allowed here: select the text and copy it.', 'error');
    }
  } } }, label);
}

/** The security page: factor status, enrolment, recovery codes, removal. */
export async function security() {
  const shown = navigation();
  const status = await api.get('/v1/auth/mfa');
  const why = notice;
  notice = '';
  const body = h('section', { id: 'security' });
  replace(view(shown), h('h2', {}, 'Security'),
    why ? h('p', { class: 'card notice', id: 'enrol-notice' }, why) : null, body);
  if (!status.totp) return renderEnrol(body);
  replace(body,
    h('div', { class: 'card', id: 'factor-status' },
      h('h3', {}, 'Authenticator app: on'),
      h('p', {}, `Recovery codes left: ${status.recovery_codes_left}.`),
      h('p', {},
        h('button', { type: 'button', id: 'regenerate-codes', on: { click: () => guarded(async () => {
          const { recovery_codes: codes } = await api.post('/v1/auth/mfa/recovery-codes');
          replace(body, codesOnce(codes));
          flash('New recovery codes: the old ones no longer work.');
        }) } }, 'New recovery codes'), ' ',
        disableButton())));
}

function guarded(action) {
  return action().catch((error) => flash(error.message, 'error'));
}

function disableButton() {
  // Two clicks, no window.confirm (the console opens no JavaScript dialogs).
  const sure = h('button', { type: 'button', class: 'danger', id: 'disable-totp-confirm', hidden: true, on: { click: () => guarded(async () => {
    await api.del('/v1/auth/mfa/totp');
    flash('Authenticator app removed: sign-in is one step again.');
    await security();
  }) } }, 'Yes, remove it and the recovery codes');
  const first = h('button', { type: 'button', class: 'secondary', id: 'disable-totp', on: { click: () => {
    first.hidden = true;
    sure.hidden = false;
  } } }, 'Remove the authenticator app');
  return h('span', {}, first, sure);
}

function renderEnrol(body) {
  replace(body, h('div', { class: 'card', id: 'enrol-start' },
    h('h3', {}, 'Authenticator app: off'),
    h('p', {}, 'Add a second factor: a 6-digit code from an app such as Aegis, 1Password or Google Authenticator.'),
    h('button', { type: 'button', id: 'enrol-totp', on: { click: () => guarded(async () => {
      const pending = await api.post('/v1/auth/mfa/totp');
      renderPending(body, pending);
    }) } }, 'Set up an authenticator app')));
}

function renderPending(body, pending) {
  const code = field('Code from the app', {
    type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6}',
    maxlength: 6, required: true, id: 'confirm-code',
  });
  replace(body, h('div', { class: 'card secret', id: 'enrol-pending' },
    h('h3', {}, 'Add this account to your app'),
    h('p', {}, 'Open the link on a phone that has the app, or type the key in by hand.'),
    h('p', {}, 'Key (base32):'),
    h('code', { class: 'secret-value', id: 'totp-secret' }, pending.secret),
    h('p', {}, copyButton('Copy the key', pending.secret)),
    h('p', {}, 'Or the otpauth link:'),
    h('code', { class: 'secret-value', id: 'totp-uri' }, pending.otpauth_uri),
    h('p', {}, copyButton('Copy the link', pending.otpauth_uri))),
  form({ id: 'confirm-form', class: 'card inline' }, [code.el, h('button', { type: 'submit' }, 'Turn it on')], async () => {
    const { recovery_codes: codes } = await api.post('/v1/auth/mfa/totp/confirm', { code: code.input.value.trim() });
    replace(body, h('p', { class: 'card', id: 'totp-on' }, 'Authenticator app on: sign-in now asks for a code.'), codesOnce(codes));
  }));
  code.input.focus();
}
