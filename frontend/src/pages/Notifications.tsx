// Notifications (admins): the channels (webhook, ntfy, chat, Matrix, Telegram, e-mail) with their
// rules, a form to add or edit one (secrets are write-only: shown as set/unset, an empty field
// keeps the stored value), a "Send test" button per channel and the channel's delivery log.
import { useState, type FormEvent } from 'react';
import { notificationQueries, notificationsApi, type Channel, type ChannelBody, type ChannelConfig, type NoticeKind } from '../api/notifications';
import { useApi } from '../api/queries';
import { Empty, ErrorBanner, Loading, TableWrap, useConfirm, usePageTitle, useToast } from '../components/feedback';
import { explainError, formatDateTime } from '../lib/format';

type Kind = ChannelConfig['kind'];

export const KINDS: { kind: Kind; label: string; secrets: string[] }[] = [
  { kind: 'webhook', label: 'Webhook (signed JSON)', secrets: ['signing_secret'] },
  { kind: 'ntfy', label: 'ntfy', secrets: ['access_token'] },
  { kind: 'chat', label: 'Slack / Mattermost / Discord', secrets: ['webhook_url'] },
  { kind: 'matrix', label: 'Matrix', secrets: ['access_token'] },
  { kind: 'telegram', label: 'Telegram bot', secrets: ['bot_token'] },
  { kind: 'email', label: 'E-mail (SMTP)', secrets: ['password'] },
];

export const EVENTS: { kind: NoticeKind; label: string }[] = [
  { kind: 'ban', label: 'Bans' },
  { kind: 'unban', label: 'Unbans' },
  { kind: 'jail_started', label: 'Jail started' },
  { kind: 'jail_stopped', label: 'Jail stopped' },
  { kind: 'fail2ban_offline', label: 'fail2ban offline' },
  { kind: 'fail2ban_online', label: 'fail2ban online' },
  { kind: 'blocklist_import_failed', label: 'Blocklist import failed' },
  { kind: 'mmdb_reload_failed', label: 'GeoIP reload failed' },
  { kind: 'config_applied', label: 'Configuration applied' },
  { kind: 'config_rolled_back', label: 'Configuration rolled back' },
];

/** The form's state: every field as text, whatever the kind. */
export interface Draft {
  name: string;
  enabled: boolean;
  kind: Kind;
  fields: Record<string, string>;
  secrets: Record<string, string>;
  events: NoticeKind[];
  jails: string;
  countries: string;
  minBanCount: string;
  quietStart: string;
  quietEnd: string;
  interval: string;
}

export function emptyDraft(): Draft {
  return { name: '', enabled: true, kind: 'webhook', fields: { flavor: 'slack', security: 'starttls', port: '587', api_base: 'https://api.telegram.org', base_url: 'https://ntfy.sh' }, secrets: {}, events: ['ban'], jails: '', countries: '', minBanCount: '1', quietStart: '', quietEnd: '', interval: '300' };
}

export function draftOf(c: Channel): Draft {
  const fields: Record<string, string> = { ...emptyDraft().fields };
  for (const [k, v] of Object.entries(c.config)) if (k !== 'kind') fields[k] = Array.isArray(v) ? v.join(', ') : v === null || v === undefined ? '' : String(v);
  return {
    name: c.name, enabled: c.enabled, kind: c.config.kind, fields, secrets: {},
    events: [...(c.rules.events ?? [])], jails: (c.rules.jails ?? []).join(', '), countries: (c.rules.countries ?? []).join(', '),
    minBanCount: String(c.rules.min_ban_count ?? 1), quietStart: c.rules.quiet_hours?.start ?? '', quietEnd: c.rules.quiet_hours?.end ?? '',
    interval: String(c.rules.digest_interval_seconds ?? 300),
  };
}

const list = (text: string) => text.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);

/** Builds the request body; secrets left empty are not sent, so the stored ones are kept. */
export function bodyOf(d: Draft): ChannelBody {
  const f = d.fields;
  let config: ChannelConfig;
  switch (d.kind) {
    case 'webhook': config = { kind: 'webhook', url: f.url ?? '' }; break;
    case 'ntfy': config = { kind: 'ntfy', base_url: f.base_url ?? '', topic: f.topic ?? '' }; break;
    case 'chat': config = { kind: 'chat', flavor: (f.flavor ?? 'slack') as 'slack' | 'mattermost' | 'discord' }; break;
    case 'matrix': config = { kind: 'matrix', homeserver: f.homeserver ?? '', room_id: f.room_id ?? '' }; break;
    case 'telegram': config = { kind: 'telegram', api_base: f.api_base ?? '', chat_id: f.chat_id ?? '' }; break;
    case 'email': config = { kind: 'email', host: f.host ?? '', port: Number(f.port ?? 587), security: (f.security ?? 'starttls') as 'starttls' | 'tls' | 'plain', username: f.username || null, from: f.from ?? '', to: list(f.to ?? '') }; break;
  }
  const secrets: Record<string, string> = {};
  for (const [k, v] of Object.entries(d.secrets)) if (v.trim()) secrets[k] = v.trim();
  return {
    name: d.name.trim(), enabled: d.enabled, config, secrets,
    rules: {
      events: d.events, jails: list(d.jails), countries: list(d.countries).map((c) => c.toUpperCase()),
      min_ban_count: Number(d.minBanCount) || 1,
      quiet_hours: d.quietStart && d.quietEnd ? { start: d.quietStart, end: d.quietEnd } : null,
      digest_interval_seconds: Number(d.interval) || 300,
    },
  };
}

function target(c: Channel): string {
  const cfg = c.config;
  switch (cfg.kind) {
    case 'webhook': return cfg.url;
    case 'ntfy': return `${cfg.base_url}/${cfg.topic}`;
    case 'chat': return cfg.flavor;
    case 'matrix': return `${cfg.room_id} on ${cfg.homeserver}`;
    case 'telegram': return `chat ${cfg.chat_id}`;
    case 'email': return cfg.to.join(', ');
  }
}

function rulesText(c: Channel): string {
  const r = c.rules;
  const parts = [(r.events ?? []).join(', ') || 'no events'];
  if (r.jails?.length) parts.push(`jails ${r.jails.join(', ')}`);
  if (r.countries?.length) parts.push(`countries ${r.countries.join(', ')}`);
  if ((r.min_ban_count ?? 1) > 1) parts.push(`from ${r.min_ban_count} bans`);
  if (r.quiet_hours) parts.push(`quiet ${r.quiet_hours.start}–${r.quiet_hours.end} UTC`);
  parts.push(`at most 1 message / ${r.digest_interval_seconds ?? 300} s`);
  return parts.join('; ');
}

export function NotificationsPage() {
  usePageTitle('Notifications');
  const toast = useToast();
  const confirm = useConfirm();
  const channels = useApi(notificationQueries.channels());
  const [editing, setEditing] = useState<{ id: number | null; draft: Draft } | null>(null);
  const [logOf, setLogOf] = useState<Channel | null>(null);

  const test = async (c: Channel) => {
    try {
      const r = await notificationsApi.test(c.id);
      toast(r.delivered ? `Test message delivered to ${c.name}.` : `Test to ${c.name} failed: ${r.error ?? 'unknown error'}`, r.delivered ? 'success' : 'error');
    } catch (err) {
      toast(explainError(err), 'error');
    }
  };
  const remove = async (c: Channel) => {
    if (!(await confirm(`Delete channel ${c.name}?`, 'Its rules and delivery log are deleted too.', 'Delete channel'))) return;
    try {
      await notificationsApi.remove(c.id);
      toast(`Channel ${c.name} deleted.`);
      if (logOf?.id === c.id) setLogOf(null);
      channels.reload();
    } catch (err) {
      toast(explainError(err), 'error');
    }
  };

  return (
    <>
      <h1>Notifications</h1>
      <section className="card" aria-labelledby="channels-h">
        <div className="row between">
          <h2 id="channels-h">Channels</h2>
          <button type="button" onClick={() => setEditing({ id: null, draft: emptyDraft() })}>Add channel</button>
        </div>
        <p className="muted small">Each channel sends at most one message per interval: the first event at once, later ones as a digest with counts, top addresses and countries.</p>
        <ErrorBanner error={channels.error} onRetry={channels.reload} />
        {channels.loading && !channels.data ? <Loading /> : channels.data && (channels.data.items.length === 0 ? <Empty>No channels yet.</Empty> : (
          <TableWrap label="Notification channels">
            <table className="data stackable" data-testid="channels-table">
              <thead><tr><th scope="col">Name</th><th scope="col">Kind</th><th scope="col">Target</th><th scope="col">Secrets</th><th scope="col">Rules</th><th scope="col">Actions</th></tr></thead>
              <tbody>
                {channels.data.items.map((c) => (
                  <tr key={c.id}>
                    <th scope="row">{c.name}{!c.enabled && <span className="tag">disabled</span>}</th>
                    <td data-label="Kind">{c.kind}</td>
                    <td data-label="Target"><code>{target(c)}</code></td>
                    <td data-label="Secrets">{Object.entries(c.secrets).map(([k, set]) => <span key={k} className={`pill ${set ? 'ok' : 'bad'}`}>{k}: {set ? 'set' : 'unset'}</span>)}</td>
                    <td data-label="Rules" className="small">{rulesText(c)}</td>
                    <td className="actions">
                      <button type="button" className="small" onClick={() => void test(c)}>Send test</button>
                      <button type="button" className="small" onClick={() => setEditing({ id: c.id, draft: draftOf(c) })}>Edit</button>
                      <button type="button" className="small" onClick={() => setLogOf(c)}>Delivery log</button>
                      <button type="button" className="small danger" onClick={() => void remove(c)}>Delete</button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        ))}
      </section>
      {editing && <ChannelForm id={editing.id} initial={editing.draft} secretsSet={channels.data?.items.find((c) => c.id === editing.id)?.secrets ?? {}}
        onDone={() => { setEditing(null); channels.reload(); }} onCancel={() => setEditing(null)} />}
      {logOf && <DeliveryLog channel={logOf} onClose={() => setLogOf(null)} />}
    </>
  );
}

function ChannelForm({ id, initial, secretsSet, onDone, onCancel }: {
  id: number | null; initial: Draft; secretsSet: Record<string, boolean>; onDone: () => void; onCancel: () => void;
}) {
  const toast = useToast();
  const [d, setD] = useState<Draft>(initial);
  const [error, setError] = useState<unknown>(null);
  const field = (name: string) => d.fields[name] ?? '';
  const setField = (name: string, value: string) => setD({ ...d, fields: { ...d.fields, [name]: value } });
  const input = (name: string, label: string, props: Record<string, unknown> = {}) => (
    <label>{label}<input name={name} value={field(name)} onChange={(e) => setField(name, e.target.value)} {...props} /></label>
  );
  const secretNames = KINDS.find((k) => k.kind === d.kind)?.secrets ?? [];
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      const body = bodyOf(d);
      const saved = id === null ? await notificationsApi.create(body) : await notificationsApi.update(id, body);
      toast(`Channel ${saved.name} saved.`);
      onDone();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section className="card" aria-labelledby="channel-form-h">
      <h2 id="channel-form-h">{id === null ? 'Add a channel' : `Edit ${initial.name}`}</h2>
      <ErrorBanner error={error} />
      <form onSubmit={submit} aria-label="Channel">
        <div className="row wrap">
          <label>Name<input name="name" required value={d.name} onChange={(e) => setD({ ...d, name: e.target.value })} /></label>
          <label>Kind<select name="kind" value={d.kind} onChange={(e) => setD({ ...d, kind: e.target.value as Kind, secrets: {} })}>
            {KINDS.map((k) => <option key={k.kind} value={k.kind}>{k.label}</option>)}
          </select></label>
          <label className="inline"><input type="checkbox" checked={d.enabled} onChange={(e) => setD({ ...d, enabled: e.target.checked })} /> Enabled</label>
        </div>
        <div className="row wrap">
          {d.kind === 'webhook' && input('url', 'URL', { type: 'url', required: true })}
          {d.kind === 'ntfy' && <>{input('base_url', 'Server URL', { type: 'url', required: true })}{input('topic', 'Topic', { required: true })}</>}
          {d.kind === 'chat' && <label>Flavour<select name="flavor" value={field('flavor')} onChange={(e) => setField('flavor', e.target.value)}>
            <option value="slack">Slack</option><option value="mattermost">Mattermost</option><option value="discord">Discord</option></select></label>}
          {d.kind === 'matrix' && <>{input('homeserver', 'Homeserver URL', { type: 'url', required: true })}{input('room_id', 'Room id', { required: true, placeholder: '!abc:example.org' })}</>}
          {d.kind === 'telegram' && <>{input('api_base', 'Bot API URL', { type: 'url', required: true })}{input('chat_id', 'Chat id', { required: true })}</>}
          {d.kind === 'email' && <>
            {input('host', 'SMTP host', { required: true })}{input('port', 'Port', { type: 'number', min: 1, max: 65535, required: true })}
            <label>Security<select name="security" value={field('security')} onChange={(e) => setField('security', e.target.value)}>
              <option value="starttls">STARTTLS</option><option value="tls">TLS</option><option value="plain">plain (local relay only)</option></select></label>
            {input('username', 'User name')}{input('from', 'From', { required: true })}{input('to', 'To (comma-separated)', { required: true })}
          </>}
        </div>
        <fieldset>
          <legend>Secrets (write-only)</legend>
          <div className="row wrap">
            {secretNames.map((s) => (
              <label key={s}>{s} <span className="muted small">({secretsSet[s] && d.kind === initial.kind ? 'set; leave empty to keep' : 'unset'})</span>
                <input name={`secret-${s}`} type="password" autoComplete="off" value={d.secrets[s] ?? ''} onChange={(e) => setD({ ...d, secrets: { ...d.secrets, [s]: e.target.value } })} /></label>
            ))}
          </div>
        </fieldset>
        <fieldset>
          <legend>Events</legend>
          <div className="row wrap">
            {EVENTS.map((ev) => (
              <label key={ev.kind} className="inline"><input type="checkbox" checked={d.events.includes(ev.kind)}
                onChange={(e) => setD({ ...d, events: e.target.checked ? [...d.events, ev.kind] : d.events.filter((k) => k !== ev.kind) })} /> {ev.label}</label>
            ))}
          </div>
        </fieldset>
        <fieldset>
          <legend>Rules</legend>
          <div className="row wrap">
            <label>Jails (empty: all)<input name="jails" value={d.jails} onChange={(e) => setD({ ...d, jails: e.target.value })} placeholder="sshd, nginx" /></label>
            <label>Countries (empty: all)<input name="countries" value={d.countries} onChange={(e) => setD({ ...d, countries: e.target.value })} placeholder="CN, RU" /></label>
            <label>Minimum bans of an address<input name="min-ban-count" type="number" min={1} value={d.minBanCount} onChange={(e) => setD({ ...d, minBanCount: e.target.value })} /></label>
            <label>Quiet from (UTC)<input name="quiet-start" type="time" value={d.quietStart} onChange={(e) => setD({ ...d, quietStart: e.target.value })} /></label>
            <label>Quiet until (UTC)<input name="quiet-end" type="time" value={d.quietEnd} onChange={(e) => setD({ ...d, quietEnd: e.target.value })} /></label>
            <label>At most one message every (s)<input name="interval" type="number" min={1} max={86400} value={d.interval} onChange={(e) => setD({ ...d, interval: e.target.value })} /></label>
          </div>
        </fieldset>
        <div className="row">
          <button type="submit" disabled={!d.name.trim()}>Save channel</button>
          <button type="button" className="link" onClick={onCancel}>Cancel</button>
        </div>
      </form>
    </section>
  );
}

function DeliveryLog({ channel, onClose }: { channel: Channel; onClose: () => void }) {
  const log = useApi(notificationQueries.deliveries(channel.id));
  return (
    <section className="card" aria-labelledby="log-h">
      <div className="row between">
        <h2 id="log-h">Delivery log of {channel.name}</h2>
        <span><button type="button" onClick={log.reload}>Refresh</button> <button type="button" className="link" onClick={onClose}>Close</button></span>
      </div>
      {log.data && <p className="muted small">{log.data.queued} message(s) waiting in the queue (all channels).</p>}
      <ErrorBanner error={log.error} onRetry={log.reload} />
      {log.loading && !log.data ? <Loading /> : log.data && (log.data.items.length === 0 ? <Empty>Nothing sent yet.</Empty> : (
        <TableWrap label="Delivery log">
          <table className="data stackable" data-testid="delivery-log">
            <thead><tr><th scope="col">Time</th><th scope="col">Kind</th><th scope="col">Message</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Last error</th></tr></thead>
            <tbody>
              {log.data.items.map((r) => (
                <tr key={r.id}>
                  <td data-label="Time">{formatDateTime(r.created_at)}</td>
                  <td data-label="Kind">{r.kind}</td>
                  <td data-label="Message">{r.summary}</td>
                  <td data-label="Status"><span className={`pill ${r.status === 'sent' ? 'ok' : r.status === 'queued' || r.status === 'retrying' ? '' : 'bad'}`}>{r.status}</span></td>
                  <td data-label="Attempts">{r.attempts}</td>
                  <td data-label="Last error">{r.last_error ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      ))}
    </section>
  );
}
