//! What the function checks about a password before Cognito sees it, and the passwords it
//! makes: the pool's policy with every broken rule listed at once (`policy`), the common-
//! password blocklist (`blocklist`), generated temporary passwords (`generate`), and the
//! admin's stated reason (`reason`). Pure: no I/O, no AWS types; the handler fetches the
//! pool's policy and passes it in.

pub mod blocklist;
pub mod generate;
pub mod policy;
pub mod reason;

pub use blocklist::Blocklist;
pub use generate::{generate, GenerateError, MIN_GENERATED_LENGTH};
pub use policy::{PasswordPolicy, Violation};
pub use reason::{Reason, ReasonError};
