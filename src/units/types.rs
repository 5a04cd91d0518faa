//! Value types of the units domain, parsed from input: VIN, model year, mileage.

use crate::error::{AppError, AppResult};

/// A vehicle identification number: 17 characters from `A-H J-N P R-Z 0-9`, stored upper case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vin(String);

impl Vin {
    pub fn parse(raw: &str) -> AppResult<Self> {
        let vin = raw.trim().to_ascii_uppercase();
        if vin.chars().count() != 17 {
            return Err(AppError::bad_input(
                "vin",
                "A VIN has exactly 17 characters.",
            ));
        }
        if let Some(bad) = vin
            .chars()
            .find(|c| !c.is_ascii_alphanumeric() || matches!(c, 'I' | 'O' | 'Q'))
        {
            return Err(AppError::bad_input(
                "vin",
                format!("A VIN uses letters and digits but not I, O or Q; {bad:?} is not allowed."),
            ));
        }
        Ok(Self(vin))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A model year: from 1886 (the first car) to next year.
pub fn year(value: i32, this_year: i32) -> AppResult<i32> {
    if (1886..=this_year + 1).contains(&value) {
        Ok(value)
    } else {
        Err(AppError::bad_input(
            "year",
            format!("Year must be between 1886 and {}.", this_year + 1),
        ))
    }
}

/// Odometer reading: 0 up to ten million.
pub fn mileage(value: i32) -> AppResult<i32> {
    if (0..=10_000_000).contains(&value) {
        Ok(value)
    } else {
        Err(AppError::bad_input(
            "mileage",
            "Mileage must be between 0 and 10,000,000.",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vins_are_17_allowed_characters_stored_upper_case() {
        assert_eq!(
            Vin::parse(" 1hgcm82633a004352 ").expect("ok").into_inner(),
            "1HGCM82633A004352"
        );
        for bad in [
            "1HGCM82633A00435",
            "1HGCM82633A0043521",
            "1HGCM82633I004352",
            "1HGCM82633O004352",
            "1HGCM82633Q004352",
            "1HGCM82633A00435-",
            "",
        ] {
            assert!(Vin::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn years_and_mileage_have_bounds() {
        assert!(year(1886, 2026).is_ok());
        assert!(year(2027, 2026).is_ok());
        assert!(year(1885, 2026).is_err());
        assert!(year(2028, 2026).is_err());
        assert!(mileage(0).is_ok());
        assert!(mileage(-1).is_err());
    }
}
