// End-to-end suite of the BanGUI dashboard: real private fail2ban, real `bangui` binary, a
// generated demo MMDB and headless Debian Chromium driven by playwright-core. It owns process
// start-up and clean-up for one run; it never mocks the backend.
//
// Flow: setup wizard -> login -> dashboard lists the bans this run caused by appending attack
// lines to watched logs -> the map colours those countries -> ban and unban through the Jails page
// change what `fail2ban-client` reports. A screenshot of every page goes to
// target/e2e-screenshots/ (repo-root relative).
//
// Usage (from the repo root, after `cargo build --bin bangui --example demo_mmdb` and
// `npm --prefix frontend run build`):  node frontend/e2e/run.mjs
// Environment: BANGUI_E2E_BIN (default target/debug/bangui, e.g. a release build),
// BANGUI_E2E_CHROMIUM (default /usr/bin/chromium), BANGUI_E2E_KEEP=1 keeps the temporary directory.
import { execFile, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
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
const OVERALL_TIMEOUT_MS = 170_000;

const ADMIN = { username: 'admin', password: 'e2e-Secret-2026' };
// Attack sources, one per demo-MMDB country, so the map must colour each of them.
const SSHD_ATTACKERS = [
  { ip: '5.6.7.8', country: 'DE' },
  { ip: '14.2.3.4', country: 'CN' },
  { ip: '58.9.10.11', country: 'JP' },
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
  return { base, logTail: () => out.join('').slice(-4000) };
}

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
    viewport: { width: 1280, height: 800 },
    timeout: 30_000,
  });
  cleanups.push(async () => ctx.close().catch(() => {}));
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  page.setDefaultTimeout(15_000);
  const consoleErrors = [];
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(e.message));

  try {
    step = 'setup wizard';
    await page.goto(`${app.base}/`);
    await page.waitForURL('**/setup');
    await page.getByRole('heading', { name: 'Welcome to BanGUI' }).waitFor();
    await page.getByLabel('Username').fill(ADMIN.username);
    await page.getByLabel('Password', { exact: true }).fill(ADMIN.password);
    await page.getByLabel('Repeat password').fill(ADMIN.password);
    await shot(page, '01-setup');
    await page.getByRole('button', { name: 'Create admin account' }).click();

    step = 'login';
    await page.waitForURL('**/login');
    await page.getByRole('heading', { name: 'Sign in to BanGUI' }).waitFor();
    await page.getByLabel('Username').fill(ADMIN.username);
    await page.getByLabel('Password').fill(ADMIN.password);
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

    step = 'map colours the banned countries';
    await page.getByRole('link', { name: 'Map' }).click();
    await page.getByTestId('world-map').waitFor();
    await until('banned countries coloured on the map', async () => {
      const counts = await page.locator('path[data-country]').evaluateAll((ps) =>
        Object.fromEntries(ps.map((p) => [p.getAttribute('data-country'), Number(p.getAttribute('data-count'))])));
      return wanted.every((w) => counts[w.country] > 0);
    }, 20_000);
    for (const w of wanted) {
      const level = await page.locator(`path[data-country="${w.country}"]`).first().getAttribute('data-level');
      assert(level !== '0', `${w.country} has a colour level (got ${level})`);
    }
    const uncoloured = await page.locator('path[data-country="AU"]').first().getAttribute('data-count');
    assert(uncoloured === '0', `a country without bans (AU) stays uncoloured (got ${uncoloured})`);
    await page.locator('path[data-country="DE"]').first().click();
    await page.locator(`[data-testid="ban-table"] tr[data-ip="${SSHD_ATTACKERS[0].ip}"]`).waitFor();
    assert((await page.locator(`[data-testid="ban-table"] tr[data-ip="${SSHD_ATTACKERS[1].ip}"]`).count()) === 0,
      'clicking Germany filters out the Chinese address');
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

    step = 'phone width, dark theme';
    await page.setViewportSize({ width: 390, height: 844 });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page.locator('[data-testid="ban-table"]').waitFor();
    await page.getByTestId('top-countries').waitFor();
    await page.getByTestId('trend-chart').waitFor();
    await shot(page, '09-dashboard-phone-dark');

    const serious = consoleErrors.filter((e) => !/Failed to load resource/.test(e));
    assert(serious.length === 0, `no JavaScript errors in the browser console: ${serious.join(' | ')}`);
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
  log('PASSED: setup, login, dashboard bans, map colours, ban and unban through the UI');
} catch (e) {
  code = 1;
  log(`FAILED during step "${step}": ${e.stack ?? e}`);
} finally {
  await cleanup();
  clearTimeout(watchdog);
}
process.exit(code);
