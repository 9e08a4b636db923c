import { describe, expect, it } from 'vitest';
import { classifySearch, isIPv4, isIPv6 } from './search';

describe('the header search', () => {
  it('recognises IPv4 and IPv6 addresses', () => {
    expect(isIPv4('203.0.113.7')).toBe(true);
    expect(isIPv4('203.0.113.256')).toBe(false);
    expect(isIPv4('203.0.113')).toBe(false);
    expect(isIPv6('2001:db8::1')).toBe(true);
    expect(isIPv6('::1')).toBe(true);
    expect(isIPv6('::ffff:192.0.2.1')).toBe(true);
    expect(isIPv6('1:2:3:4:5:6:7:8')).toBe(true);
    expect(isIPv6('1:2:3:4:5:6:7:8:9')).toBe(false);
    expect(isIPv6('2001:db8::1::2')).toBe(false);
    expect(isIPv6('2001:db8::g')).toBe(false);
  });

  it('sends an address to its IP page', () => {
    expect(classifySearch(' 203.0.113.7 ', [])).toEqual({ kind: 'ip', ip: '203.0.113.7' });
    expect(classifySearch('2001:db8::1', [])).toEqual({ kind: 'ip', ip: '2001:db8::1' });
  });

  it('sends a network to History, refusing prefixes wider than the search allows', () => {
    expect(classifySearch('203.0.113.0/24', [])).toEqual({ kind: 'cidr', cidr: '203.0.113.0/24' });
    expect(classifySearch('2001:db8::/48', [])).toEqual({ kind: 'cidr', cidr: '2001:db8::/48' });
    expect(classifySearch('10.0.0.0/7', [])).toMatchObject({ kind: 'invalid', message: expect.stringMatching(/too wide.*\/8/) });
    expect(classifySearch('2001:db8::/16', [])).toMatchObject({ kind: 'invalid', message: expect.stringMatching(/\/32/) });
    expect(classifySearch('10.0.0.0/33', [])).toMatchObject({ kind: 'invalid', message: expect.stringMatching(/prefix length/) });
    expect(classifySearch('10.0.0/24', [])).toMatchObject({ kind: 'invalid', message: expect.stringMatching(/not an IP address/) });
  });

  it('sends the name of a jail to History, matching case only when it must', () => {
    expect(classifySearch('sshd', ['sshd', 'nginx'])).toEqual({ kind: 'jail', jail: 'sshd' });
    expect(classifySearch('SSHD', ['sshd'])).toEqual({ kind: 'jail', jail: 'sshd' });
    expect(classifySearch('postfix', ['sshd'])).toMatchObject({ kind: 'invalid', message: expect.stringMatching(/neither an IP address/) });
    // fail2ban could not be asked: a name shaped like a jail is taken as one.
    expect(classifySearch('postfix', null)).toEqual({ kind: 'jail', jail: 'postfix' });
    expect(classifySearch('no such thing', null)).toMatchObject({ kind: 'invalid' });
    expect(classifySearch('   ', ['sshd'])).toMatchObject({ kind: 'invalid', message: expect.stringMatching(/Type an IP/) });
  });
});
