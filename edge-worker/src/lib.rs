//! Placeholder: issue 5.
