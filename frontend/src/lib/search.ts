// What the header's search box was given: an IP address, a CIDR network, a jail name, or
// nothing usable (with the reason, shown next to the box). Pure functions, no React, no I/O; the
// server checks everything again (these checks only spare a round trip for obvious typos).

/** Narrowest prefixes the history search accepts (a wider network is refused by the server). */
export const MIN_PREFIX_V4 = 8;
export const MIN_PREFIX_V6 = 32;

/** fail2ban's jail names as the server accepts them. */
const JAIL_NAME = /^[A-Za-z0-9_@-][A-Za-z0-9._@-]{0,63}$/;

export function isIPv4(text: string): boolean {
  const parts = text.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

export function isIPv6(text: string): boolean {
  if (!text.includes(':') || !/^[0-9A-Fa-f:.]+$/.test(text)) return false;
  const halves = text.split('::');
  if (halves.length > 2) return false;
  const groups = (h: string) => (h === '' ? [] : h.split(':'));
  const all = halves.flatMap(groups);
  // An embedded IPv4 address (::ffff:192.0.2.1) counts as two groups, and only at the end.
  const last = all[all.length - 1] ?? '';
  const v4 = last.includes('.');
  if (v4 && !isIPv4(last)) return false;
  const hex = v4 ? all.slice(0, -1) : all;
  if (!hex.every((g) => /^[0-9A-Fa-f]{1,4}$/.test(g))) return false;
  const count = hex.length + (v4 ? 2 : 0);
  return halves.length === 2 ? count <= 7 : count === 8;
}

export function isIp(text: string): boolean {
  return isIPv4(text) || isIPv6(text);
}

export type SearchTarget =
  | { kind: 'ip'; ip: string }
  | { kind: 'cidr'; cidr: string }
  | { kind: 'jail'; jail: string }
  | { kind: 'invalid'; message: string };

/**
 * Classifies the search text: an address, a network (at least /8 for IPv4, /32 for IPv6, as
 * the history search requires), or the name of one of `jails` (exact, else case-insensitive).
 * With `jails` null (fail2ban could not be asked), any text shaped like a jail name is taken as
 * one: the archive may know it.
 */
export function classifySearch(raw: string, jails: readonly string[] | null): SearchTarget {
  const text = raw.trim();
  if (!text) return { kind: 'invalid', message: 'Type an IP address, a network (CIDR) or a jail name.' };
  if (isIp(text)) return { kind: 'ip', ip: text };
  const slash = text.indexOf('/');
  if (slash > 0) {
    const addr = text.slice(0, slash);
    const bits = text.slice(slash + 1);
    const v4 = isIPv4(addr);
    if (!v4 && !isIPv6(addr)) return { kind: 'invalid', message: `${addr} is not an IP address, so ${text} is not a network.` };
    const max = v4 ? 32 : 128;
    const min = v4 ? MIN_PREFIX_V4 : MIN_PREFIX_V6;
    if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return { kind: 'invalid', message: `/${bits} is not a prefix length (0 to ${max}).` };
    if (Number(bits) < min) return { kind: 'invalid', message: `/${bits} is too wide to search; use /${min} or narrower.` };
    return { kind: 'cidr', cidr: `${addr}/${Number(bits)}` };
  }
  if (jails === null) {
    if (JAIL_NAME.test(text)) return { kind: 'jail', jail: text };
  } else {
    const jail = jails.find((j) => j === text) ?? jails.find((j) => j.toLowerCase() === text.toLowerCase());
    if (jail) return { kind: 'jail', jail };
  }
  return { kind: 'invalid', message: `"${text}" is neither an IP address, a network nor the name of a jail.` };
}
