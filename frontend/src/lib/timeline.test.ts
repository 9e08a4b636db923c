import { describe, expect, it } from 'vitest';
import { dayBuckets, MAX_BUCKETS, MIN_DAYS } from './timeline';

const NOW = new Date('2026-06-15T12:00:00Z');

describe('the IP timeline buckets', () => {
  it('is empty without bans', () => {
    expect(dayBuckets([], NOW).buckets).toEqual([]);
  });

  it('counts recent bans per day over at least two weeks, ending today', () => {
    const b = dayBuckets([{ day: '2026-06-13', bans: 1 }, { day: '2026-06-15', bans: 2 }], NOW);
    expect(b.bucket_seconds).toBe(86_400);
    expect(b.buckets).toHaveLength(MIN_DAYS);
    expect(b.buckets.at(-1)).toEqual({ start: '2026-06-15T00:00:00.000Z', count: 2 });
    expect(b.buckets.at(-3)).toEqual({ start: '2026-06-13T00:00:00.000Z', count: 1 });
    expect(b.buckets.reduce((s, x) => s + x.count, 0)).toBe(3);
  });

  it('widens the buckets to whole weeks for a long story, never more than the maximum', () => {
    const days = [{ day: '2024-01-01', bans: 1 }, { day: '2025-03-01', bans: 1 }, { day: '2026-06-14', bans: 1 }];
    const b = dayBuckets(days, NOW);
    expect(b.bucket_seconds % (7 * 86_400)).toBe(0);
    expect(b.buckets.length).toBeLessThanOrEqual(MAX_BUCKETS);
    expect(b.buckets.reduce((s, x) => s + x.count, 0)).toBe(3);
    expect(new Date(b.buckets[0]!.start).getTime()).toBeLessThanOrEqual(Date.parse('2024-01-01T00:00:00Z'));
  });

  it('charts every ban of a long story, not only the listed ones', () => {
    const b = dayBuckets([{ day: '2026-06-01', bans: 4_000 }, { day: '2026-06-15', bans: 9_452 }], NOW);
    expect(b.buckets.reduce((s, x) => s + x.count, 0)).toBe(13_452);
    expect(b.buckets.at(-1)!.count).toBe(9_452);
  });
});
