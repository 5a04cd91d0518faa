//! The event that wakes the push delivery: pushes were queued (on this instance or another).

use serde::{Deserialize, Serialize};

use crate::events::DomainEvent;

/// Pushes were queued: the delivery should look at the queue.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PushQueued;

impl DomainEvent for PushQueued {
    const KIND: &'static str = "push";
    const VERSION: u32 = 1;
}
