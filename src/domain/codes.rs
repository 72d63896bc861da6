//! The iWmo 3.2 code lists as enums (values and meanings from the basisschema).

use std::fmt;

use super::DomainError;

macro_rules! code_list {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $code:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
        pub enum $name { $($(#[$vm])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The code as it appears in a message.
            pub fn code(&self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            pub fn parse(s: &str) -> Result<$name, DomainError> {
                match s {
                    $($code => Ok($name::$variant),)+
                    _ => Err(DomainError::new(stringify!($name), "onbekende code")),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
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
                s.serialize_str(self.code())
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

code_list!(
    /// WJ756 Eenheid.
    Eenheid {
        Minuut = "01",
        Uur = "04",
        Etmaal = "14",
        Dagdeel = "16",
        StuksOutput = "82",
        Euro = "83",
        StuksInspanning = "84",
    }
);

code_list!(
    /// WMO757 Frequentie.
    Frequentie {
        PerDag = "1",
        PerWeek = "2",
        PerMaand = "4",
        TotaalBinnenGeldigheidsduur = "6",
    }
);

code_list!(
    /// WMO020 ProductCategorie.
    ProductCategorie {
        HulpBijHetHuishouden = "01",
        Begeleiding = "02",
        PersoonlijkeVerzorging = "03",
        KortdurendVerblijf = "04",
        Woondiensten = "05",
        OverigeIndividueel = "06",
        Dagbesteding = "07",
        Vervoerdiensten = "08",
        OverigeGroepsgericht = "09",
        OverigeMaatwerkarrangementen = "10",
        Rolstoelen = "11",
        Vervoervoorzieningen = "12",
        Woonvoorzieningen = "13",
        OverigeHulpmiddelen = "14",
        BeschermdWonen = "15",
        Opvang = "16",
        Spoedopvang = "17",
        OverigeBeschermdWonenEnOpvang = "18",
    }
);

impl ProductCategorie {
    /// Hulpmiddelen (11–14) may overlap in time (TR302, OP259).
    pub fn is_hulpmiddel(&self) -> bool {
        matches!(
            self,
            ProductCategorie::Rolstoelen
                | ProductCategorie::Vervoervoorzieningen
                | ProductCategorie::Woonvoorzieningen
                | ProductCategorie::OverigeHulpmiddelen
        )
    }
}

code_list!(
    /// WMO588 RedenBeeindiging.
    RedenBeeindiging {
        Overlijden = "02",
        VolgensPlanBeeindigd = "19",
        TijdelijkBeeindigd = "20",
        EenzijdigDoorClient = "21",
        EenzijdigDoorAanbieder = "22",
        InOvereenstemmingVoortijdig = "23",
        VerhuizingAndereGemeente = "31",
        GeinitieerdDoorGemeente = "36",
        InVerbandMetWijzigingsverzoek = "37",
        OverstapAndereAanbieder = "38",
        UitstroomAnderDomein = "39",
    }
);

impl RedenBeeindiging {
    /// Reden 20 is a temporary stop; every other reason ends delivery definitively.
    pub fn is_tijdelijk(&self) -> bool {
        *self == RedenBeeindiging::TijdelijkBeeindigd
    }
}

code_list!(
    /// WMO002 RedenWijziging.
    RedenWijziging {
        AdministratieveCorrectieVervallen = "01",
        ClientOverleden = "02",
        Contractwijziging = "03",
        HerbeoordelingVerlenging = "04",
        HerbeoordelingVerkorting = "05",
        UitstroomAnderDomein = "06",
        VerhuizingAndereGemeente = "07",
        WijzigingLeveringsvorm = "08",
        OverstapAndereAanbieder = "09",
        NieuweBekostigingssystematiek = "10",
        GemeentelijkeHerindeling = "11",
        GeinitieerdDoorAanbieder = "12",
        Verwijderd = "13",
        AdministratieveCorrectie = "14",
    }
);

code_list!(
    /// COD467 StatusAanlevering.
    StatusAanlevering {
        EersteAanlevering = "1",
        GewijzigdeAanlevering = "2",
        VerwijderenAanlevering = "3",
        NietVanToepassing = "9",
    }
);

code_list!(
    /// COD046 Geslacht.
    Geslacht {
        Onbekend = "0",
        Man = "1",
        Vrouw = "2",
    }
);

code_list!(
    /// COD170 DatumGebruik.
    DatumGebruik {
        DagOnbekend = "1",
        DagEnMaandOnbekend = "2",
        GeheelOnbekend = "3",
    }
);

code_list!(
    /// COD700 NaamGebruik.
    NaamGebruik {
        EigenNaam = "1",
        NaamPartner = "2",
        PartnerEnEigen = "3",
        EigenEnPartner = "4",
        Pseudoniem = "5",
        OnbekendOfNvt = "6",
    }
);

code_list!(
    /// COD043 DebetCredit.
    DebetCredit {
        Credit = "C",
        Debet = "D",
    }
);

code_list!(
    /// WJ001 RetourCode: all 59 values of iWmo 3.2.
    RetourCode {
        R0001 = "0001", R0200 = "0200", R0233 = "0233", R0611 = "0611", R8001 = "8001",
        R8017 = "8017", R8021 = "8021", R8187 = "8187", R8214 = "8214", R8848 = "8848",
        R9019 = "9019", R9056 = "9056", R9063 = "9063", R9069 = "9069", R9071 = "9071",
        R9074 = "9074", R9307 = "9307", R9308 = "9308", R9319 = "9319", R9321 = "9321",
        R9322 = "9322", R9326 = "9326", R9332 = "9332", R9333 = "9333", R9338 = "9338",
        R9339 = "9339", R9340 = "9340", R9341 = "9341", R9346 = "9346", R9347 = "9347",
        R9349 = "9349", R9350 = "9350", R9351 = "9351", R9355 = "9355", R9357 = "9357",
        R9359 = "9359", R9360 = "9360", R9361 = "9361", R9365 = "9365", R9366 = "9366",
        R9367 = "9367", R9369 = "9369", R9373 = "9373", R9374 = "9374", R9375 = "9375",
        R9379 = "9379", R9384 = "9384", R9385 = "9385", R9387 = "9387", R9388 = "9388",
        R9389 = "9389", R9390 = "9390", R9411 = "9411", R9412 = "9412", R9413 = "9413",
        R9414 = "9414", R9415 = "9415", RS300 = "S300", RS329 = "S329",
    }
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::schema::tables::RETOUR_CODE_DOCS;

    #[test]
    fn retour_codes_match_the_xsd_enumeration() {
        assert_eq!(RetourCode::ALL.len(), 59);
        let ours: Vec<&str> = RetourCode::ALL.iter().map(|c| c.code()).collect();
        let xsd: Vec<&str> = RETOUR_CODE_DOCS.iter().map(|(c, _)| *c).collect();
        assert_eq!(ours, xsd);
    }

    #[test]
    fn code_lists_match_the_xsd() {
        use crate::message::schema::tables::SIMPLE_TYPES;
        let check = |name: &str, ours: Vec<&str>| {
            let st = SIMPLE_TYPES.iter().find(|s| s.name == name).unwrap();
            assert_eq!(st.enumeration, &ours[..], "{name}");
        };
        check(
            "LDT_Eenheid",
            Eenheid::ALL.iter().map(|c| c.code()).collect(),
        );
        check(
            "LDT_Frequentie",
            Frequentie::ALL.iter().map(|c| c.code()).collect(),
        );
        check(
            "LDT_ProductCategorie",
            ProductCategorie::ALL.iter().map(|c| c.code()).collect(),
        );
        check(
            "LDT_RedenBeeindiging",
            RedenBeeindiging::ALL.iter().map(|c| c.code()).collect(),
        );
        check(
            "LDT_RedenWijziging",
            RedenWijziging::ALL.iter().map(|c| c.code()).collect(),
        );
        check(
            "LDT_StatusAanlevering",
            StatusAanlevering::ALL.iter().map(|c| c.code()).collect(),
        );
        check(
            "LDT_Geslacht",
            Geslacht::ALL.iter().map(|c| c.code()).collect(),
        );
        check(
            "LDT_DatumGebruik",
            DatumGebruik::ALL.iter().map(|c| c.code()).collect(),
        );
        check(
            "LDT_NaamGebruik",
            NaamGebruik::ALL.iter().map(|c| c.code()).collect(),
        );
        check(
            "LDT_DebetCredit",
            DebetCredit::ALL.iter().map(|c| c.code()).collect(),
        );
    }
}
