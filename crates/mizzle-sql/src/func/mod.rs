//! The scalar function library: name lookup, argument counts, result types
//! and evaluation of MySQL's built-in functions.
//!
//! Invariants:
//! 1. `eval` returns a value whose kind matches `return_type` (or NULL).
//! 2. No function panics on any input; bad input gives NULL with a warning
//!    (as MySQL does in queries) or a [`FuncError`].
//! 3. Time and randomness come from [`FuncCtx`], never from the system.
//!
//! Control-flow functions that must not evaluate every argument (`IF`,
//! `IFNULL`, `COALESCE`, `NULLIF`, `CASE`) are not here: the binder and the
//! evaluator handle them.

use mizzle_types::{DateTime, SqlType, TypeError, Value, Warning};

/// What a function may use besides its arguments.
pub struct FuncCtx<'a> {
    /// The statement's start time (UTC); `NOW()` is constant in a statement.
    pub now: DateTime,
    /// Warnings raised during evaluation.
    pub warnings: &'a mut Vec<Warning>,
    /// State of the session's random generator (splitmix64).
    pub rand_state: &'a mut u64,
}

/// Errors a function call can raise.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FuncError {
    /// A value-level failure (range, conversion).
    #[error(transparent)]
    Type(#[from] TypeError),
    /// Arguments that make no sense for the function.
    #[error("Incorrect arguments to {0}")]
    WrongArguments(&'static str),
}

/// A built-in scalar function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ScalarFunc {
    /// ABS(x)
    Abs,
    /// CONCAT(s, ...)
    Concat,
}

/// Finds a function by its SQL name (case-insensitive, aliases included).
pub fn lookup(name: &str) -> Option<ScalarFunc> {
    Some(match name.to_ascii_lowercase().as_str() {
        "abs" => ScalarFunc::Abs,
        "concat" => ScalarFunc::Concat,
        _ => return None,
    })
}

impl ScalarFunc {
    /// The canonical upper-case name.
    pub fn name(self) -> &'static str {
        match self {
            ScalarFunc::Abs => "ABS",
            ScalarFunc::Concat => "CONCAT",
        }
    }

    /// Minimum and maximum (None = unbounded) argument counts.
    pub fn arity(self) -> (usize, Option<usize>) {
        match self {
            ScalarFunc::Abs => (1, Some(1)),
            ScalarFunc::Concat => (1, None),
        }
    }

    /// True when the result depends only on the arguments.
    pub fn is_deterministic(self) -> bool {
        true
    }

    /// The result type for the given argument types.
    pub fn return_type(self, args: &[SqlType]) -> SqlType {
        match self {
            ScalarFunc::Abs => match args.first() {
                Some(t) if t.is_numeric() => *t,
                _ => SqlType::Double,
            },
            ScalarFunc::Concat => SqlType::LONGTEXT,
        }
    }

    /// Evaluates the function.
    pub fn eval(self, args: &[Value], _ctx: &mut FuncCtx<'_>) -> Result<Value, FuncError> {
        match self {
            ScalarFunc::Abs => Ok(match args.first() {
                None | Some(Value::Null) => Value::Null,
                Some(Value::Int(i)) => match i.checked_abs() {
                    Some(v) => Value::Int(v),
                    None => {
                        return Err(FuncError::Type(TypeError::OutOfRange { ty: "BIGINT", expr: format!("abs({i})") }))
                    }
                },
                Some(Value::UInt(u)) => Value::UInt(*u),
                Some(Value::Decimal(d)) => Value::Decimal(d.abs()),
                Some(Value::Float(f)) => Value::Float(f.abs()),
                Some(v) => Value::Double(v.to_f64().unwrap_or(0.0).abs()),
            }),
            ScalarFunc::Concat => {
                let mut s = String::new();
                for a in args {
                    if a.is_null() {
                        return Ok(Value::Null);
                    }
                    s.push_str(&a.to_text_lossy());
                }
                Ok(Value::text(&s))
            }
        }
    }
}
