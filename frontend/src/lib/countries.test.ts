import { describe, expect, it } from 'vitest';
import atlas from 'world-atlas/countries-110m.json';
import { alpha2ForFeature } from './countries';

interface Geom { id?: string; properties: { name: string } }

describe('alpha2ForFeature', () => {
  it('maps numeric ids of the bundled atlas to alpha-2 codes', () => {
    expect(alpha2ForFeature('276')).toBe('DE');
    expect(alpha2ForFeature('840')).toBe('US');
    expect(alpha2ForFeature('826')).toBe('GB');
    expect(alpha2ForFeature('250')).toBe('FR');
    expect(alpha2ForFeature('156')).toBe('CN');
    expect(alpha2ForFeature(36)).toBe('AU');
  });
  it('resolves every atlas country except the two without an ISO code', () => {
    const geoms = (atlas as unknown as { objects: { countries: { geometries: Geom[] } } }).objects.countries.geometries;
    const missing = geoms.filter((g) => alpha2ForFeature(g.id, g.properties.name) === null).map((g) => g.properties.name);
    expect(missing.sort()).toEqual(['N. Cyprus', 'Somaliland']);
  });
  it('gives every code to at most one atlas feature', () => {
    const geoms = (atlas as unknown as { objects: { countries: { geometries: Geom[] } } }).objects.countries.geometries;
    const codes = geoms.map((g) => alpha2ForFeature(g.id, g.properties.name)).filter((c) => c !== null);
    expect(new Set(codes).size).toBe(codes.length);
  });
});
