//! Placeholder: the runner is being written.
