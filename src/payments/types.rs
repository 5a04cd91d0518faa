//! What payments are for and what they add up to.

/// What a payment pays for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Subject {
    Booking(uuid::Uuid),
    Sale(uuid::Uuid),
}

impl Subject {
    pub fn id(self) -> uuid::Uuid {
        match self {
            Self::Booking(id) | Self::Sale(id) => id,
        }
    }

    /// The subject as messages name it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Booking(_) => "Booking",
            Self::Sale(_) => "Sale",
        }
    }
}

/// Where a booking's payments stand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, async_graphql::Enum)]
pub enum BookingPaymentStatus {
    /// Nothing paid (yet).
    Unpaid,
    /// Some paid, less than the price.
    PartiallyPaid,
    /// The price is paid (or there is nothing to pay).
    Paid,
    /// Paid, then refunded in full.
    Refunded,
}

impl BookingPaymentStatus {
    /// The status as the API spells it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Unpaid => "UNPAID",
            Self::PartiallyPaid => "PARTIALLY_PAID",
            Self::Paid => "PAID",
            Self::Refunded => "REFUNDED",
        }
    }
}

/// What a booking's or sale's payments add up to, in cents.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Received and kept: succeeded payments less their refunds.
    pub paid_cents: i64,
    /// Refunded of succeeded payments.
    pub refunded_cents: i64,
    /// Held by online payments the provider has not settled.
    pub pending_cents: i64,
}

impl Totals {
    /// What is left to pay of `price` once the paid and the held amounts are taken off.
    pub fn due_cents(&self, price_cents: i64) -> i64 {
        price_cents - self.paid_cents - self.pending_cents
    }

    /// The payment status of a booking priced `price` (`None`: nothing is charged for it).
    pub fn status(&self, price_cents: Option<i64>) -> BookingPaymentStatus {
        if self.paid_cents <= 0 {
            return match (self.refunded_cents > 0, price_cents) {
                (true, _) => BookingPaymentStatus::Refunded,
                (false, Some(0)) => BookingPaymentStatus::Paid,
                (false, _) => BookingPaymentStatus::Unpaid,
            };
        }
        match price_cents {
            Some(price) if self.paid_cents >= price => BookingPaymentStatus::Paid,
            _ => BookingPaymentStatus::PartiallyPaid,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{BookingPaymentStatus::*, Totals};

    fn totals(paid: i64, refunded: i64) -> Totals {
        Totals {
            paid_cents: paid,
            refunded_cents: refunded,
            pending_cents: 0,
        }
    }

    #[test]
    fn the_status_follows_what_is_paid_and_refunded() {
        assert_eq!(totals(0, 0).status(Some(10_000)), Unpaid);
        assert_eq!(totals(4_000, 0).status(Some(10_000)), PartiallyPaid);
        assert_eq!(totals(10_000, 0).status(Some(10_000)), Paid);
        assert_eq!(totals(6_000, 4_000).status(Some(10_000)), PartiallyPaid);
        assert_eq!(totals(0, 10_000).status(Some(10_000)), Refunded);
        assert_eq!(totals(0, 0).status(Some(0)), Paid);
        assert_eq!(totals(0, 0).status(None), Unpaid);
    }

    #[test]
    fn what_is_held_online_is_not_due_again() {
        let t = Totals {
            paid_cents: 3_000,
            refunded_cents: 0,
            pending_cents: 5_000,
        };
        assert_eq!(t.due_cents(10_000), 2_000);
        assert_eq!(t.status(Some(10_000)), PartiallyPaid);
    }
}
