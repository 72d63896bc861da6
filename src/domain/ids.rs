//! Identifying numbers: BSN, AGB code, CBS gemeentecode, ToewijzingNummer, versions.

use std::fmt;

use super::DomainError;

fn digits<const N: usize>(s: &str, type_name: &'static str) -> Result<[u8; N], DomainError> {
    let b = s.as_bytes();
    if b.len() != N || !b.iter().all(u8::is_ascii_digit) {
        return Err(DomainError::new(
            type_name,
            format!("verwacht precies {N} cijfers"),
        ));
    }
    let mut out = [0u8; N];
    out.copy_from_slice(b);
    Ok(out)
}

/// Burgerservicenummer: exactly nine digits (LDT_BurgerServicenummer).
///
/// Whether it passes the 11-proef is a level-2 rule (CS002), so a `Bsn` read from a message may
/// fail it; [`ValidBsn`] is the type for a number that passed. `Debug` and `Display` mask all but
/// the last three digits: a BSN never reaches a log line by accident. Use [`Bsn::expose`] where
/// the full number is really needed (writing a retour message, the database).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Bsn([u8; 9]);

impl Bsn {
    pub fn parse(s: &str) -> Result<Bsn, DomainError> {
        digits::<9>(s, "Bsn").map(Bsn)
    }

    /// The 11-proef as the iWmo XSLT computes it (CS002):
    /// `(9·d1 + 8·d2 + … + 2·d8 − 1·d9) mod 11 == 0`.
    pub fn passes_elfproef(&self) -> bool {
        let d: Vec<i64> = self.0.iter().map(|b| i64::from(b - b'0')).collect();
        let sum: i64 = (0..8).map(|i| (9 - i as i64) * d[i]).sum::<i64>() - d[8];
        sum.rem_euclid(11) == 0
    }

    /// The full number. Only for messages and storage, never for logs.
    pub fn expose(&self) -> &str {
        // Always ASCII digits.
        std::str::from_utf8(&self.0).unwrap_or("000000000")
    }

    /// `*****0019`-style masked form for people who may see that a BSN is involved.
    pub fn masked(&self) -> String {
        format!("******{}", &self.expose()[6..])
    }
}

impl fmt::Debug for Bsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bsn({})", self.masked())
    }
}

impl fmt::Display for Bsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// Serialised in full: only for storage and decision snapshots, never for logs.
impl serde::Serialize for Bsn {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.expose())
    }
}

impl<'de> serde::Deserialize<'de> for Bsn {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Bsn::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A BSN that passed the 11-proef.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct ValidBsn(Bsn);

impl TryFrom<Bsn> for ValidBsn {
    type Error = DomainError;
    fn try_from(b: Bsn) -> Result<Self, DomainError> {
        if b.passes_elfproef() {
            Ok(ValidBsn(b))
        } else {
            Err(DomainError::new("Bsn", "voldoet niet aan de elfproef"))
        }
    }
}

impl ValidBsn {
    pub fn bsn(&self) -> Bsn {
        self.0
    }
}

macro_rules! digit_code {
    ($(#[$m:meta])* $name:ident, $n:expr) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name([u8; $n]);

        impl $name {
            pub fn parse(s: &str) -> Result<$name, DomainError> {
                digits::<$n>(s, stringify!($name)).map($name)
            }
            pub fn as_str(&self) -> &str {
                std::str::from_utf8(&self.0).unwrap_or("")
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.as_str())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = DomainError;
            fn from_str(s: &str) -> Result<Self, DomainError> {
                $name::parse(s)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                $name::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

digit_code!(
    /// Wmo-specific AGB code of an aanbieder (LDT_AgbCode, 8 digits).
    AgbCode,
    8
);
digit_code!(
    /// CBS gemeentecode including the leading zero, e.g. `0344` (LDT_Gemeente).
    Gemeentecode,
    4
);

/// LDT_Nummer: 0 – 999 999 999 (ToewijzingNummer, BeschikkingNummer).
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Nummer(u32);

impl Nummer {
    pub const MAX: u32 = 999_999_999;
    pub fn new(n: u64) -> Result<Nummer, DomainError> {
        if n <= u64::from(Self::MAX) {
            Ok(Nummer(n as u32))
        } else {
            Err(DomainError::new("Nummer", "groter dan 999999999"))
        }
    }
    pub fn get(&self) -> u32 {
        self.0
    }
}

impl fmt::Display for Nummer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

pub type ToewijzingNummer = Nummer;

/// LDT_Versie: `N.N.N` without leading zeros.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Versie(pub u32, pub u32, pub u32);

impl Versie {
    pub fn parse(s: &str) -> Result<Versie, DomainError> {
        let err = || DomainError::new("Versie", "verwacht N.N.N");
        let mut it = s.split('.');
        let mut next = || -> Result<u32, DomainError> {
            let p = it.next().ok_or_else(err)?;
            if p.is_empty()
                || (p.len() > 1 && p.starts_with('0'))
                || !p.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(err());
            }
            p.parse().map_err(|_| err())
        };
        let v = Versie(next()?, next()?, next()?);
        if it.next().is_some() {
            return Err(err());
        }
        Ok(v)
    }
}

impl fmt::Display for Versie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elfproef_examples_from_reference() {
        for ok in [
            "999990019",
            "999990032",
            "999990044",
            "999993653",
            "999900006",
            "999900018",
        ] {
            assert!(Bsn::parse(ok).unwrap().passes_elfproef(), "{ok}");
        }
        assert!(!Bsn::parse("999990018").unwrap().passes_elfproef());
    }

    #[test]
    fn bsn_is_masked_in_debug_and_display() {
        let b = Bsn::parse("999990019").unwrap();
        assert_eq!(format!("{b:?}"), "Bsn(******019)");
        assert_eq!(b.to_string(), "******019");
        assert!(!format!("{b:?}").contains("99999"));
    }

    #[test]
    fn codes() {
        assert!(AgbCode::parse("1234567").is_err());
        assert_eq!(Gemeentecode::parse("0344").unwrap().as_str(), "0344");
        assert_eq!(Versie::parse("1.0.0").unwrap(), Versie(1, 0, 0));
        assert!(Versie::parse("1.01.0").is_err());
        assert!(Versie::parse("1.0").is_err());
    }
}
