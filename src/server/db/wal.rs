//! WAL positions (`pg_lsn`): how far a server's write-ahead log has come.

use std::{fmt, str::FromStr};

/// A PostgreSQL WAL position (`pg_lsn`), written as two hexadecimal halves: `16/B374D848`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct WalLsn(u64);

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a WAL position: expected two hexadecimal numbers separated by '/'")]
pub struct InvalidWalLsn;

impl FromStr for WalLsn {
    type Err = InvalidWalLsn;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (high, low) = text.split_once('/').ok_or(InvalidWalLsn)?;
        let half = |digits: &str| {
            if digits.is_empty()
                || digits.len() > 8
                || !digits.bytes().all(|b| b.is_ascii_hexdigit())
            {
                return Err(InvalidWalLsn);
            }
            u32::from_str_radix(digits, 16).map_err(|_| InvalidWalLsn)
        };
        Ok(Self((u64::from(half(high)?) << 32) | u64::from(half(low)?)))
    }
}

impl WalLsn {
    /// As a number, for an atomic store.
    pub(super) fn as_u64(self) -> u64 {
        self.0
    }

    /// Bytes of WAL from `earlier` to `self`; 0 if `earlier` is not earlier.
    pub fn bytes_after(self, earlier: WalLsn) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl fmt::Display for WalLsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wal_positions_round_trip_and_order_numerically() {
        let small: WalLsn = "0/16B3748".parse().unwrap();
        let large: WalLsn = "16/B374D848".parse().unwrap();
        assert_eq!(small.to_string(), "0/16B3748");
        assert_eq!(large.to_string(), "16/B374D848");
        assert!(small < large);
        assert!("1/0".parse::<WalLsn>().unwrap() > "0/FFFFFFFF".parse().unwrap());
        let next: WalLsn = "1/10".parse().unwrap();
        assert_eq!(next.bytes_after("0/FFFFFFF0".parse().unwrap()), 0x20);
        assert_eq!(small.bytes_after(large), 0);
    }

    #[test]
    fn malformed_wal_positions_are_rejected() {
        for text in [
            "",
            "/",
            "0/",
            "/1",
            "12",
            "g/1",
            "1/1/1",
            "123456789/0",
            "+1/0",
            "0/ 1",
        ] {
            assert_eq!(text.parse::<WalLsn>(), Err(InvalidWalLsn), "{text:?}");
        }
    }
}
