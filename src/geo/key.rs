//! The fixed-width key the geolocation maps are indexed by ([`IpKey`]: a canonical IP as 128
//! bits) and the keyed, fast hasher those maps use ([`KeyHasher`]). The hasher is seeded at
//! random per map builder, so attacker-chosen IPs cannot be aimed at one bucket without
//! knowing the seed; it is not a cryptographic hash. This module holds no state and does no I/O.

use std::hash::{BuildHasher, Hash, Hasher};
use std::net::{IpAddr, Ipv6Addr};

/// A canonical IP address as two 64-bit halves. IPv4 is stored as its IPv4-mapped IPv6 value;
/// canonical IPv6 addresses are never IPv4-mapped, so the mapping is one-to-one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct IpKey {
    hi: u64,
    lo: u64,
}

impl IpKey {
    /// The key of an address (canonicalised first: `::ffff:a.b.c.d` and `a.b.c.d` are one key).
    pub fn of(ip: IpAddr) -> Self {
        let bits = match ip.to_canonical() {
            IpAddr::V4(v4) => v4.to_ipv6_mapped().to_bits(),
            IpAddr::V6(v6) => v6.to_bits(),
        };
        Self {
            hi: (bits >> 64) as u64,
            lo: bits as u64,
        }
    }

    /// The canonical address back.
    pub fn addr(self) -> IpAddr {
        let bits = (u128::from(self.hi) << 64) | u128::from(self.lo);
        IpAddr::V6(Ipv6Addr::from_bits(bits)).to_canonical()
    }
}

impl Hash for IpKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hi);
        state.write_u64(self.lo);
    }
}

/// Builds [`KeyHasher`]s with one random seed per builder (per map).
#[derive(Debug, Clone)]
pub struct KeyHasherBuilder {
    seed: u64,
    multiplier: u64,
}

impl KeyHasherBuilder {
    pub fn new() -> Self {
        Self {
            seed: rand::random(),
            // Odd, so the multiplication is a bijection on the low bits.
            multiplier: rand::random::<u64>() | 1,
        }
    }
}

impl Default for KeyHasherBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl BuildHasher for KeyHasherBuilder {
    type Hasher = KeyHasher;

    fn build_hasher(&self) -> KeyHasher {
        KeyHasher {
            state: self.seed,
            multiplier: self.multiplier,
        }
    }
}

/// A folded-multiply hasher for integer keys: one 64x64->128 multiplication per word.
#[derive(Debug, Clone)]
pub struct KeyHasher {
    state: u64,
    multiplier: u64,
}

#[inline]
fn folded_multiply(a: u64, b: u64) -> u64 {
    let full = u128::from(a) * u128::from(b);
    (full as u64) ^ ((full >> 64) as u64)
}

impl Hasher for KeyHasher {
    #[inline]
    fn write_u64(&mut self, word: u64) {
        self.state = folded_multiply(self.state ^ word, self.multiplier);
    }

    #[inline]
    fn write_usize(&mut self, word: usize) {
        self.write_u64(word as u64);
    }

    #[inline]
    fn write_u32(&mut self, word: u32) {
        self.write_u64(u64::from(word));
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            for (dst, src) in word.iter_mut().zip(chunk) {
                *dst = *src;
            }
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    #[inline]
    fn finish(&self) -> u64 {
        // One more round so the last word is mixed into the high bits too.
        folded_multiply(self.state, self.multiplier.rotate_left(32) | 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_and_its_mapped_form_are_one_key_and_round_trip() {
        let v4: IpAddr = "203.0.113.7".parse().expect("ip");
        let mapped: IpAddr = "::ffff:203.0.113.7".parse().expect("ip");
        assert_eq!(IpKey::of(v4), IpKey::of(mapped));
        assert_eq!(IpKey::of(mapped).addr(), v4);
        let v6: IpAddr = "2001:db8::1".parse().expect("ip");
        assert_eq!(IpKey::of(v6).addr(), v6);
        assert_ne!(IpKey::of(v6), IpKey::of(v4));
    }

    #[test]
    fn neighbouring_addresses_spread_over_many_buckets() {
        let builder = KeyHasherBuilder::new();
        let mut low_bits = std::collections::HashSet::new();
        for i in 0..4096u32 {
            let key = IpKey::of(IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i)));
            low_bits.insert(builder.hash_one(key) & 0xfff);
        }
        assert!(low_bits.len() > 2000, "{}", low_bits.len());
    }
}
