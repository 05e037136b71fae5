// The console's shell: login with a token, the page tabs (hash routes), and one page mounted at a
// time (each returns its cleanup, which closes its live feed: no feed stays open behind a tab).
import { api, onUnauthorized, token } from './api.js';
import { errorBox, fill, h } from './dom.js';
import { devicesPage } from './devices.js';
import { messagesPage } from './messages.js';
import { commandsPage } from './commands.js';
import { mediaPage } from './media.js';
import { assetsPage } from './assets.js';
import { videoPage } from './video.js';

const PAGES = { devices: devicesPage, messages: messagesPage, commands: commandsPage, media: mediaPage, assets: assetsPage, video: videoPage };
const main = document.getElementById('main');
const nav = document.getElementById('nav');
const logout = document.getElementById('logout');
let cleanup = null;

function unmount() {
  if (cleanup) cleanup();
  cleanup = null;
}

function loginPage(reason) {
  unmount();
  nav.hidden = true;
  logout.hidden = true;
  const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'current-password', required: true, minlength: 16 });
  const status = h('div', { 'aria-live': 'polite' });
  const form = h('form', { onsubmit: async (ev) => {
    ev.preventDefault();
    const t = input.value.trim();
    fill(status, h('span', { class: 'notice' }, 'Checking…'));
    try {
      await api('/api/v1/instance', { tokenOverride: t });
      token.set(t);
      location.hash = location.hash && location.hash !== '#/login' ? location.hash : '#/devices';
      route();
    } catch (e) {
      fill(status, errorBox(e.status === 401 ? 'Login failed' : 'The server did not answer', e.status === 401 ? new Error('the token was refused (it is not one of http.tokens)') : e));
      input.select();
    }
  } },
  h('label', { for: 'token' }, 'API token (one of http.tokens: read or full scope)'), input,
  h('button', { class: 'primary', type: 'submit' }, 'Log in'), status);
  fill(main, h('section', { class: 'login', 'aria-labelledby': 'login-h' }, h('h2', { id: 'login-h' }, 'Log in'),
    reason ? h('p', { class: 'notice' }, reason) : null, form,
    h('p', { class: 'notice' }, 'The token is kept in this tab only (sessionStorage) and sent as a bearer header.')));
  input.focus();
}

async function route() {
  if (!token.get()) return loginPage();
  const name = (location.hash.replace(/^#\/?/, '').split('/')[0]) || 'devices';
  const page = PAGES[name] ?? PAGES.devices;
  unmount();
  nav.hidden = false;
  logout.hidden = false;
  for (const a of nav.querySelectorAll('a')) {
    if (a.getAttribute('href') === `#/${name}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  let channels = [];
  try {
    channels = (await api('/api/v1/channels')).items;
  } catch (e) {
    if (!token.get()) return;
    fill(main, errorBox('Channels could not be read', e), h('button', { type: 'button', onclick: route }, 'Retry'));
    return;
  }
  fill(main);
  cleanup = page(main, { channels }) ?? null;
}

onUnauthorized(() => {
  token.clear();
  loginPage('The server refused the token; log in again.');
});
logout.addEventListener('click', () => {
  token.clear();
  loginPage();
});
window.addEventListener('hashchange', () => token.get() && route());
route();
