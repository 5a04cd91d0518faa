//! Money: `Decimal` at the API (two decimals), integer cents in the database.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use crate::error::{AppError, AppResult};

/// The largest amount we keep: ten billion.
const MAX_CENTS: i64 = 1_000_000_000_000;

/// An amount as cents: at most two decimals, not negative, and greater than zero when `positive`.
pub fn cents(field: &str, value: Decimal, positive: bool) -> AppResult<i64> {
    let label = crate::input::label(field);
    let scaled = value * Decimal::from(100);
    if !scaled.fract().is_zero() {
        return Err(AppError::bad_input(
            field,
            format!("{label} has at most two decimals."),
        ));
    }
    let cents = scaled.to_i64().filter(|c| (0..=MAX_CENTS).contains(c));
    match cents {
        Some(0) if positive => Err(AppError::bad_input(
            field,
            format!("{label} must be greater than zero."),
        )),
        Some(c) => Ok(c),
        None => Err(AppError::bad_input(
            field,
            format!("{label} must be between 0 and 10,000,000,000."),
        )),
    }
}

/// Cents as a `Decimal` with two decimals (`"18500.00"`).
pub fn decimal(cents: i64) -> Decimal {
    Decimal::new(cents, 2)
}

/// `amount × rate` where the rate is in basis points, rounded half up to the cent.
pub fn share(cents: i64, rate_bp: i32) -> i64 {
    let product = i128::from(cents) * i128::from(rate_bp);
    i64::try_from((product + 5_000) / 10_000).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn amounts_have_two_decimals_and_bounds() {
        let d = |s: &str| Decimal::from_str(s).expect("decimal");
        assert_eq!(cents("price", d("18500.5"), true).expect("ok"), 1_850_050);
        assert!(cents("price", d("1.005"), true).is_err());
        assert!(cents("price", d("0"), true).is_err());
        assert_eq!(cents("cost", d("0"), false).expect("ok"), 0);
        assert!(cents("cost", d("-1"), false).is_err());
        assert_eq!(decimal(1_850_050).to_string(), "18500.50");
    }

    #[test]
    fn commission_rounds_half_up_to_the_cent() {
        assert_eq!(share(1_850_000, 200), 37_000);
        assert_eq!(share(25, 200), 1);
        assert_eq!(share(24, 200), 0);
    }
}
