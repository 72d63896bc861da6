//! Money: integer eurocents everywhere, the sign carried by DebetCredit as in the messages.

use std::fmt;

use super::{DebetCredit, DomainError};

/// LDT_Bedrag / LDT_Budget: 0 – 99 999 999 cents.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
pub struct Bedrag(u32);

impl Bedrag {
    pub const MAX: u64 = 99_999_999;
    pub fn new(cents: u64) -> Result<Bedrag, DomainError> {
        if cents <= Self::MAX {
            Ok(Bedrag(cents as u32))
        } else {
            Err(DomainError::new("Bedrag", "groter dan 99999999 cent"))
        }
    }
    pub fn cents(&self) -> u64 {
        u64::from(self.0)
    }
}

impl fmt::Display for Bedrag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", Euro(self.0 as i64))
    }
}

/// LDT_TotaalBedrag: 0 – 999 999 999 999 cents.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
pub struct TotaalBedrag(u64);

impl TotaalBedrag {
    pub const MAX: u64 = 999_999_999_999;
    pub fn new(cents: u64) -> Result<TotaalBedrag, DomainError> {
        if cents <= Self::MAX {
            Ok(TotaalBedrag(cents))
        } else {
            Err(DomainError::new(
                "TotaalBedrag",
                "groter dan 999999999999 cent",
            ))
        }
    }
    pub fn cents(&self) -> u64 {
        self.0
    }
}

/// LDT_Volume: 0 – 99 999 999 (cents when Eenheid = 83).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
pub struct Volume(u32);

impl Volume {
    pub const MAX: u64 = 99_999_999;
    pub fn new(v: u64) -> Result<Volume, DomainError> {
        if v <= Self::MAX {
            Ok(Volume(v as u32))
        } else {
            Err(DomainError::new("Volume", "groter dan 99999999"))
        }
    }
    pub fn get(&self) -> u64 {
        u64::from(self.0)
    }
}

/// CDT_BedragMetDC.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct BedragMetDc {
    pub bedrag: Bedrag,
    pub debet_credit: DebetCredit,
}

impl BedragMetDc {
    /// Signed cents: credit is negative.
    pub fn signed(&self) -> i64 {
        sign(self.debet_credit) * self.bedrag.cents() as i64
    }
}

/// CDT_TotaalBedragMetDC.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TotaalBedragMetDc {
    pub totaal_bedrag: TotaalBedrag,
    pub debet_credit: DebetCredit,
}

impl TotaalBedragMetDc {
    pub fn signed(&self) -> i64 {
        sign(self.debet_credit) * self.totaal_bedrag.cents() as i64
    }

    /// From a signed sum: |sum| with D for ≥ 0 (CS325: zero is D) and C for < 0.
    pub fn from_signed(sum: i64) -> Result<TotaalBedragMetDc, DomainError> {
        Ok(TotaalBedragMetDc {
            totaal_bedrag: TotaalBedrag::new(sum.unsigned_abs())?,
            debet_credit: if sum < 0 {
                DebetCredit::Credit
            } else {
                DebetCredit::Debet
            },
        })
    }
}

fn sign(dc: DebetCredit) -> i64 {
    match dc {
        DebetCredit::Debet => 1,
        DebetCredit::Credit => -1,
    }
}

/// Signed cents formatted as euros for people: `€ 1.234,56` / `€ -0,50`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Euro(pub i64);

impl fmt::Display for Euro {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let neg = self.0 < 0;
        let c = self.0.unsigned_abs();
        let euros = (c / 100).to_string();
        let mut grouped = String::new();
        for (i, ch) in euros.chars().enumerate() {
            if i > 0 && (euros.len() - i).is_multiple_of(3) {
                grouped.push('.');
            }
            grouped.push(ch);
        }
        write!(
            f,
            "€ {}{},{:02}",
            if neg { "-" } else { "" },
            grouped,
            c % 100
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_totals() {
        let t = TotaalBedragMetDc::from_signed(-13700).unwrap();
        assert_eq!(t.totaal_bedrag.cents(), 13700);
        assert_eq!(t.debet_credit, DebetCredit::Credit);
        assert_eq!(
            TotaalBedragMetDc::from_signed(0).unwrap().debet_credit,
            DebetCredit::Debet
        );
        assert_eq!(t.signed(), -13700);
    }

    #[test]
    fn euro_format() {
        assert_eq!(Euro(123456).to_string(), "€ 1.234,56");
        assert_eq!(Euro(-50).to_string(), "€ -0,50");
        assert_eq!(Euro(6850).to_string(), "€ 68,50");
    }
}
