// End-to-end suite of the BanGUI dashboard: real private fail2ban, real `bangui` binary, a
// generated demo MMDB and headless Debian Chromium driven by playwright-core. It owns process
// start-up and clean-up for one run; it never mocks the backend.
//
// Flow: setup wizard -> login -> dashboard lists the bans this run caused by appending attack
// lines to watched logs -> the map draws every country with bans (small ones as dots, the rest
// listed) -> ban and unban through the Jails page change what `fail2ban-client` reports -> the
// confirm dialog keeps the keyboard inside it -> the header search opens an IP page that shows the
// ban with its matched log lines, and unbanning there turns it lifted -> History filtered by jail
// keeps the filter in the URL, pages and exports the same rows -> every page, on a desktop and a phone viewport, in
// light and dark, passes axe-core (WCAG 2 A/AA), is no wider than a 390 px screen and has a title
// of its own -> with fail2ban stopped the footer and status bar say so (no false zeros), and with
// BanGUI stopped exactly one banner says so. No console error on the whole visit. A screenshot of
// every page goes to target/e2e-screenshots/ (repo-root relative).
//
// Usage (from the repo root, after `cargo build --bin bangui --example demo_mmdb` and
// `npm --prefix frontend run build`):  node frontend/e2e/run.mjs
// Environment: BANGUI_E2E_BIN (default target/debug/bangui, e.g. a release build),
// BANGUI_E2E_CHROMIUM (default /usr/bin/chromium), BANGUI_E2E_KEEP=1 keeps the temporary directory.
import { execFile, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

const run = promisify(execFile);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = process.env.BANGUI_E2E_BIN ?? join(ROOT, 'target/debug/bangui');
const DEMO_MMDB = join(ROOT, 'target/debug/examples/demo_mmdb');
const DIST = join(ROOT, 'frontend/dist');
const SHOTS = join(ROOT, 'target/e2e-screenshots');
const CHROMIUM = process.env.BANGUI_E2E_CHROMIUM ?? '/usr/bin/chromium';
const OVERALL_TIMEOUT_MS = 480_000;
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const DESKTOP = { width: 1440, height: 900 };
const PHONE = { width: 390, height: 844 };

const ADMIN = { username: 'admin', password: 'e2e-Secret-2026' };
// Attack sources, one per demo-MMDB country, so the map must colour each of them.
// Bahrain and Singapore have no shape in the 110m atlas: the map must draw them as dots.
const SSHD_ATTACKERS = [
  { ip: '5.6.7.8', country: 'DE' },
  { ip: '14.2.3.4', country: 'CN' },
  { ip: '58.9.10.11', country: 'JP' },
  { ip: '37.1.2.3', country: 'BH' },
  { ip: '42.1.2.3', country: 'SG' },
];
const APP_ATTACKERS = [{ ip: '177.20.30.40', country: 'BR' }];
const MANUAL_IP = '45.67.89.10'; // US; banned and unbanned through the UI

const cleanups = [];
let step = 'start';
const t0 = Date.now();

function log(msg) {
  console.log(`[e2e ${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);
}

function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes; returns that value. */
async function until(what, fn, timeoutMs, everyMs = 500) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last.message})` : ''}`);
    await sleep(everyMs);
  }
}

function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n) => String(n).padStart(2, '0');

/** `Nov 20 23:06:04` in local time, as syslog writes it (fail2ban ignores old lines). */
function syslogStamp(d = new Date()) {
  return `${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
}
/** `2026-11-20 23:06:04` in local time. */
function isoStamp(d = new Date()) {
  return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
}

async function bannedIn(sock, jail) {
  const { stdout } = await run('fail2ban-client', ['-s', sock, 'get', jail, 'banip']);
  return stdout.split(/[\s,]+/).filter(Boolean);
}

function preflight() {
  const missing = [];
  if (!existsSync(BIN)) missing.push(`${BIN} (run: cargo build --bin bangui --example demo_mmdb)`);
  if (!existsSync(DEMO_MMDB)) missing.push(`${DEMO_MMDB} (run: cargo build --bin bangui --example demo_mmdb)`);
  if (!existsSync(join(DIST, 'index.html'))) missing.push(`${DIST}/index.html (run: npm --prefix frontend run build)`);
  if (!existsSync(CHROMIUM)) missing.push(`${CHROMIUM} (apt-get install chromium)`);
  if (missing.length) throw new Error(`missing prerequisites:\n  ${missing.join('\n  ')}`);
}

async function startFail2ban(dir) {
  const { stdout } = await run(join(ROOT, 'scripts/private-fail2ban'), [dir], { timeout: 30_000 });
  cleanups.push(async () => {
    await run(join(ROOT, 'scripts/private-fail2ban'), ['--stop', dir], { timeout: 20_000 }).catch((e) => log(`fail2ban stop: ${e.message}`));
  });
  const sock = stdout.trim().split('\n').pop();
  assert(sock && existsSync(sock), `private-fail2ban printed a socket path (${stdout})`);
  return sock;
}

async function startBangui(dir, sock, geoDir) {
  const port = await freePort();
  const logPath = join(dir, 'bangui.log');
  const env = {
    ...process.env,
    BANGUI_HOST: '127.0.0.1',
    BANGUI_PORT: String(port),
    BANGUI_DATABASE_PATH: join(dir, 'bangui.db'),
    BANGUI_FAIL2BAN_SOCKET: sock,
    BANGUI_FAIL2BAN_CONFIG_DIR: join(dir, 'etc'),
    BANGUI_GEOIP_DB_PATH: join(geoDir, 'demo-country.mmdb'),
    BANGUI_GEOIP_ASN_DB_PATH: join(geoDir, 'demo-asn.mmdb'),
    BANGUI_GEOIP_ALLOW_HTTP_FALLBACK: 'false',
    BANGUI_STATIC_DIR: DIST,
    BANGUI_SESSION_COOKIE_SECURE: 'false',
    BANGUI_LOG_LEVEL: process.env.BANGUI_LOG_LEVEL ?? 'info',
  };
  const child = spawn(BIN, [], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = [];
  const keep = (chunk) => {
    appendFileSync(logPath, chunk);
    out.push(chunk.toString());
    if (out.length > 400) out.shift();
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = null;
  child.on('exit', (code, signal) => { exited = { code, signal }; });
  cleanups.push(async () => {
    if (exited) return;
    child.kill('SIGTERM');
    const gone = await Promise.race([new Promise((r) => child.once('exit', () => r(true))), sleep(8000).then(() => false)]);
    if (!gone) child.kill('SIGKILL');
  });
  const base = `http://127.0.0.1:${port}`;
  await until('GET /api/v1/health/live', async () => {
    if (exited) throw new Error(`bangui exited early (${JSON.stringify(exited)}):\n${out.join('').slice(-3000)}`);
    const r = await fetch(`${base}/api/v1/health/live`);
    return r.ok;
  }, 30_000, 200);
  const stop = async () => {
    if (exited) return;
    child.kill('SIGTERM');
    await Promise.race([new Promise((r) => child.once('exit', r)), sleep(8000)]);
  };
  return { base, stop, logTail: () => out.join('').slice(-4000) };
}

/** Runs axe-core in the page; fails with the rule, impact and first nodes of every WCAG 2 A/AA violation. */
async function axeCheck(page, what) {
  // Injected through the DevTools protocol (page.evaluate), which the app's Content-Security-Policy
  // (script-src 'self') does not govern; an inline <script> tag would be refused, as it should be.
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] }, resultTypes: ['violations'] });
    return r.violations.map((v) => `${v.id} (${v.impact}): ${v.help} -> ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
  });
  assert(violations.length === 0, `axe-core finds no WCAG 2 A/AA violation on ${what}:\n  ${violations.join('\n  ')}`);
}

/** The page is no wider than its viewport (nothing to scroll sideways). */
async function widthCheck(page, what) {
  const { sw, iw, culprit } = await page.evaluate(() => {
    const iw = window.innerWidth;
    let culprit = '';
    for (const el of document.querySelectorAll('body *')) {
      const r = el.getBoundingClientRect();
      if (r.right > iw + 1 && r.width > 0) {
        // Content inside a horizontal scroller may be wider: that is what the scroller is for.
        let p = el.parentElement;
        let scrolled = false;
        while (p) {
          if (getComputedStyle(p).overflowX !== 'visible' && p.scrollWidth > p.clientWidth) { scrolled = true; break; }
          p = p.parentElement;
        }
        if (!scrolled) { culprit = `${el.tagName.toLowerCase()}.${el.className} (${Math.round(r.right)} px)`; break; }
      }
    }
    return { sw: document.documentElement.scrollWidth, iw, culprit };
  });
  assert(sw <= iw, `${what} is no wider than the ${iw} px viewport (page is ${sw} px; first overflowing element: ${culprit})`);
}

/** Waits until a page has its data (no loading placeholder left). */
async function settled(page) {
  await page.waitForFunction(() => !document.querySelector('.loading, [aria-busy="true"]'), null, { timeout: 15_000 }).catch(() => {});
}

/** Every page of a signed-in admin: path, heading and the title it must have. */
const PAGES = [
  { path: '/', heading: 'Dashboard', title: 'Dashboard · BanGUI' },
  { path: '/map', heading: 'Map', title: 'Map · BanGUI' },
  { path: '/map?country=BH', heading: 'Map', title: 'Map · BanGUI', shot: 'map-country' },
  { path: '/history?jail=sshd', heading: 'History', title: 'History · BanGUI', shot: 'history' },
  { path: `/ip/${SSHD_ATTACKERS[2].ip}`, heading: `IP ${SSHD_ATTACKERS[2].ip}`, title: `IP ${SSHD_ATTACKERS[2].ip} · BanGUI`, shot: 'ip' },
  { path: '/jails', heading: 'Jails', title: 'Jails · BanGUI' },
  { path: '/jails/sshd', heading: 'Jail sshd', title: 'Jail sshd · BanGUI' },
  { path: '/users', heading: 'Users and API tokens', title: 'Users and API tokens · BanGUI' },
  { path: '/audit', heading: 'Audit log', title: 'Audit log · BanGUI' },
  { path: '/no-such-page', heading: 'Page not found', title: 'Page not found · BanGUI' },
];

async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  log(`screenshot ${name}.png`);
}

/** Waits for a toast whose text matches `re` (every UI action ends in one). */
async function expectToast(page, re) {
  await page.getByTestId('toast').filter({ hasText: re }).first().waitFor({ timeout: 15_000 });
}

async function main() {
  preflight();
  rmSync(SHOTS, { recursive: true, force: true });
  mkdirSync(SHOTS, { recursive: true });
  // Short path: the fail2ban socket path must stay under the Unix limit.
  const dir = mkdtempSync(join(tmpdir().length < 20 ? tmpdir() : '/tmp', 'bangui-e2e-'));
  cleanups.push(async () => {
    if (process.env.BANGUI_E2E_KEEP === '1') log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  });

  step = 'start fail2ban';
  const sock = await startFail2ban(dir);
  log(`fail2ban answers on ${sock}`);

  step = 'generate MMDB';
  const geoDir = join(dir, 'geo');
  mkdirSync(geoDir, { recursive: true });
  await run(DEMO_MMDB, [geoDir], { timeout: 30_000 });

  step = 'cause bans through log lines';
  for (const { ip } of SSHD_ATTACKERS) {
    for (let i = 0; i < 4; i++) {
      appendFileSync(join(dir, 'log/auth.log'),
        `${syslogStamp()} e2ehost sshd[${1000 + i}]: Failed password for invalid user admin from ${ip} port ${4242 + i} ssh2\n`);
    }
  }
  for (const { ip } of APP_ATTACKERS) {
    for (let i = 0; i < 3; i++) appendFileSync(join(dir, 'log/app.log'), `${isoStamp()} LOGIN FAILED user=bob ip=${ip}\n`);
  }
  await until('fail2ban to ban the attackers', async () => {
    const sshd = await bannedIn(sock, 'sshd');
    const app = await bannedIn(sock, 'bangui-app');
    return SSHD_ATTACKERS.every((a) => sshd.includes(a.ip)) && APP_ATTACKERS.every((a) => app.includes(a.ip));
  }, 30_000);
  log('fail2ban banned every attacker');

  step = 'start bangui';
  const app = await startBangui(dir, sock, geoDir);
  log(`bangui serves ${app.base}`);
  const setupProbe = await fetch(`${app.base}/api/v1/setup`);
  assert(setupProbe.ok, `GET /api/v1/setup answers 200 (got ${setupProbe.status}); this binary lacks the setup/auth API of the REST contract`);
  const index = await fetch(`${app.base}/jails/sshd`);
  assert(index.ok && /<div id="root">/.test(await index.text()), 'client routes fall back to index.html');

  step = 'launch chromium';
  const profile = mkdtempSync(join('/tmp', 'bangui-e2e-chrome-'));
  cleanups.push(async () => rmSync(profile, { recursive: true, force: true }));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--disable-quic', '--no-first-run'],
    viewport: DESKTOP,
    timeout: 30_000,
  });
  cleanups.push(async () => ctx.close().catch(() => {}));
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  page.setDefaultTimeout(15_000);
  const consoleErrors = [];
  // Until the deliberate outages at the end, a normal visit logs no console error at all (a
  // failed request is logged by Chromium as "Failed to load resource", so it counts too).
  let outage = false;
  page.on('console', (m) => { if (m.type() === 'error' && !outage) consoleErrors.push(`${m.text()} (${m.location().url})`); });
  page.on('pageerror', (e) => consoleErrors.push(e.message));

  try {
    step = 'setup wizard';
    await page.goto(`${app.base}/`);
    await page.waitForURL('**/setup');
    await page.getByRole('heading', { name: 'Welcome to BanGUI' }).waitFor();
    await page.getByLabel('Username').fill(ADMIN.username);
    await page.getByLabel('Password', { exact: true }).fill(ADMIN.password);
    await page.getByLabel('Repeat password').fill(ADMIN.password);
    assert((await page.title()) === 'Set up · BanGUI', `the setup page has its own title (got ${await page.title()})`);
    await axeCheck(page, 'the setup page');
    await shot(page, '01-setup');
    await page.getByRole('button', { name: 'Create admin account' }).click();

    step = 'login';
    await page.waitForURL('**/login');
    await page.getByRole('heading', { name: 'Sign in to BanGUI' }).waitFor();
    await page.getByLabel('Username').fill(ADMIN.username);
    await page.getByLabel('Password').fill(ADMIN.password);
    assert((await page.title()) === 'Sign in · BanGUI', `the login page has its own title (got ${await page.title()})`);
    await axeCheck(page, 'the login page');
    await page.setViewportSize(PHONE);
    await widthCheck(page, 'the login page on a phone');
    await axeCheck(page, 'the login page on a phone');
    await page.setViewportSize(DESKTOP);
    await shot(page, '02-login');
    await page.getByRole('button', { name: 'Sign in' }).click();

    step = 'dashboard lists the bans';
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    const wanted = [...SSHD_ATTACKERS, ...APP_ATTACKERS];
    await until('every banned IP in the dashboard ban table', async () => {
      const ips = await page.locator('[data-testid="ban-table"] tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-ip')));
      if (wanted.every((w) => ips.includes(w.ip))) return true;
      await page.reload();
      await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
      await page.locator('[data-testid="ban-table"], .empty').first().waitFor({ timeout: 10_000 }).catch(() => {});
      return false;
    }, 45_000, 1500);
    const deRow = page.locator(`[data-testid="ban-table"] tr[data-ip="${SSHD_ATTACKERS[0].ip}"]`);
    const deText = await deRow.innerText();
    assert(/Germany/.test(deText), `the row of ${SSHD_ATTACKERS[0].ip} names Germany (${deText})`);
    assert(/sshd/.test(deText), `the row of ${SSHD_ATTACKERS[0].ip} names the jail sshd (${deText})`);
    await page.getByTestId('currently-banned').waitFor();
    await page.getByTestId('top-countries').waitFor();
    await page.getByTestId('trend-chart').waitFor();
    await shot(page, '03-dashboard');

    step = 'map draws every country with bans';
    await page.getByRole('link', { name: 'Map' }).click();
    await page.getByTestId('world-map').waitFor();
    await until('banned countries coloured on the map', async () => {
      const counts = await page.locator('[data-testid="world-map"] [data-country]').evaluateAll((ps) =>
        Object.fromEntries(ps.map((p) => [p.getAttribute('data-country'), Number(p.getAttribute('data-count'))])));
      return wanted.every((w) => counts[w.country] > 0);
    }, 20_000);
    for (const w of wanted) {
      const level = await page.locator(`[data-testid="world-map"] [data-country="${w.country}"]`).first().getAttribute('data-level');
      assert(level !== '0', `${w.country} has a colour level (got ${level})`);
    }
    // Every country the API reports bans for is drawn (a shape or a dot) or listed as undrawable.
    const byCountry = await page.evaluate(async () => (await fetch('/api/v1/dashboard/bans/by-country?range=24h')).json());
    const banned = Object.entries(byCountry.countries).filter(([, n]) => n > 0).map(([cc]) => cc);
    assert(banned.includes('BH') && banned.includes('SG'), `the API reports bans from Bahrain and Singapore (${banned.join(' ')})`);
    const missing = await page.evaluate((codes) => codes.filter((cc) =>
      !document.querySelector(`[data-testid="world-map"] [data-country="${cc}"]:not([data-count="0"])`)
      && !document.querySelector(`[data-testid="map-undrawn"] [data-country="${cc}"]`)), banned);
    assert(missing.length === 0, `every country with bans is drawn on the map or listed beside it (missing: ${missing.join(' ')})`);
    for (const cc of ['BH', 'SG']) {
      const tag = await page.locator(`[data-testid="world-map"] [data-country="${cc}"]`).evaluate((el) => el.tagName);
      assert(tag === 'circle', `${cc}, which the atlas lacks, is drawn as a dot (got ${tag})`);
    }
    const uncoloured = await page.locator('path[data-country="AU"]').first().getAttribute('data-count');
    assert(uncoloured === '0', `a country without bans (AU) stays uncoloured (got ${uncoloured})`);
    // The map is one tab stop, not one per country.
    const stops = await page.locator('[data-testid="world-map"] [tabindex="0"]').count();
    assert(stops === 1, `the map is a single tab stop (got ${stops})`);
    // A focused country's tooltip appears at that country, not elsewhere.
    const stop = page.locator('[data-testid="world-map"] [tabindex="0"]');
    await stop.focus();
    const tipBox = await page.locator('.map-tip').boundingBox();
    const stopBox = await stop.boundingBox();
    const dist = Math.hypot(tipBox.x - (stopBox.x + stopBox.width / 2), tipBox.y - (stopBox.y + stopBox.height / 2));
    assert(dist < 60, `the tooltip of the focused country sits next to it (${Math.round(dist)} px away)`);
    await stop.blur();
    await page.locator('circle[data-country="BH"]').click();
    await page.locator('[data-testid="ban-table"] tr[data-ip="37.1.2.3"]').waitFor();
    await page.locator('path[data-country="DE"]').first().click();
    await page.locator(`[data-testid="ban-table"] tr[data-ip="${SSHD_ATTACKERS[0].ip}"]`).waitFor();
    assert((await page.locator(`[data-testid="ban-table"] tr[data-ip="${SSHD_ATTACKERS[1].ip}"]`).count()) === 0,
      'clicking Germany filters out the Chinese address');
    const chip = await page.getByTestId('country-filter').innerText();
    assert(chip.includes(byCountry.country_names.DE ?? 'Germany'), `the country chip uses the same name as the list (${chip})`);
    await shot(page, '04-map');

    step = 'ban through the Jails page';
    await page.getByRole('link', { name: 'Jails' }).click();
    await page.getByTestId('jails-table').waitFor();
    const banForm = page.getByRole('form', { name: 'Ban an address', exact: true });
    await banForm.getByLabel('IP address').fill(MANUAL_IP);
    await banForm.getByLabel('Jail').selectOption('sshd');
    await banForm.getByRole('button', { name: 'Ban' }).click();
    await expectToast(page, new RegExp(`${MANUAL_IP.replaceAll('.', '\\.')} (was already )?banned in sshd`));
    await until(`fail2ban-client to report ${MANUAL_IP} banned in sshd`, async () => (await bannedIn(sock, 'sshd')).includes(MANUAL_IP), 10_000);
    log(`${MANUAL_IP} banned in sshd via the UI`);

    step = 'IP lookup';
    await page.locator('input[name="lookup-ip"]').fill(MANUAL_IP);
    await page.getByRole('button', { name: 'Look up' }).click();
    const lookup = await page.getByTestId('lookup-result').innerText();
    assert(/United States/.test(lookup) && /sshd/.test(lookup), `lookup shows the country and the jail (${lookup})`);
    await shot(page, '05-jails');

    step = 'unban through the Jails page';
    const unbanForm = page.getByRole('form', { name: 'Unban an address', exact: true });
    await unbanForm.getByLabel('IP address').fill(MANUAL_IP);
    await unbanForm.getByLabel('Jail').selectOption('sshd');
    await unbanForm.getByRole('button', { name: 'Unban' }).click();
    await expectToast(page, new RegExp(`${MANUAL_IP.replaceAll('.', '\\.')} unbanned`));
    await until(`fail2ban-client to no longer report ${MANUAL_IP}`, async () => !(await bannedIn(sock, 'sshd')).includes(MANUAL_IP), 10_000);
    log(`${MANUAL_IP} unbanned via the UI`);

    step = 'jail detail';
    await page.getByRole('link', { name: 'sshd', exact: true }).click();
    await page.getByRole('heading', { name: 'Jail sshd' }).waitFor();
    await page.locator(`tr[data-ip="${SSHD_ATTACKERS[0].ip}"]`).waitFor();
    await shot(page, '06-jail-detail');

    step = 'users and tokens';
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('heading', { name: 'Users and API tokens' }).waitFor();
    await page.getByRole('rowheader', { name: /admin/ }).first().waitFor();
    await shot(page, '07-users');

    step = 'audit log';
    await page.getByRole('link', { name: 'Audit' }).click();
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    await page.locator('[data-testid="audit-table"], .empty').first().waitFor();
    await shot(page, '08-audit');

    step = 'the confirm dialog keeps the keyboard inside it';
    await page.getByRole('link', { name: 'Jails' }).click();
    await page.getByTestId('jails-table').waitFor();
    await page.getByRole('button', { name: 'Unban all…' }).click();
    const dialog = page.getByRole('alertdialog');
    await dialog.waitFor();
    for (let i = 0; i < 5; i++) {
      await page.keyboard.press('Tab');
      assert(await dialog.evaluate((d) => d.contains(document.activeElement)), `focus stays in the dialog after ${i + 1} Tab presses`);
    }
    await page.keyboard.press('Shift+Tab');
    assert(await dialog.evaluate((d) => d.contains(document.activeElement)), 'focus stays in the dialog after Shift+Tab');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert((await bannedIn(sock, 'sshd')).includes(SSHD_ATTACKERS[0].ip), 'Escape cancelled: nothing was unbanned');

    step = 'header search opens the IP page with the ban and its matched lines';
    const SEARCHED = SSHD_ATTACKERS[2].ip;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Dashboard' }).click();
    const searchBox = page.getByRole('searchbox', { name: 'Search IP, network or jail' });
    await searchBox.fill('10.0.0.0/4');
    await searchBox.press('Enter');
    await page.getByText(/too wide to search/).waitFor();
    assert((await searchBox.getAttribute('aria-invalid')) === 'true', 'a refused search marks the box invalid');
    await searchBox.fill(SEARCHED);
    await searchBox.press('Enter');
    await page.waitForURL(`**/ip/${SEARCHED}`);
    await page.getByRole('heading', { name: `IP ${SEARCHED}` }).waitFor();
    const activeRow = page.locator('[data-testid="ip-timeline"] tr[data-jail="sshd"][data-state="active"]');
    await activeRow.waitFor();
    assert((await page.getByTestId('banned-in').innerText()).includes('sshd'), 'the IP page says the address is banned in sshd now');
    assert(/Japan/.test(await page.getByTestId('ip-summary').innerText()), 'the IP page names its country');
    await page.getByTestId('ip-chart').waitFor();
    await activeRow.locator('summary').click();
    const matched = await activeRow.getByTestId('matched-lines').innerText();
    assert(matched.includes('Failed password') && matched.includes(SEARCHED), `the ban shows the log lines that caused it (${matched})`);
    await settled(page);
    // Back to the top: the sticky header must not cover a link while axe measures targets.
    await page.evaluate(() => window.scrollTo(0, 0));
    await axeCheck(page, 'the IP page with its matched lines open');
    await shot(page, '08b-ip-page');

    step = 'unban on the IP page turns the ban lifted';
    await page.getByRole('button', { name: 'Unban from sshd' }).click();
    await expectToast(page, new RegExp(`${SEARCHED.replaceAll('.', '\\.')} unbanned from sshd`));
    await until(`fail2ban-client to no longer report ${SEARCHED}`, async () => !(await bannedIn(sock, 'sshd')).includes(SEARCHED), 10_000);
    await page.locator('[data-testid="ip-timeline"] tr[data-jail="sshd"][data-state="lifted"]').waitFor();
    await until('the IP page to say it is banned nowhere', async () => (await page.getByTestId('banned-in').innerText()) === 'no jail', 10_000);
    log(`${SEARCHED} unbanned on its IP page; its ban reads lifted`);

    step = 'History filtered by jail, in the URL, paged';
    // Enough sshd bans for more than one page (50 rows): one bulk ban through fail2ban-client.
    const bulk = Array.from({ length: 60 }, (_, i) => `198.51.100.${i + 1}`);
    await run('fail2ban-client', ['-s', sock, 'set', 'sshd', 'banip', ...bulk], { timeout: 30_000 });
    await until('the archive to hold the bulk bans', async () => {
      const r = await page.evaluate(async () => (await fetch('/api/v1/history?jail=sshd&page_size=1')).json());
      return r.total >= 60;
    }, 60_000, 1000);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'History' }).click();
    await page.getByRole('heading', { name: 'History', exact: true }).waitFor();
    const filterForm = page.getByRole('form', { name: 'History filters' });
    await filterForm.getByLabel('Jail').fill('sshd');
    await filterForm.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/\/history\?jail=sshd$/);
    const historyRows = page.locator('[data-testid="history-table"] tbody tr');
    await until('50 sshd rows on the first page', async () => (await historyRows.count()) === 50, 15_000);
    const jailsOf = () => historyRows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-jail')));
    assert((await jailsOf()).every((j) => j === 'sshd'), 'every row of the jail filter is an sshd ban');
    const firstPage = await historyRows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-ip')));
    const csvHref = await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href');
    assert(/[?&]jail=sshd(&|$)/.test(csvHref) && /format=csv/.test(csvHref), `the CSV export carries the filter (${csvHref})`);
    const csv = await page.evaluate(async (href) => (await fetch(href)).text(), csvHref);
    const csvLines = csv.trim().split('\n');
    assert(csvLines.length - 1 === (await page.evaluate(async () => (await fetch('/api/v1/history?jail=sshd')).json())).total,
      `the CSV export has one line per matching ban (${csvLines.length - 1} lines)`);
    await settled(page);
    await page.evaluate(() => window.scrollTo(0, 0));
    await axeCheck(page, 'the History page filtered by jail');
    const pager = page.getByRole('navigation', { name: 'History pages' });
    await pager.getByRole('button', { name: 'Next' }).click();
    await page.waitForURL(/\/history\?jail=sshd&page=2$/);
    await until('the second page', async () => {
      const ips = await historyRows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-ip')));
      return ips.length > 0 && !ips.some((ip) => firstPage.includes(ip));
    }, 15_000);
    assert((await jailsOf()).every((j) => j === 'sshd'), 'the second page holds sshd bans only');
    assert((await pager.getByRole('button', { name: 'Page 2' }).getAttribute('aria-current')) === 'page', 'page 2 is marked current');
    await page.getByLabel('Page', { exact: true }).fill('1');
    await page.getByRole('button', { name: 'Go' }).click();
    await page.waitForURL(/\/history\?jail=sshd$/);
    await shot(page, '08c-history');
    log('History filtered by jail: URL carries the filter, 2 pages, export matches');

    step = 'every page, desktop and phone, light and dark';
    const titles = new Map();
    for (const [vp, scheme] of [[DESKTOP, 'light'], [DESKTOP, 'dark'], [PHONE, 'light'], [PHONE, 'dark']]) {
      await page.setViewportSize(vp);
      await page.emulateMedia({ colorScheme: scheme });
      const variant = `${vp === PHONE ? 'phone' : 'desktop'} ${scheme}`;
      for (const pg of PAGES) {
        step = `${pg.path} (${variant})`;
        await page.goto(`${app.base}${pg.path}`);
        await page.getByRole('heading', { name: pg.heading, exact: true }).waitFor();
        await settled(page);
        const title = await page.title();
        assert(title === pg.title, `${pg.path} has the title "${pg.title}" (got "${title}")`);
        titles.set(pg.path.split('?')[0], title);
        await axeCheck(page, `${pg.path} (${variant})`);
        if (vp === PHONE) await widthCheck(page, `${pg.path} (${variant})`);
        if (scheme === 'dark' && vp === PHONE && ['/', '/map?country=BH', '/history?jail=sshd', `/ip/${SSHD_ATTACKERS[2].ip}`, '/jails/sshd', '/users'].includes(pg.path)) {
          await shot(page, `09-phone-dark-${pg.shot ?? (pg.path.replace(/\W+/g, '-').replace(/^-|-$/g, '') || 'dashboard')}`);
        }
        if (scheme === 'dark' && vp === DESKTOP && pg.path === '/') await shot(page, '09-dashboard-dark');
      }
    }
    assert(new Set(titles.values()).size === titles.size, `every page has its own title (${[...titles.values()].join(', ')})`);

    step = 'the map on a phone';
    await page.setViewportSize(PHONE);
    await page.emulateMedia({ colorScheme: 'light' });
    await page.goto(`${app.base}/map`);
    await page.getByTestId('country-table').waitFor();
    const smallest = await page.locator('[data-testid="country-table"] button').evaluateAll((bs) =>
      Math.min(...bs.map((b) => Math.min(b.getBoundingClientRect().height, b.getBoundingClientRect().width))));
    assert(smallest >= 24, `every country in the list is a target of at least 24x24 px on a phone (smallest side ${smallest} px)`);
    await page.locator('[data-testid="country-table"] tr[data-country="BH"] button').click();
    await page.locator('[data-testid="ban-table"] tr[data-ip="37.1.2.3"]').waitFor();
    await widthCheck(page, 'the map with a chosen country on a phone');
    await page.setViewportSize(DESKTOP);

    assert(consoleErrors.length === 0, `no error in the browser console on a normal visit: ${consoleErrors.join(' | ')}`);

    step = 'fail2ban stopped: the footer and status bar say so';
    outage = true;
    await page.goto(`${app.base}/`);
    await page.getByTestId('currently-banned').waitFor();
    await run(join(ROOT, 'scripts/private-fail2ban'), ['--stop', dir], { timeout: 20_000 });
    await until('the footer to report fail2ban offline', async () => /fail2ban offline/.test(await page.getByTestId('footer-health').innerText()), 30_000);
    await until('the status bar to show unknown counters', async () => (await page.getByTestId('currently-banned').innerText()) === 'unknown', 20_000);
    await shot(page, '10-fail2ban-offline');

    step = 'BanGUI stopped: one banner';
    await app.stop();
    await until('the unreachable banner', async () => (await page.getByTestId('server-unreachable').count()) === 1, 30_000);
    await sleep(12_000); // every poll has failed at least once more
    const alerts = await page.getByRole('alert').allInnerTexts();
    const aboutServer = alerts.filter((t) => /reach the BanGUI server/i.test(t));
    assert(aboutServer.length === 1, `exactly one banner says BanGUI is unreachable (got ${aboutServer.length}: ${alerts.join(' | ')})`);
    assert((await page.getByText(/fail2ban online/).count()) === 0, 'no green "online" badge while BanGUI is unreachable');
    await shot(page, '11-bangui-unreachable');

  } catch (e) {
    await shot(page, 'failure').catch(() => {});
    log(`bangui log tail:\n${app.logTail()}`);
    if (consoleErrors.length) log(`browser console errors:\n${consoleErrors.join('\n')}`);
    throw e;
  }
}

async function cleanup() {
  while (cleanups.length) {
    const fn = cleanups.pop();
    try {
      await fn();
    } catch (e) {
      log(`cleanup: ${e.message}`);
    }
  }
}

let code = 0;
const watchdog = setTimeout(() => {
  log(`FAILED: the whole run exceeded ${OVERALL_TIMEOUT_MS / 1000} s (during step: ${step})`);
  void cleanup().finally(() => process.exit(1));
}, OVERALL_TIMEOUT_MS);

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => { void cleanup().finally(() => process.exit(130)); });
}

try {
  await main();
  log('PASSED: setup, login, dashboard bans, every banned country on the map, ban and unban through the UI, dialog focus trap, header search to an IP page with matched lines, unban there (lifted), History filtered by jail in the URL with paging and export, axe-core WCAG 2 A/AA and phone width on every page (desktop and phone, light and dark), page titles, no console errors, fail2ban and BanGUI outages');
} catch (e) {
  code = 1;
  log(`FAILED during step "${step}": ${e.stack ?? e}`);
} finally {
  await cleanup();
  clearTimeout(watchdog);
}
process.exit(code);
